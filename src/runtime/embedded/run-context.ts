import { FirebreakError, fromErrorData, toErrorData, type ErrorData } from '../../lib/errors.ts';
import type { Sealer } from '../../lib/sealer.ts';
import type { Secret } from '../../lib/secret.ts';
import { mapWithConcurrency, type TokenBucket } from '../../engine/rate-limit.ts';
import { NO_RETRY, abortableSleep, retryDelay } from '../../engine/retry.ts';
import type {
  FanOutItem, FanOutOptions, FanOutResult, JournalEvent, RunStatus, StepOptions, StepRun, WorkflowContext,
} from '../../engine/runtime-types.ts';
import type { JournalStore } from './journal-store.ts';

/** What the contexts of one runtime share: the journal and how a commit reports its events. */
export interface RunJournal {
  readonly store: JournalStore;
  readonly sealer: Sealer;
  readonly buckets: ReadonlyMap<string, TokenBucket>;
  readonly waitMode: 'block' | 'suspend';
  readonly pollMs: number;
  now(): string;
  /**
   * Runs `change` in one transaction together with the events it records;
   * once committed, the events go to this process's listeners.
   */
  commit<T>(change: (record: (e: JournalEvent) => void) => T): T;
  setStatus(runId: string, status: RunStatus, end?: { result?: unknown; error?: ErrorData | null }): void;
}

/** The state of one execution of a run, shared by its contexts (the run's and its fan-out items'). */
export interface Execution {
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly failures: { stepId: string; key?: string; error: ErrorData }[];
  /** Set when a wait suspended the run (suspend mode): it ends `waiting`. */
  suspended: boolean;
}

/** Thrown out of a wait in suspend mode; the run is marked `waiting` even if workflow code catches it. */
export class Suspended extends Error {}

/**
 * The workflow context over the journal: every step boundary is committed
 * (with its event) before the workflow moves on. `prefix` and `parentId`
 * scope the ids of a fan-out item's steps (`<fanout>[<key>]/<step>`).
 */
