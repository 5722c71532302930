import { z } from 'zod';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { credentialRef, duration, endpoint } from '../connector-schema.ts';
import { restartSchema } from '../restart/restart-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';
import type { VaultClient } from './vault-client.ts';

const holderSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be a key holder\'s name (letters, digits, . _ @ -; at most 64)')
    .describe('Who holds the share: the name they give to `firebreak vault share --as`.'),
  pgpKey: z.string().min(1).describe('Path to the holder\'s OpenPGP public key (armored or binary): their new share is encrypted to it, so only they can read it.'),
});

const rekeySchema = z.strictObject({
  holders: z.array(holderSchema).min(1).max(255).describe('One new share per holder (Vault\'s secret_shares is their number).'),
  threshold: z.number().int().min(1).max(255).default(3).describe('Shares needed to unseal after the rekey (secret_threshold; default 3).'),
}).superRefine((r, ctx) => {
  if (r.threshold > r.holders.length) ctx.addIssue({ code: 'custom', path: ['threshold'], message: `threshold ${r.threshold} is more than the ${r.holders.length} holder(s): nobody could unseal` });
  if (r.holders.length > 1 && r.threshold < 2) ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'with several holders the threshold must be at least 2 (Vault refuses 1)' });
  const seen = new Set<string>();
  r.holders.forEach((h, i) => {
    if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: ['holders', i, 'name'], message: `holder "${h.name}" is listed twice` });
    seen.add(h.name);
  });
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A service that logs in to Vault with AppRole: where its secret_id lives, how it is restarted. */
const appRoleServiceSchema = z.strictObject({
  mount: z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be an auth mount path such as approle').default('approle').describe('The AppRole auth mount the service logs in through.'),
  role: z.string().regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'must be an AppRole role name').describe('The AppRole role the service logs in as.'),
  executor: z.string().default('local').describe('Executor of the host where the .env file lives and the service runs.'),
  envFile: z.string().min(1).describe('The .env file the service reads its secret_id from.'),
  variable: envName.default('VAULT_SECRET_ID').describe('The variable holding the secret_id.'),
  roleIdVariable: envName.default('VAULT_ROLE_ID').describe('The variable holding the role_id (read, never changed: recovery keeps each role_id).'),
  vaultPath: z.string().regex(/^[^#\s]+#[A-Za-z0-9_.-]+$/, 'must be mount/path#key, e.g. secret/services/billing#secret_id').optional()
    .describe('Also store the secret_id in Vault KV (a new version) for services that fetch it from there (e.g. through a response-wrapping broker).'),
  restart: restartSchema,
  loginTimeout: duration.default('60s').describe('How long to wait for the restarted service to log in with the new secret_id.'),
});

export const vaultSchema = z.strictObject({
  ...endpoint,
  token: credentialRef,
  namespace: z.string().min(1).optional().describe('Vault Enterprise namespace, sent as X-Vault-Namespace (e.g. "ops/").'),
  disableAuth: z.array(z.string().regex(/^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/, 'must be an auth mount path such as approle or ci/github')
    .refine((v) => v.replace(/^\/|\/$/g, '') !== 'token', 'the token auth method cannot be disabled (Vault refuses it)'))
    .min(1).optional()
    .describe('Auth mounts that the vault-breach playbook disables during containment (default: approle and jwt). Each must be listed by sys/auth when the playbook plans; its configuration and roles are recorded first and restored in recovery.'),
  rekey: rekeySchema.optional()
    .describe('The rekey ceremony of vault-breach: who holds the new unseal shares (one share each, encrypted to their OpenPGP key) and how many of them unseal.'),
  services: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a service name (letters, digits, . _ -)'), appRoleServiceSchema).default({})
    .describe('The services that log in with AppRole: disabling their mount destroys every secret_id, so vault-breach\'s recovery issues each a new one, writes it to its .env (and vaultPath), restarts it and waits for its login.'),
});
export type VaultSettings = z.output<typeof vaultSchema>;

/** HashiCorp Vault (provider only): the client of CONTRACTS.md §2, probed through `sys/health`. */
export const vaultConnector = defineConnector({
  id: 'vault',
  configKey: 'vault',
  scopes: ['provider'],
  schema: vaultSchema,
  async create(c, ctx): Promise<VaultClient> {
    const { createVaultClient } = await import('./vault-client.ts');
    return createVaultClient({ url: c.url, token: await ctx.credential(c.token, 'token'), ...(c.namespace === undefined ? {} : { namespace: c.namespace }), ...tlsOption(c, ctx.where) }, { logger: ctx.log });
  },
  probe: (c, ctx) => httpProbe('vault', c.url, 'v1/sys/health', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ token: c.token }),
});

/**
 * Reads `vault:mount/path#key` through the configured Vault (provider.vault): `token` resolves
 * Vault's own token (an env: or file: reference: loading refuses a vault: one). Each read opens
 * a client and closes it: nothing is cached, neither the value nor the mount's KV version, so a
 * rotated secret is seen by the next read. Errors name `where` and the reference, never a value.
 */
export function vaultReader(config: VaultSettings, where: string, token: () => Promise<Secret>): (mountPath: string, key: string) => Promise<Secret> {
  return async (mountPath, key) => {
    let client: VaultClient | undefined;
    try {
      // Loaded on first use: configuration loading and check without vault: references never load the client.
      const { createVaultClient } = await import('./vault-client.ts');
      client = createVaultClient({ url: config.url, token: await token(), ...(config.namespace === undefined ? {} : { namespace: config.namespace }), ...tlsOption(config, 'provider.vault') });
      return await client.readReference(mountPath, key);
    } catch (err) {
      if (!(err instanceof FirebreakError)) throw err;
      throw new FirebreakError(err.code, `${where}: ${err.message}`, { cause: err, retryable: err.retryable, ...(err.details === undefined ? {} : { details: err.details }), ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }) });
    } finally {
      await client?.close();
    }
  };
}
