import { silentLogger, type Logger } from '../lib/log.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { loadSigner } from '../audit/audit-signer.ts';
import { loadConfig, type LoadedConfig } from '../config/index.ts';
import { loadPlaybooks } from '../playbooks/playbook-list.ts';
import type { PlatformPlaybook } from '../playbooks/playbook-descriptor.ts';
import { App, type AppOptions } from './app.ts';
import { createPlatform } from '../playbooks/platform.ts';
import { executorResolver, probeSystems, systemExecutors, type ProbeResult } from './app-systems.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';

// Moved to app-systems.ts (the registry-driven executors and probes); re-exported for existing callers.
export { executorResolver, probeSystems, type ProbeResult };

export function loadAppConfig(path: string): LoadedConfig {
  return loadConfig(path);
}

export interface OpenOptions {
  readonly configPath?: string;
  /** An already loaded configuration (the drill passes the lab's). */
  readonly loaded?: LoadedConfig;
  readonly logger?: Logger;
  readonly waitMode?: 'block' | 'suspend';
  /** The playbooks it runs (default: every shipped one, loaded on open). */
  readonly playbooks?: readonly PlatformPlaybook[];
  /**
   * False when the caller starts and continues no run (it reads, cancels,
   * closes): no playbook is loaded, nor their connectors, unless
   * approvals.automatic names steps, whose check needs their definitions.
   */
  readonly withPlaybooks?: boolean;
  readonly pollMs?: number;
  /** See AppOptions.onCommitted (tests acting at an exact step boundary). */
  readonly onCommitted?: AppOptions['onCommitted'];
  /** Executors by name that replace the configured ones (tests: a real WireGuard host); a lab configuration's own come from systemExecutors. */
  readonly executors?: Readonly<Record<string, Executor>>;
}

/** Loads the configuration and wires the application over its state directory. */
export async function openApp(o: OpenOptions): Promise<App> {
  const loaded = o.loaded ?? loadConfig(o.configPath ?? 'firebreak.yaml');
  const c = loaded.config;
  const playbooks = o.playbooks ?? (o.withPlaybooks === false && Object.keys(c.approvals.automatic).length === 0 ? [] : await loadPlaybooks());
  // Built on first use: what runs nothing builds no executor (nor loads, on a lab configuration, the lab's).
  let executors: Promise<(name: string) => Promise<Executor>> | undefined;
  const executor = async (name: string): Promise<Executor> => (await (executors ??= systemExecutors(loaded, o.executors)))(name);
  return new App({
    settings: {
      stateDir: loaded.stateDir,
      journalKeyFile: loaded.journalKeyFile,
      twoPersonRule: c.approvals.twoPersonRule,
      automatic: c.approvals.automatic,
      rateLimits: c.engine.rateLimits,
      rto: loaded.rtoMs,
      config: createPlatform(loaded, o.logger ?? silentLogger, executor),
    },
    playbooks,
    audit: (db) => new AuditLog({ db, signer: loadSigner(loaded.signingKeyFile), checkpointEvery: c.audit.checkpointEvery, anchorFile: loaded.anchorFile }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ...(o.waitMode === undefined ? {} : { waitMode: o.waitMode }),
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    ...(o.onCommitted === undefined ? {} : { onCommitted: o.onCommitted }),
  });
}
