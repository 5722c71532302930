import { basicAuthService } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';
import type { HawkbitClient } from './hawkbit-client.ts';

/** Eclipse hawkBit's Management API: the tenant's update targets. */
export const hawkbitConnector = defineConnector({
  id: 'hawkbit',
  configKey: 'hawkbit',
  scopes: ['tenant'],
  schema: basicAuthService('Eclipse hawkBit Management API (basic auth).'),
  async create(c, ctx): Promise<HawkbitClient> {
    const { createHawkbitClient } = await import('./hawkbit-client.ts');
    return createHawkbitClient({ url: c.url, username: c.username, password: await ctx.credential(c.password, 'password'), ...tlsOption(c, ctx.where) }, { logger: ctx.log });
  },
  probe: (c, ctx) => httpProbe('hawkbit', c.url, '', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ password: c.password }),
});
