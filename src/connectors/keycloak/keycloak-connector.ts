import { z } from 'zod';
import { credentialRef, endpoint } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';

export const keycloakSchema = z.strictObject({ ...endpoint, realm: z.string().min(1).default('cdm'), adminUser: z.string().min(1), adminPassword: credentialRef });

/** Keycloak: schema, probe and credentials only. No client yet (no playbook acts on it), so `create` is absent. */
export const keycloakConnector = defineConnector({
  id: 'keycloak',
  configKey: 'keycloak',
  scopes: ['provider', 'tenant'],
  schema: keycloakSchema,
  probe: (c, ctx) => httpProbe('keycloak', c.url, '', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ adminPassword: c.adminPassword }),
});
