import { z } from 'zod';
import { credentialRef, duration, port } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { tcpProbe } from '../connector-probe.ts';
import { restartSchema } from '../restart/restart-schema.ts';
import type { PostgresClient } from './postgres-client.ts';

const roleName = z.string().min(1).max(63);

export const timescaledbSchema = z.strictObject({
  host: z.string().min(1),
  port: port(5432),
  database: z.string().min(1),
  adminUser: z.string().min(1),
  adminPassword: credentialRef,
  sslmode: z.enum(['disable', 'require', 'verify-full']).default('verify-full'),
  roles: z.record(roleName, z.strictObject({
    envFile: z.string().min(1).describe('The .env file that holds the role\'s password.'),
    variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
    applicationName: z.string().optional().describe('application_name the consuming service connects with (to see it reconnect).'),
    executor: z.string().default('local').describe('Executor of the host where the .env file lives and the service runs.'),
    restart: restartSchema,
    passwordLength: z.number().int().min(32).max(128).default(40).describe('Length of generated passwords (ASCII letters, digits, "-" and "_").'),
    reconnectTimeout: duration.default('60s').describe('How long to wait for the service to reconnect with the new password.'),
    rollback: z.boolean().default(false).describe('When verification fails, put the previous .env back (the database keeps the new password).'),
  })).default({}),
}).describe('A TimescaleDB (PostgreSQL) database and the roles Firebreak may rotate.');

/** TimescaleDB / PostgreSQL, through its admin role (db-credential-leak rotates the roles listed). */
export const timescaledbConnector = defineConnector({
  id: 'timescaledb',
  configKey: 'timescaledb',
  scopes: ['provider', 'tenant'],
  schema: timescaledbSchema,
  async create(c, ctx): Promise<PostgresClient> {
    // pg is loaded when a playbook connects, not by every command that reads the configuration.
    const { createPostgresClient } = await import('./postgres-client.ts');
    const ssl = c.sslmode === 'disable' ? false as const : { rejectUnauthorized: c.sslmode === 'verify-full' };
    return createPostgresClient({ host: c.host, port: c.port, database: c.database, adminUser: c.adminUser, adminPassword: await ctx.credential(c.adminPassword, 'adminPassword'), ssl });
  },
  probe: (c, ctx) => tcpProbe(c.host, c.port, ctx),
  credentials: (c) => needs({ adminPassword: c.adminPassword }),
});
