import { z } from 'zod';
import { credentialRef, endpoint } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';
import type { PowerDnsClient } from './powerdns-client.ts';

export const dnsSchema = z.strictObject({ kind: z.literal('powerdns'), ...endpoint, apiKey: credentialRef, serverId: z.string().default('localhost'), zone: z.string().min(1) });

/** The provider's DNS (PowerDNS Authoritative's HTTP API, provider only): where tenants' DKIM keys are published. */
export const dnsConnector = defineConnector({
  id: 'dns',
  configKey: 'dns',
  scopes: ['provider'],
  schema: dnsSchema,
  async create(c, ctx): Promise<PowerDnsClient> {
    const { createPowerDnsClient } = await import('./powerdns-client.ts');
    return createPowerDnsClient({ url: c.url, apiKey: await ctx.credential(c.apiKey, 'apiKey'), serverId: c.serverId, ...tlsOption(c, ctx.where) }, { logger: ctx.log });
  },
  probe: (c, ctx) => httpProbe('dns', c.url, '', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ apiKey: c.apiKey }),
});
