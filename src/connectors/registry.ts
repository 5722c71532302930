import { z } from 'zod';
import type { AnyConnector, AnyExecutorDefinition, ConnectorDefinition, ExecutorDefinition, Scope } from './connector-types.ts';
import { stepCaConnector } from './step-ca/step-ca-connector.ts';
import { subCaConnector } from './step-ca/subca-connector.ts';
import { keycloakConnector } from './keycloak/keycloak-connector.ts';
import { timescaledbConnector } from './postgres/timescaledb-connector.ts';
import { wireguardConnector } from './wireguard/wireguard-connector.ts';
import { thingsboardConnector } from './thingsboard/thingsboard-connector.ts';
import { hawkbitConnector } from './hawkbit/hawkbit-connector.ts';
import { vaultConnector } from './vault/vault-connector.ts';
import { dnsConnector } from './dns/dns-connector.ts';
import { smtpConnector } from './smtp/smtp-connector.ts';
import { composeExecutor, localExecutor, sshExecutor } from './executor/executor-connectors.ts';

/**
 * Every system Firebreak knows, in one explicit list (no registration by
 * import side effect). The order is the order of a stack's keys in
 * firebreak.yaml, its JSON Schema and `firebreak check`.
 * Adding a system: its folder with a `<system>-connector.ts`, its id here and
 * its entry in {@link CONNECTORS} (docs/connectors.md).
 */
export const SystemIds = ['step-ca', 'keycloak', 'timescaledb', 'sub-ca', 'wireguard', 'thingsboard', 'hawkbit', 'vault', 'dns', 'smtp'] as const;
export type SystemId = (typeof SystemIds)[number];

/**
 * The registry, keyed by system id: a missing or extra entry, or an entry
 * whose id is not its key, is a type error.
 */
export const CONNECTORS = {
  'step-ca': stepCaConnector,
  keycloak: keycloakConnector,
  timescaledb: timescaledbConnector,
  'sub-ca': subCaConnector,
  wireguard: wireguardConnector,
  thingsboard: thingsboardConnector,
  hawkbit: hawkbitConnector,
  vault: vaultConnector,
  dns: dnsConnector,
  smtp: smtpConnector,
} as const satisfies { readonly [K in SystemId]: ConnectorDefinition<K, string, readonly Scope[], z.ZodType, unknown> };

type Registry = typeof CONNECTORS;

/** A system's settings as firebreak.yaml gives them (after defaults). */
export type ConnectorConfig<K extends SystemId> = z.output<Registry[K]['schema']>;

/** What a system's `create` builds (never for a system without a client). */
export type ConnectorClient<K extends SystemId> = Registry[K] extends ConnectorDefinition<K, string, readonly Scope[], z.ZodType, infer C> ? C : never;

/** The systems that have a client: the ones a playbook can connect to. */
export type ClientSystemId = { [K in SystemId]: [ConnectorClient<K>] extends [never] ? never : K }[SystemId];

/** The systems a scope may configure. */
export type SystemsIn<S extends Scope> = { [K in SystemId]: S extends Registry[K]['scopes'][number] ? K : never }[SystemId];

/** A stack's part of the zod schema: each system of the scope under its config key, optional. */
export type StackShape<S extends Scope> = { [K in SystemsIn<S> as Registry[K]['configKey']]: z.ZodOptional<Registry[K]['schema']> };

/** The definitions in registry order, as code that iterates them sees them. */
export const connectorList: readonly AnyConnector[] = SystemIds.map((id) => CONNECTORS[id]);

/** The definition of one system, with its config and client types erased (see {@link AnyConnector}). */
export function connectorOf(id: SystemId): AnyConnector {
  return CONNECTORS[id];
}

/** The systems of a scope as the zod shape of a stack (src/config assembles firebreak.yaml from it). */
export function stackShape<S extends Scope>(scope: S): StackShape<S> {
  const entries = connectorList.filter((d) => d.scopes.includes(scope)).map((d) => [d.configKey, d.schema.optional()] as const);
  // The runtime value is exactly the mapped type: one optional schema per system of the scope, under its config key.
  return Object.fromEntries(entries) as StackShape<S>;
}

/** Every executor kind, keyed by kind: a missing entry is a type error. */
export const ExecutorKinds = ['local', 'ssh', 'compose'] as const;
export type ExecutorKind = (typeof ExecutorKinds)[number];

export const EXECUTORS = {
  local: localExecutor,
  ssh: sshExecutor,
  compose: composeExecutor,
} as const satisfies { readonly [K in ExecutorKind]: ExecutorDefinition<K, z.ZodType> };

/** `executors.<name>`: one branch per executor kind. */
export const executorSchema = z.discriminatedUnion('kind', [EXECUTORS.local.schema, EXECUTORS.ssh.schema, EXECUTORS.compose.schema]).describe('Where commands for a host run.');
export type ExecutorConfig = z.output<typeof executorSchema>;
/** Compiles only while the union above lists every kind: a kind left out of it is a type error here. */
export const executorKindsInSchema: Readonly<Record<ExecutorKind, ExecutorConfig['kind']>> = { local: 'local', ssh: 'ssh', compose: 'compose' };

export function executorOf(kind: ExecutorKind): AnyExecutorDefinition {
  return EXECUTORS[kind];
}
