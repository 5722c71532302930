import { connect } from 'node:net';
import { FirebreakError, toErrorData } from '../lib/errors.ts';
import { createHttpClient } from '../lib/http-client.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { loadSigner } from '../audit/audit-signer.ts';
import { loadConfig, resolveCredential, type LoadedConfig, type CredentialRef } from '../config/index.ts';
import { PLAYBOOKS } from '../playbooks/index.ts';
import type { AnyPlaybook } from '../engine/playbook-types.ts';
import { App } from './app.ts';
import { createPlatform } from '../playbooks/platform.ts';
import { createLocalExecutor } from '../connectors/executor/local-executor.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';
import { createWireguardStandin } from '../lab/wireguard/wireguard-standin.ts';
import { createSshExecutor } from '../connectors/executor/ssh-executor.ts';
import { createComposeExecutor } from '../connectors/executor/compose-executor.ts';
import { isCaCert, readCaCert } from '../connectors/step-ca/subca-host.ts';

export function loadAppConfig(path: string): LoadedConfig {
  return loadConfig(path);
}

export interface OpenOptions {
  readonly configPath?: string;
  /** An already loaded configuration (the drill passes the lab's). */
  readonly loaded?: LoadedConfig;
  readonly logger?: Logger;
  readonly waitMode?: 'block' | 'suspend';
  readonly playbooks?: readonly AnyPlaybook[];
  readonly pollMs?: number;
  /** Executors by name that replace the configured ones (the drill's lab hosts). */
  readonly executors?: Readonly<Record<string, Executor>>;
}

/** Builds the named executors of the configuration, lazily, once each; `via` chains are followed, cycles refused. */
export function executorResolver(loaded: LoadedConfig, overrides: Readonly<Record<string, Executor>> = {}): (name: string) => Promise<Executor> {
  const cache = new Map<string, Promise<Executor>>(Object.entries(overrides).map(([k, v]) => [k, Promise.resolve(v)]));
  const resolve = (name: string, chain: readonly string[]): Promise<Executor> => {
    const hit = cache.get(name);
    if (hit !== undefined) return hit;
    if (chain.includes(name)) return Promise.reject(new FirebreakError('CONFIG_INVALID', `executors: "via" loops: ${[...chain, name].join(' → ')}`));
    const def = name === 'local' ? { kind: 'local' as const } : loaded.config.executors[name];
    if (def === undefined) return Promise.reject(new FirebreakError('CONFIG_INVALID', `executor "${name}" is not defined under executors`));
    const built = (async (): Promise<Executor> => {
      switch (def.kind) {
        case 'local': return createLocalExecutor();
        case 'lab-wireguard': return createWireguardStandin({ stateFile: def.stateFile, confDir: def.confDir });
        case 'ssh': return createSshExecutor({ host: def.host, port: def.port, user: def.user, hostKey: def.hostKey, privateKey: await resolveCredential(def.privateKey, `executors.${name}.privateKey`) });
        case 'compose': return createComposeExecutor({ projectDir: def.projectDir, service: def.service }, { via: await resolve(def.via ?? 'local', [...chain, name]) });
      }
    })();
    cache.set(name, built);
    return built;
  };
  return (name) => resolve(name, []);
}

