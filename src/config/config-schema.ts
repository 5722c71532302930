import { z } from 'zod';
import { parseDuration } from '../lib/duration.ts';
import { Phases } from '../engine/playbook-types.ts';

/**
 * firebreak.yaml, defined once: validation, types, the JSON Schema
 * (docs/firebreak.schema.json) and the reference documentation all come from
 * this definition. Objects are strict: an unknown key (a typo) is an error.
 */

const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const id = (what: string) => z.string().regex(ID, `${what} must be lower-case letters, digits, "-" or "_" (at most 63, starting with a letter or digit)`);

/** `env:NAME`, `file:/abs/path`, `vault:mount/path#key`, or (lab only) `{ value: … }`. */
export const credentialRef = z.union([
  z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S+|vault:[^#\s]+#\S+)$/, 'must be a reference: env:NAME, file:/absolute/path or vault:mount/path#key'),
  z.strictObject({ value: z.string().min(1).describe('Inline secret: only allowed in a lab configuration (lab: true).') }),
]).describe('A credential reference: env:NAME, file:/absolute/path or vault:mount/path#key. Inline values only in the lab.');
export type CredentialRef = z.infer<typeof credentialRef>;

const url = z.string().refine((v) => { try { return ['http:', 'https:'].includes(new URL(v).protocol); } catch { return false; } }, 'must be an http(s) URL');
const endpoint = {
  url: url.describe('Base URL of the API.'),
  insecure: z.boolean().optional().describe('Allow plain http or skip TLS verification for this endpoint (shown as a warning).'),
  caFile: z.string().optional().describe('PEM file of the CA that signed this endpoint\'s TLS certificate.'),
};

export const executorSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('local') }),
  z.strictObject({
    kind: z.literal('ssh'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1),
    privateKey: credentialRef.describe('The SSH private key (OpenSSH or PEM), as a credential reference.'),
    hostKey: z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$|^SHA256:[A-Za-z0-9+/=]{43}$/, 'must be the pinned host key ("ssh-ed25519 AAAA…") or its SHA256: fingerprint').describe('Pinned host key: the connection is refused when the server presents another.'),
  }),
  z.strictObject({
    kind: z.literal('compose'),
    projectDir: z.string().min(1).describe('Directory of the docker compose project on the host.'),
    service: z.string().min(1).describe('Service (container) the commands run in.'),
    via: z.string().optional().describe('Executor of the host that runs docker compose (default: local).'),
  }),
  z.strictObject({
    kind: z.literal('lab-wireguard'),
    stateFile: z.string().min(1).describe('JSON state of the simulated interfaces.'),
    confDir: z.string().min(1).describe('Where `wg-quick save` writes <interface>.conf.'),
  }).describe('The lab\'s WireGuard host stand-in (lab configurations only).'),
]).describe('Where commands for a host run.');

export const restartSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('compose'), projectDir: z.string().min(1), service: z.string().min(1), executor: z.string().optional() }),
  z.strictObject({ kind: z.literal('systemd'), unit: z.string().regex(/^[A-Za-z0-9@._:-]+$/, 'must be a systemd unit name'), executor: z.string().optional() }),
  z.strictObject({ kind: z.literal('command'), argv: z.array(z.string()).min(1), executor: z.string().optional() }),
]).describe('How the service consuming a credential is restarted.');

const stepCa = z.strictObject({
  ...endpoint,
  rootCertFile: z.string().optional().describe('PEM of the CA root that signs the CA\'s TLS certificate.'),
  caCertFile: z.string().optional().describe('PEM of this CA\'s own (intermediate / Sub-CA) certificate.'),
  provisioner: z.string().min(1).describe('Name of the JWK provisioner used to mint one-time tokens.'),
  provisionerPassword: credentialRef.describe('Password that decrypts the JWK provisioner\'s key.'),
  offline: z.boolean().optional().describe('A CA kept offline (no API): steps that need it stop at an approval with manual instructions.'),
}).describe('A step-ca certificate authority.');

const basicAuthService = (what: string) => z.strictObject({ ...endpoint, username: z.string().min(1), password: credentialRef }).describe(what);

const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'must be a duration such as 5m, 2h, 90s or 1h30m');
const roleName = z.string().min(1).max(63);
const timescaledb = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(5432),
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

const wireguard = z.strictObject({
  interface: z.string().regex(/^[A-Za-z0-9_=+.-]{1,15}$/, 'must be a Linux interface name (1-15 of A-Z a-z 0-9 _ = + . -)'),
  executor: z.string().default('local').describe('Executor of the host the interface is on.'),
  peersJson: z.strictObject({
    path: z.string().min(1).describe('Path of cdm_peers.json.'),
    executor: z.string().optional().describe('Executor where the file lives (e.g. the iot-bridge-api container).'),
  }).optional(),
  persist: z.enum(['wg-quick-save', 'config-file']).default('wg-quick-save'),
  configFile: z.string().optional().describe('The interface\'s .conf file (persist: config-file).'),
}).describe('The tenant\'s WireGuard gateway.');

const stack = {
  stepCa: stepCa.optional(),
  keycloak: z.strictObject({ ...endpoint, realm: z.string().min(1).default('cdm'), adminUser: z.string().min(1), adminPassword: credentialRef }).optional(),
  timescaledb: timescaledb.optional(),
};

const subCa = z.strictObject({
  executor: z.string().default('local').describe('Executor of the host the tenant CA runs on (its files live there; its new key is generated there).'),
  certFile: z.string().min(1).describe('The tenant CA\'s intermediate certificate (PEM, with its chain), e.g. /srv/tenant-stack/step/certs/intermediate_ca.crt.'),
  keyFile: z.string().min(1).describe('The intermediate\'s private key file, e.g. /srv/tenant-stack/step/secrets/intermediate_ca_key.'),
  restart: restartSchema.describe('How the tenant CA is restarted to load a new certificate and key.'),
  reenroll: z.strictObject({
    concurrency: z.number().int().min(1).max(1000).default(16).describe('Devices re-enrolling at once.'),
    timeout: duration.default('2m').describe('How long a device has to enroll once it got its one-time token.'),
    pollInterval: duration.default('2s').describe('How often its reported certificate is checked meanwhile.'),
  }).default({ concurrency: 16, timeout: '2m', pollInterval: '2s' }),
}).describe('The tenant Sub-CA\'s own certificate and key (subca-compromise).');

export const tenantSchema = z.strictObject({
  ...stack,
  subCa: subCa.optional(),
  wireguard: wireguard.optional(),
  thingsboard: basicAuthService('ThingsBoard (tenant administrator login).').optional(),
  hawkbit: basicAuthService('Eclipse hawkBit Management API (basic auth).').optional(),
  test: z.boolean().default(false).describe('A test tenant: excluded from fan-outs over tenants.'),
  contacts: z.strictObject({ emails: z.array(z.email()).default([]), webhook: url.optional() }).optional(),
}).describe('One tenant stack.');

export const providerSchema = z.strictObject({
  ...stack,
  vault: z.strictObject({ ...endpoint, token: credentialRef }).optional(),
  dns: z.strictObject({ kind: z.literal('powerdns'), ...endpoint, apiKey: credentialRef, serverId: z.string().default('localhost'), zone: z.string().min(1) }).optional(),
  smtp: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(587), secure: z.boolean().default(false), username: z.string().optional(), password: credentialRef.optional(), from: z.email() }).optional(),
}).describe('The provider stack.');

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
});

export type FirebreakConfig = z.infer<typeof configSchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ExecutorConfig = z.infer<typeof executorSchema>;
export type RestartConfig = z.infer<typeof restartSchema>;
