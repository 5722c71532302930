import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError, fromErrorData, toErrorData, type ErrorData } from '../../lib/errors.ts';
import type { Sealer } from '../../lib/sealer.ts';
import type { Secret } from '../../lib/secret.ts';
import { JournalStore } from './journal-store.ts';
import { TokenBucket, mapWithConcurrency } from '../../engine/rate-limit.ts';
import { NO_RETRY, abortableSleep, retryDelay } from '../../engine/retry.ts';
import {
  TERMINAL_STATUSES,
  type DurableRuntime, type FanOutItem, type FanOutOptions, type FanOutResult, type ProgressEvent, type RateLimit,
  type RunOutcome, type RunStatus, type StartOptions, type StepOptions, type StepRecord, type StepRun, type WorkflowContext, type WorkflowFn,
} from '../../engine/runtime-types.ts';

/** Something the journal just recorded, reported inside the same transaction (the audit log appends there). */
export type JournalEvent =
  | { readonly type: 'run'; readonly runId: string; readonly status: RunStatus; readonly error?: ErrorData }
  | { readonly type: 'step'; readonly runId: string; readonly stepId: string; readonly kind: StepRecord['kind']; readonly status: 'completed' | 'failed' | 'cancelled'; readonly attempt: number; readonly meta: Readonly<Record<string, unknown>>; readonly output?: unknown; readonly error?: ErrorData }
  | { readonly type: 'signal'; readonly runId: string; readonly name: string; readonly payload: unknown };

export interface EmbeddedRuntimeOptions {
  readonly db: DatabaseSync;
  readonly sealer: Sealer;
  /** How waits behave when the signal is not there yet: keep polling (CLI) or suspend the run as `waiting` (server). */
  readonly waitMode?: 'block' | 'suspend';
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  readonly onJournal?: (event: JournalEvent) => void;
  readonly now?: () => Date;
}

/** Thrown out of a wait in suspend mode; the run is marked `waiting` even if workflow code catches it. */
class Suspended extends Error {}

/**
 * The embedded durable runtime: Firebreak's own journal on SQLite. Runs
 * execute in the calling process; every step boundary is committed (WAL,
 * synchronous=FULL) before the workflow moves on, so a SIGKILL at any moment
 * loses at most the step in flight, which is re-run on resume.
 */
