import { FirebreakError, toErrorData } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { configuredCredentials, configuredExecutors, configuredSystems, credentialResolver, type LoadedConfig } from '../config/index.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';
import type { ProbeContext } from '../connectors/connector-types.ts';
import { executorOf } from '../connectors/registry.ts';

/** Builds the named executors of the configuration, lazily, once each; `via` chains are followed, cycles refused. */
export function executorResolver(loaded: LoadedConfig, overrides: Readonly<Record<string, Executor>> = {}): (name: string) => Promise<Executor> {
  const cache = new Map<string, Promise<Executor>>(Object.entries(overrides).map(([k, v]) => [k, Promise.resolve(v)]));
  const credential = credentialResolver(loaded.config);
  const resolve = (name: string, chain: readonly string[]): Promise<Executor> => {
    const hit = cache.get(name);
    if (hit !== undefined) return hit;
    if (chain.includes(name)) return Promise.reject(new FirebreakError('CONFIG_INVALID', `executors: "via" loops: ${[...chain, name].join(' → ')}`));
    const def = name === 'local' ? { kind: 'local' as const } : loaded.config.executors[name];
    if (def === undefined) return Promise.reject(new FirebreakError('CONFIG_INVALID', `executor "${name}" is not defined under executors`));
    const built = executorOf(def.kind).create(def, {
      credential: (ref, key) => credential(ref, `executors.${name}.${key}`),
      via: (next) => resolve(next, [...chain, name]),
    });
    cache.set(name, built);
    return built;
  };
  return (name) => resolve(name, []);
}

/**
 * The executors of an opened configuration: for a lab configuration the lab's
 * own stand-ins (src/lab/lab-executors.ts, imported only then, so production
 * never loads the lab), then the caller's overrides (tests swap a real host in).
 */
export async function systemExecutors(loaded: LoadedConfig, overrides: Readonly<Record<string, Executor>> = {}): Promise<(name: string) => Promise<Executor>> {
  const lab = loaded.config.lab ? (await import('../lab/lab-executors.ts')).labExecutors(loaded) : {};
  return executorResolver(loaded, { ...lab, ...overrides });
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
 * Connectivity preflight for `firebreak check`: every configured system and
 * executor is probed the way its connector definition says (HTTP answer, TCP
 * connect, files on its host) and every credential its definition lists is
 * resolved (a `vault:` one through provider.vault), in parallel, each with a
 * timeout. Nothing is changed anywhere.
 */
export async function probeSystems(loaded: LoadedConfig, log: Logger = silentLogger, timeoutMs = 5000): Promise<ProbeResult[]> {
  const executors = await systemExecutors(loaded);
  const ctx = (where: string): ProbeContext => ({ where, timeoutMs, log, executor: executors });
  const credential = credentialResolver(loaded.config);
  const probes: Probe[] = [];
  for (const s of configuredSystems(loaded.config)) {
    const spec = s.def.probe(s.config, ctx(s.where));
    if (spec !== undefined) probes.push({ scope: s.scope, system: spec.system ?? s.id, endpoint: spec.endpoint, run: () => spec.run() });
  }
  for (const e of configuredExecutors(loaded.config)) {
    const spec = e.def.probe(e.config, ctx(e.where));
    if (spec !== undefined) probes.push({ scope: `executor ${e.name}`, system: spec.system ?? e.def.kind, endpoint: spec.endpoint, run: () => spec.run() });
  }
  for (const c of configuredCredentials(loaded.config)) {
    probes.push({
      scope: c.scope, system: `${c.system} credential`, endpoint: typeof c.ref === 'string' ? c.ref : '(inline, lab)',
      run: async () => { await credential(c.ref, c.path); return 'resolves'; },
    });
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
