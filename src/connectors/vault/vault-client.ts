import { FirebreakError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Secret } from '../../lib/secret.ts';
import { vaultAuth } from './vault-auth.ts';
import { createVaultTransport, type VaultClientConfig } from './vault-http.ts';
import { vaultKv, type KvData } from './vault-kv.ts';
import { vaultGenerateRoot, vaultRekey, vaultSys } from './vault-sys.ts';

export type { VaultClientConfig } from './vault-http.ts';
export { isVaultSealed, vaultReasonOf, vaultPath, type VaultErrorReason } from './vault-http.ts';
export { decodeRootToken, type VaultHealth, type VaultHealthState, type SealStatus, type InitRequest, type InitResult, type RekeyStatus, type RekeyInitRequest, type RekeyUpdate, type RekeyVerifyStatus, type RekeyVerifyUpdate, type GenerateRootStatus, type KeyStatus, type VaultMount, type AuditDevice } from './vault-sys.ts';
export { RoleKinds, type RoleKind, type AuthMethodSpec, type TokenInfo } from './vault-auth.ts';
export type { KvData, KvInput, KvLocation, KvMetadata, KvV2Read, KvVersionMetadata } from './vault-kv.ts';

/**
 * HashiCorp Vault's HTTP API, the operations the playbooks use (CONTRACTS.md §2), in groups:
 * `sys` (health, seal, unseal, init, rotate, key status, mounts, audit), `rekey`,
 * `generateRoot`, `auth` (auth methods, their roles, tokens, revoke-prefix) and `kv` (v1, v2,
 * and where a path lives). Every error is a FirebreakError whose `details.vault` says what
 * Vault meant ({@link isVaultSealed}); the token is sent only as `X-Vault-Token` and never
 * appears in a message.
 */
export interface VaultClient {
  readonly sys: ReturnType<typeof vaultSys>;
  readonly rekey: ReturnType<typeof vaultRekey>;
  readonly generateRoot: ReturnType<typeof vaultGenerateRoot>;
  readonly auth: ReturnType<typeof vaultAuth>;
  readonly kv: ReturnType<typeof vaultKv>;
  /**
   * Reads the key of a credential reference `vault:<mountPath>#<key>`: the mount and its KV
   * version found as the CLI does ({@link VaultClient.kv}.locate), then the secret. Errors name
   * the reference, never a value; a deleted version is said to be deleted, with when.
   */
  readReference(mountPath: string, key: string, signal?: AbortSignal): Promise<Secret>;
  close(): Promise<void>;
}

export function createVaultClient(config: VaultClientConfig, deps: { logger?: Logger } = {}): VaultClient {
  const t = createVaultTransport(config, deps);
  const kv = vaultKv(t);

  async function readReference(mountPath: string, key: string, signal?: AbortSignal): Promise<Secret> {
    const ref = `vault:${mountPath}#${key}`;
    const unavailable = (why: string) => new FirebreakError('SECRET_UNAVAILABLE', `${ref}: ${why}`, { details: { system: 'vault' } });
    try {
      const loc = await kv.locate(mountPath, signal);
      if (loc.path === '') throw unavailable(`names the mount ${loc.mount} itself, not a secret in it`);
      let data: KvData;
      if (loc.version === 2) {
        const read = await kv.v2.read(loc.mount, loc.path, {}, signal);
        if (read === null) throw unavailable(`there is no secret ${loc.path} in the KV v2 mount ${loc.mount}`);
        if (read.state === 'deleted') throw unavailable(`the latest version (${read.metadata.version}) of ${loc.path} in ${loc.mount} was deleted at ${read.deletionTime}`);
        if (read.state === 'destroyed') throw unavailable(`the latest version (${read.metadata.version}) of ${loc.path} in ${loc.mount} was destroyed`);
        data = read.data;
      } else {
        const read = await kv.v1.read(loc.mount, loc.path, signal);
        if (read === null) throw unavailable(`there is no secret ${loc.path} in the KV v1 mount ${loc.mount}`);
        data = read;
      }
      const value = Object.hasOwn(data, key) ? data[key] : undefined;
      if (value === undefined) {
        const keys = Object.keys(data);
        throw unavailable(`${loc.path} in ${loc.mount} has no key "${key}" (${keys.length === 0 ? 'it has none' : `its keys: ${keys.join(', ')}`})`);
      }
      if (value.reveal() === '') throw unavailable(`the key "${key}" of ${loc.path} in ${loc.mount} is empty`);
      return value;
    } catch (err) {
      if (!(err instanceof FirebreakError) || err.message.startsWith(`${ref}: `)) throw err;
      throw new FirebreakError(err.code, `${ref}: ${err.message}`, { cause: err, retryable: err.retryable, ...(err.details === undefined ? {} : { details: err.details }), ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }) });
    }
  }

  return {
    sys: vaultSys(t),
    rekey: vaultRekey(t),
    generateRoot: vaultGenerateRoot(t),
    auth: vaultAuth(t),
    kv,
    readReference,
    close: () => t.close(),
  };
}
