import { z } from 'zod';
import { credentialRef, endpoint } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';

export const dnsSchema = z.strictObject({ kind: z.literal('powerdns'), ...endpoint, apiKey: credentialRef, serverId: z.string().default('localhost'), zone: z.string().min(1) });

/** The provider's DNS (PowerDNS API, provider only): schema, probe and credentials only; no client yet. */
export const dnsConnector = defineConnector({
  id: 'dns',
  configKey: 'dns',
  scopes: ['provider'],
  schema: dnsSchema,
  probe: (c, ctx) => httpProbe('dns', c.url, '', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ apiKey: c.apiKey }),
});
