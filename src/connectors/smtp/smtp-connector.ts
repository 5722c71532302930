import { z } from 'zod';
import { credentialRef, port } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { tcpProbe } from '../connector-probe.ts';

export const smtpSchema = z.strictObject({ host: z.string().min(1), port: port(587), secure: z.boolean().default(false), username: z.string().optional(), password: credentialRef.optional(), from: z.email() });

/** The provider's mail relay (provider only): schema, probe and credentials only; no client yet. */
export const smtpConnector = defineConnector({
  id: 'smtp',
  configKey: 'smtp',
  scopes: ['provider'],
  schema: smtpSchema,
  probe: (c, ctx) => tcpProbe(c.host, c.port, ctx),
  credentials: (c) => needs({ password: c.password }),
});