export function createEmbeddedRuntime(options: EmbeddedRuntimeOptions): DurableRuntime {
  const store = new JournalStore(options.db);
  const workflows = new Map<string, WorkflowFn>();
  const listeners = new Set<(e: ProgressEvent) => void>();
  const buckets = new Map<string, TokenBucket>();
  const active = new Map<string, AbortController>();
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollMs = options.pollMs ?? 200;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const now = () => (options.now?.() ?? new Date()).toISOString();
  const emit = (e: ProgressEvent) => { for (const l of listeners) l(e); };
  const journal = (e: JournalEvent) => options.onJournal?.(e);

  function ownerIsLive(runId: string): boolean {
    const { owner: o, heartbeatAt } = store.ownerInfo(runId);
    if (o === null || o === owner) return false;
    const [host, pid] = o.split(':');
    if (host === hostname() && pid !== undefined && !processAlive(Number(pid))) return false;
    return heartbeatAt !== null && Date.now() - Date.parse(heartbeatAt) < heartbeatMs * 5;
  }

  function setStatus(runId: string, status: RunStatus, end?: { result?: unknown; error?: ErrorData | null }): void {
    store.tx(() => {
      store.setRunStatus(runId, status, now(), end);
      journal({ type: 'run', runId, status, ...(end?.error == null ? {} : { error: end.error }) });
    });
    emit({ type: 'run', runId, status });
  }

  async function execute(runId: string, clearCancel: boolean): Promise<RunOutcome> {
    const run = store.getRun(runId);
    if (run === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} does not exist`);
    const fn = workflows.get(run.workflow);
    if (fn === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} uses workflow "${run.workflow}", which is not registered`);
    if (active.has(runId) || ownerIsLive(runId)) {
      throw new FirebreakError('CONFLICT', `run ${runId} is being executed by another process (${store.ownerInfo(runId).owner ?? 'unknown'})`);
    }
    const controller = new AbortController();
    active.set(runId, controller);
    store.claimRun(runId, owner, now(), clearCancel);
    const beat = setInterval(() => {
      const hb = store.heartbeat(runId, owner, now());
      if (hb.cancelRequested && !controller.signal.aborted) controller.abort(new FirebreakError('CANCELLED', `run ${runId} was cancelled`));
    }, Math.min(pollMs, heartbeatMs));
    beat.unref();
    const failures: { stepId: string; key?: string; error: ErrorData }[] = [];
    const state = { suspended: false };
    try {
      setStatus(runId, 'running');
      const ctx = makeContext(runId, controller.signal, '', null, failures, state);
      const value = await fn(ctx, run.input);
      if (state.suspended) throw new Suspended();
      const status: RunStatus = failures.length > 0 ? 'completed_with_failures' : 'completed';
      const result = { output: value ?? null, failures };
      setStatus(runId, status, { result, error: null });
      return { runId, status, result: JSON.parse(JSON.stringify(result)) as unknown };
    } catch (err) {
      if (err instanceof Suspended || (state.suspended && !controller.signal.aborted)) {
        setStatus(runId, 'waiting');
        return { runId, status: 'waiting' };
      }
      const error = controller.signal.aborted ? toErrorData(controller.signal.reason) : toErrorData(err);
      const status: RunStatus = error.code === 'CANCELLED' ? 'cancelled' : 'failed';
      setStatus(runId, status, { result: { failures }, error });
      return { runId, status, error };
    } finally {
      clearInterval(beat);
      active.delete(runId);
      store.releaseRun(runId, owner);
    }
  }

  function makeContext(runId: string, signal: AbortSignal, prefix: string, parentId: string | null, failures: { stepId: string; key?: string; error: ErrorData }[], state: { suspended: boolean }): WorkflowContext {
    const full = (id: string) => `${prefix}${id}`;
    const throwIfCancelled = () => { if (signal.aborted) throw signal.reason as Error; };

    async function attemptOnce<T>(stepId: string, fn: (run: StepRun) => Promise<T>, attempt: number, opts: StepOptions, resumed: boolean): Promise<T> {
      const attemptController = new AbortController();
      const onAbort = () => { attemptController.abort(signal.reason); };
      signal.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      try {
        if (opts.rateLimitKey !== undefined) await buckets.get(opts.rateLimitKey)?.take(signal);
        const work = fn({ attempt, signal: attemptController.signal, resumed });
        if (opts.timeoutMs === undefined) return await work;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new FirebreakError('TIMEOUT', `step ${stepId} did not finish within ${opts.timeoutMs} ms`);
            attemptController.abort(err);
            reject(err);
          }, opts.timeoutMs);
        });
        return await Promise.race([work, timeout]);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      }
    }

    const ctx: WorkflowContext = {
      runId,
      signal,

      async step<T>(id: string, fn: (run: StepRun) => Promise<T>, opts: StepOptions = {}): Promise<T> {
        const stepId = full(id);
        const existing = store.getStep(runId, stepId);
        if (existing?.status === 'completed') return existing.output as T;
        const policy = opts.retry ?? NO_RETRY;
        const meta = opts.meta ?? {};
        for (let local = 1; ; local++) {
          throwIfCancelled();
          const attempt = store.startAttempt({ runId, stepId, parentId, kind: 'step', meta, now: now() });
          emit({ type: 'step', runId, stepId, parentId, status: 'running', attempt, meta });
          try {
            const value = await attemptOnce(stepId, fn, attempt, opts, attempt > 1);
            const output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
            store.tx(() => {
              store.finishAttempt({ runId, stepId, attempt, status: 'completed', output, now: now() });
              journal({ type: 'step', runId, stepId, kind: 'step', status: 'completed', attempt, meta, output });
            });
            emit({ type: 'step', runId, stepId, parentId, status: 'completed', attempt, meta });
            return (store.getStep(runId, stepId)?.output ?? output) as T;
          } catch (err) {
            const cancelled = signal.aborted;
            const error = cancelled ? toErrorData(signal.reason) : { ...toErrorData(err), ...retryAfter(err) };
            const status = cancelled ? 'cancelled' : 'failed';
            store.tx(() => {
              store.finishAttempt({ runId, stepId, attempt, status, error, now: now() });
              journal({ type: 'step', runId, stepId, kind: 'step', status, attempt, meta, error });
            });
            emit({ type: 'step', runId, stepId, parentId, status, attempt, error, meta });
            const delay = cancelled ? undefined : retryDelay(policy, local, error);
            if (delay === undefined) throw fromErrorData(error);
            await abortableSleep(delay, signal);
          }
        }
      },

      async generate(id: string, fn: () => Secret | Promise<Secret>): Promise<Secret> {
        const stepId = full(id);
        const aad = `${runId}/${stepId}`;
        const existing = store.getStep(runId, stepId);
        if (existing?.status === 'completed' && existing.sealed !== null) return options.sealer.unseal(existing.sealed, aad);
        throwIfCancelled();
        const attempt = store.startAttempt({ runId, stepId, parentId, kind: 'generate', meta: {}, now: now() });
        const value = await fn();
        // Sealed and committed before the caller can apply it: a resumed run applies this same value.
        store.tx(() => {
          store.finishAttempt({ runId, stepId, attempt, status: 'completed', output: { generated: true }, sealed: options.sealer.seal(value.reveal(), aad), now: now() });
          journal({ type: 'step', runId, stepId, kind: 'generate', status: 'completed', attempt, meta: {} });
        });
        return value;
      },

      async sleep(id: string, ms: number): Promise<void> {
        const stepId = full(id);
        const existing = store.getStep(runId, stepId);
        if (existing?.status === 'completed') return;
        const wakeAt = typeof existing?.meta['wakeAt'] === 'number' ? existing.meta['wakeAt'] : Date.now() + ms;
        const attempt = store.startAttempt({ runId, stepId, parentId, kind: 'sleep', meta: { wakeAt }, now: now() });
        await abortableSleep(Math.max(0, wakeAt - Date.now()), signal);
        store.finishAttempt({ runId, stepId, attempt, status: 'completed', now: now() });
      },

      async waitForSignal<T>(id: string, name: string, o: { meta?: Readonly<Record<string, unknown>>; accept?: (payload: unknown) => T | undefined } = {}): Promise<T> {
        const stepId = full(id);
        const existing = store.getStep(runId, stepId);
        if (existing?.status === 'completed') return existing.output as T;
        throwIfCancelled();
        const meta = { ...o.meta, signal: name };
        const attempt = store.startAttempt({ runId, stepId, parentId, kind: 'signal', meta, now: now(), status: 'waiting' });
        emit({ type: 'waiting', runId, stepId, signal: name, meta });
        let announced = false;
        for (;;) {
          const got = store.tx(() => {
            for (;;) {
              const sig = store.takeSignal(runId, name, stepId);
              if (sig === undefined) return undefined;
              const accepted = o.accept === undefined ? (sig.payload as T) : o.accept(sig.payload);
              if (accepted === undefined) continue;
              const output = JSON.parse(JSON.stringify(accepted)) as unknown;
              store.finishAttempt({ runId, stepId, attempt, status: 'completed', output, now: now() });
              journal({ type: 'signal', runId, name, payload: output });
              return { value: accepted };
            }
          });
          if (got !== undefined) {
            if (announced) setStatus(runId, 'running');
            emit({ type: 'step', runId, stepId, parentId, status: 'completed', attempt, meta });
            return got.value;
          }
          if (options.waitMode === 'suspend') {
            state.suspended = true;
            throw new Suspended();
          }
          if (!announced) { setStatus(runId, 'waiting'); announced = true; }
          await abortableSleep(pollMs, signal);
        }
      },

      async fanOut<I, T>(id: string, items: readonly FanOutItem<I>[], fn: (item: FanOutItem<I>, c: WorkflowContext) => Promise<T>, opts: FanOutOptions): Promise<FanOutResult<T>> {
        const stepId = full(id);
        const keys = new Set<string>();
        for (const item of items) {
          if (keys.has(item.key)) throw new FirebreakError('INVALID_INPUT', `fan-out ${stepId}: item key "${item.key}" appears twice`);
          keys.add(item.key);
        }
        const meta = { ...opts.meta, total: items.length, concurrency: opts.concurrency };
        const fanAttempt = store.startAttempt({ runId, stepId, parentId, kind: 'fanout', meta, now: now() });
        let done = 0;
        let failed = 0;
        const progress = () => { emit({ type: 'fanout', runId, stepId, total: items.length, done, failed }); };
        // Items finished in an earlier execution count as done at once.
        const settled = await mapWithConcurrency(items, opts.concurrency, async (item) => {
          const itemId = `${stepId}[${item.key}]`;
          const prior = store.getStep(runId, itemId);
          if (prior?.status === 'completed') { done++; progress(); return prior.output as T; }
          throwIfCancelled();
          const attempt = store.startAttempt({ runId, stepId: itemId, parentId: stepId, kind: 'item', meta: { key: item.key }, now: now() });
          try {
            const value = await fn(item, makeContext(runId, signal, `${itemId}/`, itemId, failures, state));
            const output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
            store.finishAttempt({ runId, stepId: itemId, attempt, status: 'completed', output, now: now() });
            done++;
            progress();
            return output as T;
          } catch (err) {
            const error = signal.aborted ? toErrorData(signal.reason) : toErrorData(err);
            store.finishAttempt({ runId, stepId: itemId, attempt, status: signal.aborted ? 'cancelled' : 'failed', error, now: now() });
            failed++;
            progress();
            throw fromErrorData(error);
          }
        });
        throwIfCancelled();
        const result: { succeeded: { key: string; value: T }[]; failed: { key: string; error: ErrorData }[] } = { succeeded: [], failed: [] };
        settled.forEach((s, i) => {
          const key = (items[i] as FanOutItem<I>).key;
          if (s.status === 'fulfilled') result.succeeded.push({ key, value: s.value });
          else result.failed.push({ key, error: toErrorData(s.reason) });
        });
        const summary = { succeeded: result.succeeded.length, failed: result.failed.map((f) => f.key) };
        store.tx(() => {
          store.finishAttempt({ runId, stepId, attempt: fanAttempt, status: 'completed', output: summary, now: now() });
          journal({ type: 'step', runId, stepId, kind: 'fanout', status: 'completed', attempt: fanAttempt, meta, output: summary });
        });
        return result;
      },

      async stepState(id: string) {
        const r = store.getStep(runId, full(id));
        return r === undefined ? undefined : { status: r.status, attempts: r.attempts, error: r.error };
      },

      markPartial(list) {
        failures.push(...list);
      },
    };
    return ctx;
  }

  return {
    name: 'embedded-sqlite',
    register(name, fn) {
      workflows.set(name, fn);
    },
    async start(o: StartOptions) {
      const created = store.createRun({ id: o.runId, workflow: o.workflow, incidentId: o.incidentId ?? null, input: o.input, initiator: o.initiator, now: now() });
      if (!created) {
        const run = store.getRun(o.runId);
        if (run !== undefined && TERMINAL_STATUSES.includes(run.status)) return outcomeOf(run);
      } else {
        journal({ type: 'run', runId: o.runId, status: 'pending' });
      }
      return execute(o.runId, false);
    },
    async resume(runId) {
      const run = store.getRun(runId);
      if (run === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} does not exist`);
      if (run.status === 'completed') return outcomeOf(run);
      return execute(runId, true);
    },
    async cancel(runId, reason) {
      const run = store.getRun(runId);
      if (run === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} does not exist`);
      if (TERMINAL_STATUSES.includes(run.status)) return;
      store.requestCancel(runId, now());
      const local = active.get(runId);
      const error = new FirebreakError('CANCELLED', reason ?? `run ${runId} was cancelled`);
      if (local !== undefined) local.abort(error);
      else if (!ownerIsLive(runId)) setStatus(runId, 'cancelled', { result: null, error: toErrorData(error) });
    },
    async signal(runId, name, payload) {
      if (store.getRun(runId) === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} does not exist`);
      store.addSignal(runId, name, payload, now());
    },
    async get(runId) {
      return store.getRun(runId);
    },
    async list(filter) {
      return store.listRuns(filter ?? {});
    },
    async steps(runId) {
      return store.listSteps(runId);
    },
    onProgress(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    setRateLimit(key: string, limit: RateLimit) {
      buckets.set(key, new TokenBucket(limit));
    },
    async close() {
      for (const c of active.values()) c.abort(new FirebreakError('CANCELLED', 'runtime closed'));
    },
  };
}

function outcomeOf(run: { id: string; status: RunStatus; result: unknown; error: ErrorData | null }): RunOutcome {
  return { runId: run.id, status: run.status, result: run.result, ...(run.error === null ? {} : { error: run.error }) };
}

function retryAfter(err: unknown): { retryAfterMs?: number } {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' ? { retryAfterMs: ms } : {};
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
