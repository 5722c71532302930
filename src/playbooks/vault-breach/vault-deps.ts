import { FirebreakError } from '../../lib/errors.ts';
import type { VaultClient } from '../../connectors/vault/vault-client.ts';
import type { FirebreakConfig } from '../../config/config-schema.ts';
import type { StepContext } from '../../engine/playbook-types.ts';
import { platformOf, type PlatformEnv } from '../platform.ts';
import { loadKeyHolders, type RekeyPlan } from './vault-holders.ts';
import type { VaultBreachInput } from './vault-inputs.ts';
import { appRoleServices, type AppRoleService } from './vault-secret-ids.ts';

export type { VaultBreachInput } from './vault-inputs.ts';

/** The condition revoke, disable, rekey and recovery need: a sealed Vault answers 503 to all of them (CONTRACTS.md §2.0). */
export const UNSEALED = 'vault.unsealed';

export type VaultCtx = StepContext<VaultBreachInput, VaultBreachDeps>;

/** The auth mounts containment disables when neither the input nor firebreak.yaml names any (the seed's `vault auth disable approle`, `… jwt`). */
export const DEFAULT_DISABLE = ['approle', 'jwt'] as const;

export interface VaultBreachDeps {
  readonly vault: VaultClient;
  /** Where the Vault is (for instructions and messages). */
  readonly url: string;
  /** The auth mounts to disable, as Vault keys them (`approle/`), and where that list came from. */
  readonly disable: readonly string[];
  readonly disableFrom: string;
  /** The new shares' holders and threshold (provider.vault.rekey), their keys checked; undefined when not configured. */
  readonly rekey: RekeyPlan | undefined;
  /** The services that log in with AppRole (provider.vault.services): recovery gives each a new secret_id. */
  readonly services: readonly AppRoleService[];
  /** firebreak.yaml, for the assessment's assess.vaultAudit (its logs relative to the file). */
  readonly assess: { readonly path: string; readonly config: FirebreakConfig };
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
  // Before any connection: a holder's missing, expired or malformed key stops the run before anything changes.
  const rekey = settings.rekey === undefined ? undefined : await loadKeyHolders(settings.rekey, 'provider.vault.rekey');
  const services = await appRoleServices(settings, (name) => p.executor(name));
  const vault = await p.connect('vault', settings, 'provider.vault');
  return { vault, url: settings.url, disable, disableFrom: from, rekey, services, assess: { path: p.loaded.path, config: p.loaded.config } };
}
