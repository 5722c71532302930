import { FirebreakError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Secret } from '../lib/secret.ts';
import { credentialResolver, type CredentialRef, type LoadedConfig, type TenantConfig } from '../config/index.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';
import { connectorOf, type ClientSystemId, type ConnectorClient, type ConnectorConfig } from '../connectors/registry.ts';

/** What playbooks get from the application to build their connectors (the environment's `config` holds it). */
export interface Platform {
  readonly loaded: LoadedConfig;
  readonly log: Logger;
  /** The executor named in config (`local` always exists); built on first use. */
  executor(name: string): Promise<Executor>;
  /** Resolves a credential reference (env:, file:, vault: through provider.vault); `where` is its config path, for messages. */
  credential(ref: CredentialRef, where: string): Promise<Secret>;
  /**
   * Builds a system's client from its settings through the registry
   * (`connect('thingsboard', tenant.thingsboard, 'tenants.acme.thingsboard')`):
   * TLS, credentials and executors the platform's way, in one place.
   */
  connect<K extends ClientSystemId>(id: K, config: ConnectorConfig<K>, where: string, options?: ConnectOptions): Promise<ConnectorClient<K>>;
}

export interface ConnectOptions {
  /** For messages: "acme Sub-CA" (default: the config path). */
  readonly label?: string;
  /** The logger the client logs to (default: the platform's, scoped to the system). */
  readonly log?: Logger;
}

/**
 * The environment the application hands a playbook's `connect`: the platform
 * and the run's logger. The engine passes `{ config, log }`; typed here so a
 * playbook reads the platform without a cast.
 */
export interface PlatformEnv {
  readonly config: Platform;
  readonly log: Logger;
}

/** The platform of an environment. Kept for the playbooks' dependency builders; no cast since the environment is typed. */
export function platformOf(env: { readonly config: Platform }): Platform {
  return env.config;
}

export function tenantOf(p: Platform, tenantId: string): TenantConfig {
  const t = p.loaded.config.tenants[tenantId];
  if (t === undefined) {
    const known = Object.keys(p.loaded.config.tenants);
    throw new FirebreakError('NOT_FOUND', `unknown tenant "${tenantId}"; firebreak.yaml defines: ${known.join(', ') || '(no tenants)'}`);
  }
  return t;
}

export function createPlatform(loaded: LoadedConfig, log: Logger, executors: (name: string) => Promise<Executor>): Platform {
  const credential = credentialResolver(loaded.config);
  return {
    loaded, log, executor: executors, credential,
    async connect(id, config, where, options = {}) {
      const def = connectorOf(id);
      if (def.create === undefined) throw new FirebreakError('INTERNAL', `${id} has no client yet (its connector definition has no create)`);
      const client = await def.create(config, {
        where, label: options.label ?? where, log: options.log ?? log.child({ connector: id }),
        credential: (ref, key) => credential(ref, `${where}.${key}`),
        executor: executors,
      });
      // The registry pairs each id with its definition, so the client is that definition's (ConnectorClient<K>).
      return client as ConnectorClient<typeof id>;
    },
  };
}
