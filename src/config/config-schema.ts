import { z } from 'zod';
import { Phases } from '../engine/playbook-types.ts';
import { duration, url } from '../connectors/connector-schema.ts';
import { executorSchema, stackShape } from '../connectors/registry.ts';

/**
 * firebreak.yaml, defined once: validation, types, the JSON Schema
 * (docs/firebreak.schema.json) and the reference documentation all come from
 * this definition. Objects are strict: an unknown key (a typo) is an error.
 */

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const id = (what: string) => z.string().regex(ID, `${what} must be lower-case letters, digits, "-" or "_" (at most 63, starting with a letter or digit)`);

export { credentialRef, type CredentialRef } from '../connectors/connector-schema.ts';
export { restartSchema, type RestartConfig } from '../connectors/restart/restart-schema.ts';
export { executorSchema, type ExecutorConfig } from '../connectors/registry.ts';

// Each system's part of a stack is its connector definition's schema (src/connectors/<system>/<system>-connector.ts),
// assembled here from the registry: one definition per system feeds validation, types, the JSON Schema and `check`.
export const tenantSchema = z.strictObject({
  ...stackShape('tenant'),
  test: z.boolean().default(false).describe('A test tenant: excluded from fan-outs over tenants.'),
  contacts: z.strictObject({ emails: z.array(z.email()).default([]), webhook: url.optional() }).optional(),
}).describe('One tenant stack.');

export const providerSchema = z.strictObject(stackShape('provider')).describe('The provider stack.');

/** `firebreak assess vault-audit` and the vault-breach assessment (docs/assess.md). */
export const vaultAuditSchema = z.strictObject({
  logs: z.array(z.string().min(1)).default([]).describe('The audit log files the vault-breach assessment reads (the file audit device\'s file_path, rotated .gz files too), relative to this file.'),
  window: duration.default('24h').describe('How far back the vault-breach assessment looks.'),
  tenantPaths: z.array(z.string().regex(/^[^{}]*\{tenant\}[^{}]*$/, 'must name {tenant} exactly once (e.g. secret/data/tenants/{tenant}/*)')).default(['secret/data/tenants/{tenant}/*', 'secret/metadata/tenants/{tenant}/*', 'api_keys/{tenant}/*'])
    .describe('Where a tenant\'s secrets are, on the full path: {tenant} is one segment, a trailing * any rest.'),
  testTenants: z.array(z.string().min(1)).default([]).describe('Tenants never counted as affected (besides tenants with test: true).'),
  widespreadAbove: z.number().int().min(0).default(10).describe('More affected tenants than this: the breach is widespread.'),
  allowedNetworks: z.array(z.string().min(1)).default([]).describe('Networks (CIDR) requests may come from; a request from elsewhere is suspicious. Empty: not checked.'),
  kvMounts: z.array(z.string().regex(/^[^/].*\/$/, 'must be a mount path ending in / (e.g. secret/)')).default([]).describe('KV mounts; empty: taken from the entries (mount_type, mount_point) and the paths.'),
});

export const configSchema = z.strictObject({
  version: z.literal(1, { error: (iss) => (iss.input === undefined ? 'is required' : 'must be 1 (the only format version)') }).describe('Format version of this file.'),
  lab: z.boolean().default(false).describe('A lab configuration (written by `firebreak drill`): inline credentials and plain http allowed. Honoured only together with labConfigFile.'),
  labConfigFile: z.string().optional().describe('Written by `firebreak drill` beside lab: true: the absolute path of this very file. lab: true is refused without it, or in a copy of the file elsewhere.'),
  stateDir: z.string().default('.firebreak').describe('Journal database, keys and evidence (relative to this file).'),
  journalKeyFile: z.string().optional().describe('AES-256 key sealing generated secrets in the journal (default <stateDir>/journal.key, created 0600). $FIREBREAK_JOURNAL_KEY overrides it.'),
  approvals: z.strictObject({
    twoPersonRule: z.boolean().default(false).describe('The approver must differ from the initiator; --yes is refused.'),
    automatic: z.record(z.string(), z.array(z.string().min(1))).default({}).describe('Per playbook, the steps applied as automatic containment before the plan is approved (shown as such in the plan; a rejection compensates them). Only reversible steps with a compensation qualify.'),
  }).default({ twoPersonRule: false, automatic: {} }),
  engine: z.strictObject({
    concurrency: z.number().int().min(1).max(1000).default(8).describe('Default fan-out concurrency.'),
    rateLimits: z.record(z.string(), z.number().positive()).default({}).describe('Requests per second per target system (step-ca, thingsboard, …).'),
  }).default({ concurrency: 8, rateLimits: {} }),
  audit: z.strictObject({
    signingKeyFile: z.string().optional().describe('Ed25519 key signing checkpoints (default <stateDir>/audit-signing.key, created 0600).'),
    anchorFile: z.string().optional().describe('Latest signed checkpoint kept outside the database (default <stateDir>/audit.anchor).'),
    checkpointEvery: z.number().int().min(1).default(1000),
  }).default({ checkpointEvery: 1000 }),
  executors: z.record(id('executor name'), executorSchema).default({}).describe('Named executors; `local` always exists.'),
  provider: providerSchema.optional(),
  tenants: z.record(id('tenant id'), tenantSchema).default({}),
  rto: z.record(z.string(), z.partialRecord(z.enum(Phases), duration)).default({}).describe('Per playbook, per phase RTO targets overriding the playbook\'s defaults.'),
  assess: z.strictObject({ vaultAudit: vaultAuditSchema.default(vaultAuditSchema.parse({})) }).default({ vaultAudit: vaultAuditSchema.parse({}) }).describe('Breach assessment from audit logs (docs/assess.md).'),
});

export type FirebreakConfig = z.infer<typeof configSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