/** Loads the configuration and wires the application over its state directory. */
export async function openApp(o: OpenOptions): Promise<App> {
  const loaded = o.loaded ?? loadConfig(o.configPath ?? 'firebreak.yaml');
  const c = loaded.config;
  return new App({
    settings: {
      stateDir: loaded.stateDir,
      journalKeyFile: loaded.journalKeyFile,
      twoPersonRule: c.approvals.twoPersonRule,
      automatic: c.approvals.automatic,
      rateLimits: c.engine.rateLimits,
      rto: loaded.rtoMs,
      config: createPlatform(loaded, o.logger ?? silentLogger, executorResolver(loaded, o.executors)),
    },
    playbooks: o.playbooks ?? PLAYBOOKS,
    audit: (db) => new AuditLog({ db, signer: loadSigner(loaded.signingKeyFile), checkpointEvery: c.audit.checkpointEvery, anchorFile: loaded.anchorFile }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ...(o.waitMode === undefined ? {} : { waitMode: o.waitMode }),
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
  });
}

export interface ProbeResult {
  readonly scope: string;
  readonly system: string;
  readonly endpoint: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

interface Probe { scope: string; system: string; endpoint: string; run: () => Promise<string> }

/**
 * Connectivity preflight for `firebreak check`: every configured endpoint is
 * contacted (HTTP answer or TCP connect) and every credential reference is
 * resolved, in parallel, each with a timeout. Nothing is changed anywhere.
 */
export async function probeSystems(loaded: LoadedConfig, log: Logger = silentLogger, timeoutMs = 5000): Promise<ProbeResult[]> {
  const probes: Probe[] = [];
  const executors = executorResolver(loaded);
  const http = (scope: string, system: string, url: string, path: string, insecure: boolean | undefined) => {
    probes.push({
      scope, system, endpoint: url, run: async () => {
        const client = createHttpClient({ baseUrl: url, system, timeoutMs, logger: log, ...(insecure === true ? { tls: { insecure: true } } : {}) });
        try {
          const res = await client.send({ method: 'GET', path });
          if (res.status >= 500) throw new FirebreakError('UNAVAILABLE', `answered ${res.status}`);
          return `HTTP ${res.status}`;
        } finally { await client.close(); }
      },
    });
  };
  const tcp = (scope: string, system: string, host: string, port: number) => {
    probes.push({
      scope, system, endpoint: `${host}:${port}`, run: () => new Promise<string>((resolve, reject) => {
        const sock = connect({ host, port, timeout: timeoutMs }, () => { sock.destroy(); resolve('TCP connect'); });
        sock.on('timeout', () => { sock.destroy(); reject(new FirebreakError('TIMEOUT', `no answer within ${timeoutMs} ms`)); });
        sock.on('error', (e: NodeJS.ErrnoException) => { reject(new FirebreakError('UNAVAILABLE', e.code ?? e.message)); });
      }),
    });
  };
  const cred = (scope: string, system: string, ref: CredentialRef | undefined, where: string) => {
    if (ref === undefined) return;
    probes.push({ scope, system: `${system} credential`, endpoint: typeof ref === 'string' ? ref : '(inline, lab)', run: async () => { await resolveCredential(ref, where); return 'resolves'; } });
  };
  const stacks = [['provider', loaded.config.provider] as const, ...Object.entries(loaded.config.tenants).map(([id, t]) => [`tenant ${id}`, t] as const)];
  for (const [scope, s] of stacks) {
    if (s === undefined) continue;
    if (s.stepCa?.offline === true) probes.push({ scope, system: 'step-ca', endpoint: s.stepCa.url, run: () => Promise.resolve('offline: not probed (its steps are manual)') });
    else if (s.stepCa !== undefined) { http(scope, 'step-ca', s.stepCa.url, 'health', s.stepCa.insecure); cred(scope, 'step-ca', s.stepCa.provisionerPassword, `${scope}.stepCa.provisionerPassword`); }
    if ('subCa' in s && s.subCa !== undefined) {
      const files = s.subCa;
      probes.push({
        scope, system: 'sub-ca files', endpoint: `${files.executor}:${files.certFile}`, run: async () => {
          const ex = await executors(files.executor);
          try {
            const cert = await readCaCert(ex, files);
            if (!isCaCert(cert)) throw new FirebreakError('INVALID_INPUT', `not a CA certificate ("${cert.subject}")`);
            if ((await ex.exec({ argv: ['test', '-r', files.keyFile] })).exitCode !== 0) throw new FirebreakError('NOT_FOUND', `${files.keyFile} is not readable there`);
            return `${cert.subject}, until ${cert.notAfter.toISOString().slice(0, 10)}; key file present`;
          } finally { await ex.close(); }
        },
      });
    }
    if (s.keycloak !== undefined) { http(scope, 'keycloak', s.keycloak.url, '', s.keycloak.insecure); cred(scope, 'keycloak', s.keycloak.adminPassword, `${scope}.keycloak.adminPassword`); }
    if (s.timescaledb !== undefined) { tcp(scope, 'timescaledb', s.timescaledb.host, s.timescaledb.port); cred(scope, 'timescaledb', s.timescaledb.adminPassword, `${scope}.timescaledb.adminPassword`); }
    if ('thingsboard' in s && s.thingsboard !== undefined) { http(scope, 'thingsboard', s.thingsboard.url, '', s.thingsboard.insecure); cred(scope, 'thingsboard', s.thingsboard.password, `${scope}.thingsboard.password`); }
    if ('hawkbit' in s && s.hawkbit !== undefined) { http(scope, 'hawkbit', s.hawkbit.url, '', s.hawkbit.insecure); cred(scope, 'hawkbit', s.hawkbit.password, `${scope}.hawkbit.password`); }
    if ('vault' in s && s.vault !== undefined) { http(scope, 'vault', s.vault.url, 'v1/sys/health', s.vault.insecure); cred(scope, 'vault', s.vault.token, `${scope}.vault.token`); }
    if ('dns' in s && s.dns !== undefined) http(scope, 'dns', s.dns.url, '', s.dns.insecure);
    if ('smtp' in s && s.smtp !== undefined) tcp(scope, 'smtp', s.smtp.host, s.smtp.port);
  }
  for (const [name, e] of Object.entries(loaded.config.executors)) {
    if (e.kind === 'ssh') { tcp(`executor ${name}`, 'ssh', e.host, e.port); cred(`executor ${name}`, 'ssh', e.privateKey, `executors.${name}.privateKey`); }
  }
  return Promise.all(probes.map(async (p) => {
    const started = performance.now();
    try {
      const detail = await p.run();
      return { scope: p.scope, system: p.system, endpoint: p.endpoint, ok: true, detail, ms: Math.round(performance.now() - started) };
    } catch (err) {
      return { scope: p.scope, system: p.system, endpoint: p.endpoint, ok: false, detail: toErrorData(err).message, ms: Math.round(performance.now() - started) };
    }
  }));
}
