import { basicAuthService } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';
import type { ThingsboardClient } from './thingsboard-client.ts';

/** ThingsBoard: the tenant's device inventory and the channel to its devices (shared attributes). */
export const thingsboardConnector = defineConnector({
  id: 'thingsboard',
  configKey: 'thingsboard',
  scopes: ['tenant'],
  schema: basicAuthService('ThingsBoard (tenant administrator login).'),
  async create(c, ctx): Promise<ThingsboardClient> {
    const { createThingsboardClient } = await import('./thingsboard-client.ts');
    return createThingsboardClient({ url: c.url, username: c.username, password: await ctx.credential(c.password, 'password'), ...tlsOption(c, ctx.where) }, { logger: ctx.log });
  },
  probe: (c, ctx) => httpProbe('thingsboard', c.url, '', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ password: c.password }),
});
