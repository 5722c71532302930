import { FirebreakError } from '../../lib/errors.ts';
import type { VaultClient } from '../../connectors/vault/vault-client.ts';
import { platformOf, type PlatformEnv } from '../platform.ts';
import type { VaultBreachInput } from './vault-inputs.ts';

export type { VaultBreachInput } from './vault-inputs.ts';

/** The auth mounts containment disables when neither the input nor firebreak.yaml names any (the seed's `vault auth disable approle`, `… jwt`). */
export const DEFAULT_DISABLE = ['approle', 'jwt'] as const;

export interface VaultBreachDeps {
  readonly vault: VaultClient;
  /** Where the Vault is (for instructions and messages). */
  readonly url: string;
  /** The auth mounts to disable, as Vault keys them (`approle/`), and where that list came from. */
  readonly disable: readonly string[];
  readonly disableFrom: string;
}

/** `approle`, `/approle/` → `approle/`: the form sys/auth keys mounts by. */
export const mountKey = (m: string): string => `${m.trim().replace(/^\/+|\/+$/g, '')}/`;

/** Builds the Vault client from provider.vault; the mounts to disable from the input, else the configuration, else the default. */
export async function connectVault(env: PlatformEnv, input: VaultBreachInput): Promise<VaultBreachDeps> {
  const p = platformOf(env);
  const settings = p.loaded.config.provider?.vault;
  if (settings === undefined) throw new FirebreakError('NOT_FOUND', 'provider.vault is not configured in firebreak.yaml: vault-breach needs the Vault it contains (url and token)');
  const [list, from] = input.authMounts !== undefined ? [input.authMounts.split(','), '--auth-mounts']
    : settings.disableAuth !== undefined ? [settings.disableAuth, 'provider.vault.disableAuth'] : [[...DEFAULT_DISABLE], 'the default (approle, jwt)'];
  const disable = [...new Set(list.map(mountKey))];
  if (disable.includes('token/')) throw new FirebreakError('INVALID_INPUT', `${from}: the token auth method cannot be disabled (Vault refuses it)`);
  const vault = await p.connect('vault', settings, 'provider.vault');
  return { vault, url: settings.url, disable, disableFrom: from };
}
