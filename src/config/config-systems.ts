import { connectorList, executorOf, type SystemId } from '../connectors/registry.ts';
import type { AnyConnector, AnyExecutorDefinition, CredentialNeed } from '../connectors/connector-types.ts';
import { vaultReader } from '../connectors/vault/vault-connector.ts';
import type { Secret } from '../lib/secret.ts';
import type { CredentialRef, FirebreakConfig } from './config-schema.ts';
import { resolveCredential } from './credentials.ts';

/** One system configured in one stack, with its definition beside its settings. */
export interface ConfiguredSystem {
  /** For `check`: `provider`, `tenant acme`. */
  readonly scope: string;
  /** Config path of its block: `tenants.acme.thingsboard`. */
  readonly where: string;
  readonly id: SystemId;
  readonly def: AnyConnector;
  /** Its settings, as validated by `def.schema`. */
  readonly config: unknown;
}

/** Every configured system of every stack, provider first, each stack in registry order: what `check` probes. */
export function configuredSystems(c: FirebreakConfig): ConfiguredSystem[] {
  const stacks: { scope: string; path: string; stack: Readonly<Record<string, unknown>> }[] = [
    ...(c.provider === undefined ? [] : [{ scope: 'provider', path: 'provider', stack: c.provider }]),
    ...Object.entries(c.tenants).map(([id, t]) => ({ scope: `tenant ${id}`, path: `tenants.${id}`, stack: t })),
  ];
  return stacks.flatMap(({ scope, path, stack }) => connectorList.flatMap((def) => {
    const config = stack[def.configKey];
    return config === undefined ? [] : [{ scope, where: `${path}.${def.configKey}`, id: def.id as SystemId, def, config }];
  }));
}

/** One named executor of `executors:` with its kind's definition. */
export interface ConfiguredExecutor {
  readonly name: string;
  readonly where: string;
  readonly def: AnyExecutorDefinition;
  readonly config: unknown;
}

export function configuredExecutors(c: FirebreakConfig): ConfiguredExecutor[] {
  return Object.entries(c.executors).map(([name, e]) => ({ name, where: `executors.${name}`, def: executorOf(e.kind), config: e }));
}

/** A credential reference of the configuration, with its full path and the system that needs it. */
export interface ConfiguredCredential extends CredentialNeed {
  readonly path: string;
  readonly scope: string;
  readonly system: string;
}

/** Every credential the configured systems and executors need, as their definitions list them. */
export function configuredCredentials(c: FirebreakConfig): ConfiguredCredential[] {
  return [
    ...configuredSystems(c).flatMap((s) => s.def.credentials(s.config).map((n) => ({ ...n, path: `${s.where}.${n.key}`, scope: s.scope, system: s.id }))),
    ...configuredExecutors(c).flatMap((e) => e.def.credentials(e.config).map((n) => ({ ...n, path: `${e.where}.${n.key}`, scope: `executor ${e.name}`, system: e.def.kind }))),
  ];
}

export const isVaultRef = (ref: CredentialRef): boolean => typeof ref === 'string' && ref.startsWith('vault:');

/**
 * How the platform resolves credential references: env: and file: directly,
 * vault: through provider.vault, whose own token is an env: or file: reference
 * (refused with a clear message when no Vault is configured).
 */
export function credentialResolver(c: FirebreakConfig): (ref: CredentialRef, where: string) => Promise<Secret> {
  const vault = c.provider?.vault;
  if (vault === undefined) return (ref, where) => resolveCredential(ref, where, {});
  // Without a vault reader: Vault's own token is never read from Vault (loading refuses that too).
  const token = () => resolveCredential(vault.token, 'provider.vault.token', {});
  return (ref, where) => resolveCredential(ref, where, { vault: vaultReader(vault, where, token) });
}