export function createRunContext(j: RunJournal, x: Execution, prefix = '', parentId: string | null = null): WorkflowContext {
  const { store } = j;
  const { runId, signal } = x;
  const full = (id: string) => `${prefix}${id}`;
  const throwIfCancelled = () => { if (signal.aborted) throw signal.reason as Error; };

  /** Journals the start of an attempt (before the step touches anything); returns its number. */
  const begin = (stepId: string, kind: 'step' | 'generate' | 'sleep' | 'signal' | 'fanout' | 'item', meta: Readonly<Record<string, unknown>>, parent: string | null, status: 'running' | 'waiting' = 'running'): number =>
    j.commit((record) => {
      const attempt = store.startAttempt({ runId, stepId, parentId: parent, kind, meta, now: j.now(), status });
      // Followers see a step start; generated values, fan-outs and items show through their end and the fan-out's progress.
      if (kind === 'step') record({ type: 'step', runId, stepId, parentId: parent, kind, status, attempt, meta });
      return attempt;
    });

  /** Journals the end of an attempt with its event. */
  const end = (stepId: string, kind: 'step' | 'generate' | 'sleep' | 'signal' | 'fanout' | 'item', parent: string | null, attempt: number, meta: Readonly<Record<string, unknown>>,
    outcome: { status: 'completed' | 'failed' | 'cancelled'; output?: unknown; sealed?: string; error?: ErrorData }, extra?: JournalEvent): void => {
    j.commit((record) => {
      store.finishAttempt({ runId, stepId, attempt, now: j.now(), ...outcome });
      // An item's end is recorded as its fan-out's progress (`extra`); its steps have their own events.
      if (kind !== 'item') record({ type: 'step', runId, stepId, parentId: parent, kind, status: outcome.status, attempt, meta, ...(outcome.error === undefined ? {} : { error: outcome.error }) });
      if (extra !== undefined) record(extra);
    });
  };

  async function attemptOnce<T>(stepId: string, fn: (run: StepRun) => Promise<T>, attempt: number, opts: StepOptions, resumed: boolean): Promise<T> {
    const attemptController = new AbortController();
    const onAbort = () => { attemptController.abort(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      if (opts.rateLimitKey !== undefined) await j.buckets.get(opts.rateLimitKey)?.take(signal);
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

  return {
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
        const attempt = begin(stepId, 'step', meta, parentId);
        try {
          const value = await attemptOnce(stepId, fn, attempt, opts, attempt > 1);
          const output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
          end(stepId, 'step', parentId, attempt, meta, { status: 'completed', output });
          return (store.getStep(runId, stepId)?.output ?? output) as T;
        } catch (err) {
          const cancelled = signal.aborted;
          const error = cancelled ? toErrorData(signal.reason) : { ...toErrorData(err), ...retryAfter(err) };
          end(stepId, 'step', parentId, attempt, meta, { status: cancelled ? 'cancelled' : 'failed', error });
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
      if (existing?.status === 'completed' && existing.sealed !== null) return j.sealer.unseal(existing.sealed, aad);
      throwIfCancelled();
      const attempt = begin(stepId, 'generate', {}, parentId);
      const value = await fn();
      // Sealed and committed before the caller can apply it: a resumed run applies this same value.
      end(stepId, 'generate', parentId, attempt, {}, { status: 'completed', output: { generated: true }, sealed: j.sealer.seal(value.reveal(), aad) });
      return value;
    },

    async sleep(id: string, ms: number): Promise<void> {
      const stepId = full(id);
      const existing = store.getStep(runId, stepId);
      if (existing?.status === 'completed') return;
      const wakeAt = typeof existing?.meta['wakeAt'] === 'number' ? existing.meta['wakeAt'] : Date.now() + ms;
      const attempt = store.startAttempt({ runId, stepId, parentId, kind: 'sleep', meta: { wakeAt }, now: j.now() });
      await abortableSleep(Math.max(0, wakeAt - Date.now()), signal);
      store.finishAttempt({ runId, stepId, attempt, status: 'completed', now: j.now() });
    },

    async waitForSignal<T>(id: string, name: string, o: { meta?: Readonly<Record<string, unknown>>; accept?: (payload: unknown) => T | undefined } = {}): Promise<T> {
      const stepId = full(id);
      const existing = store.getStep(runId, stepId);
      if (existing?.status === 'completed') return existing.output as T;
      throwIfCancelled();
      const meta = { ...o.meta, signal: name };
      const attempt = j.commit((record) => {
        const a = store.startAttempt({ runId, stepId, parentId, kind: 'signal', meta, now: j.now(), status: 'waiting' });
        record({ type: 'waiting', runId, stepId, signal: name, meta });
        return a;
      });
      let announced = false;
      for (;;) {
        const got = j.commit((record) => {
          for (;;) {
            const sig = store.takeSignal(runId, name, stepId);
            if (sig === undefined) return undefined;
            const accepted = o.accept === undefined ? (sig.payload as T) : o.accept(sig.payload);
            if (accepted === undefined) continue;
            const output = JSON.parse(JSON.stringify(accepted)) as unknown;
            store.finishAttempt({ runId, stepId, attempt, status: 'completed', output, now: j.now() });
            record({ type: 'signal', runId, stepId, name, payload: output });
            record({ type: 'step', runId, stepId, parentId, kind: 'signal', status: 'completed', attempt, meta });
            return { value: accepted };
          }
        });
        if (got !== undefined) {
          if (announced) j.setStatus(runId, 'running');
          return got.value;
        }
        if (j.waitMode === 'suspend') {
          x.suspended = true;
          throw new Suspended();
        }
        if (!announced) { j.setStatus(runId, 'waiting'); announced = true; }
        await abortableSleep(j.pollMs, signal);
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
      const total = items.length;
      const fanAttempt = begin(stepId, 'fanout', meta, parentId);
      let done = 0;
      let failed = 0;
      const progress = (): JournalEvent => ({ type: 'fanout', runId, stepId, total, done, failed });
      // Items are started in their order (mapWithConcurrency starts the next one as a slot frees),
      // so the order of the journal's item rows does not depend on timing.
      const settled = await mapWithConcurrency(items, opts.concurrency, async (item) => {
        const itemId = `${stepId}[${item.key}]`;
        const prior = store.getStep(runId, itemId);
        // Items finished in an earlier execution count as done at once.
        if (prior?.status === 'completed') { done++; return prior.output as T; }
        throwIfCancelled();
        const itemMeta = { key: item.key };
        const attempt = begin(itemId, 'item', itemMeta, stepId);
        try {
          const value = await fn(item, createRunContext(j, x, `${itemId}/`, itemId));
          const output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
          done++;
          end(itemId, 'item', stepId, attempt, itemMeta, { status: 'completed', output }, progress());
          return output as T;
        } catch (err) {
          const error = signal.aborted ? toErrorData(signal.reason) : toErrorData(err);
          failed++;
          end(itemId, 'item', stepId, attempt, itemMeta, { status: signal.aborted ? 'cancelled' : 'failed', error }, progress());
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
      end(stepId, 'fanout', parentId, fanAttempt, meta, { status: 'completed', output: summary }, progress());
      return result;
    },

    async stepState(id: string) {
      const r = store.getStep(runId, full(id));
      return r === undefined ? undefined : { status: r.status, attempts: r.attempts, error: r.error };
    },

    markPartial(list) {
      x.failures.push(...list);
    },
  };
}

function retryAfter(err: unknown): { retryAfterMs?: number } {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' ? { retryAfterMs: ms } : {};
}
