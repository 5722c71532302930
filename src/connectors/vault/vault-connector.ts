import { z } from 'zod';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { credentialRef, endpoint } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { tlsOption } from '../connector-tls.ts';

export const vaultSchema = z.strictObject({ ...endpoint, token: credentialRef });
export type VaultSettings = z.output<typeof vaultSchema>;

/** Why a `vault:` reference cannot be resolved today, even with provider.vault configured. */
export const VAULT_NOT_BUILT = 'vault: references cannot be resolved yet: the Vault connector is not built (issue 10)';

/**
 * HashiCorp Vault (provider only): schema, probe and credentials only. No
 * client yet, so `create` is absent and `vault:` credential references are
 * refused with {@link VAULT_NOT_BUILT} by {@link vaultReader}; the Vault
 * connector (issue 10) replaces that function with a KV read.
 */
export const vaultConnector = defineConnector({
  id: 'vault',
  configKey: 'vault',
  scopes: ['provider'],
  schema: vaultSchema,
  probe: (c, ctx) => httpProbe('vault', c.url, 'v1/sys/health', () => tlsOption(c, ctx.where), ctx),
  credentials: (c) => needs({ token: c.token }),
});

/** Reads `vault:mount/path#key` through the configured Vault. Until the connector exists: a clear refusal, never a silent pass. */
export function vaultReader(config: VaultSettings, where: string): (mountPath: string, key: string) => Promise<Secret> {
  const origin = new URL(config.url).origin;
  return (mountPath, key) => Promise.reject(new FirebreakError('SECRET_UNAVAILABLE', `${where}: vault:${mountPath}#${key} is to be resolved through Vault at ${origin} (provider.vault), but ${VAULT_NOT_BUILT}`, { retryable: false }));
}
