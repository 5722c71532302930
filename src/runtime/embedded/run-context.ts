import { FirebreakError, fromErrorData, toErrorData, type ErrorData } from '../../lib/errors.ts';
import type { Sealer } from '../../lib/sealer.ts';
import type { Secret } from '../../lib/secret.ts';
import { forEachWithConcurrency, type TokenBucket } from '../../engine/rate-limit.ts';
import { NO_RETRY, abortableSleep, retryDelay } from '../../engine/retry.ts';
import type {
  FanOutItem, FanOutOptions, FanOutResult, JournalEvent, RunStatus, StepOptions, StepRun, WorkflowContext,
} from '../../engine/runtime-types.ts';
import type { JournalStore } from './journal-store.ts';
import type { Committed, JournalWrite } from './journal-writes.ts';

/** What the contexts of one runtime share: the journal and how a commit reports its events. */
export interface RunJournal {
  readonly store: JournalStore;
  readonly sealer: Sealer;
  readonly buckets: ReadonlyMap<string, TokenBucket>;
  readonly waitMode: 'block' | 'suspend';
  readonly pollMs: number;
  now(): string;
  /**
   * Writes one durable change of the run through group commit; settles once
   * it has committed (with everything written before it), when its events go
   * to this process's listeners.
   */
  write(runId: string, writes: readonly JournalWrite[]): Promise<Committed>;
  /**
   * Runs `change` in one transaction on this thread's connection, after
   * everything written before it has committed (what must read and write in
   * one transaction: taking a signal).
   */
  commitNow<T>(runId: string, change: (record: (e: JournalEvent) => void) => T): Promise<T>;
  setStatus(runId: string, status: RunStatus, end?: { result?: unknown; error?: ErrorData | null }): Promise<void>;
  /** Settles when every write so far has committed. */
  idle(): Promise<void>;
}

/** The state of one execution of a run, shared by its contexts (the run's and its fan-out items'). */
export interface Execution {
  readonly runId: string;
  readonly signal: AbortSignal;
  readonly failures: { stepId: string; key?: string; error: ErrorData }[];
  /**
   * Steps completed in this execution whose end is written but not yet
   * committed, with their outputs (a step does not wait for its end: the
   * next step's start, durable only after it, waits for both).
   */
  readonly completing: Map<string, unknown>;
  /** Set when a wait suspended the run (suspend mode): it ends `waiting`. */
  suspended: boolean;
  /** The run had no step when this execution began: a step not started in it has no row to look up. */
  readonly fresh: boolean;
}

type Kind = 'step' | 'generate' | 'sleep' | 'signal' | 'fanout' | 'item';

/** Thrown out of a wait in suspend mode; the run is marked `waiting` even if workflow code catches it. */
export class Suspended extends Error {}

/**
 * The workflow context over the journal: every step boundary is committed
 * (with its event) before the workflow moves on. `prefix` and `parentId`
 * scope the ids of a fan-out item's steps (`<fanout>[<key>]/<step>`).
 */
export function createRunContext(j: RunJournal, x: Execution, prefix = '', parentId: string | null = null, fresh = x.fresh): WorkflowContext {
  const { store } = j;
  const { runId, signal } = x;
  const full = (id: string) => `${prefix}${id}`;
  // In a first execution, the steps this context started are the only ones of its scope with a row.
  const begun = new Set<string>();
  const isNew = (stepId: string) => fresh && !begun.has(stepId);
  const lookup = (stepId: string) => (isNew(stepId) ? undefined : store.getStep(runId, stepId));
  const throwIfCancelled = () => { if (signal.aborted) throw signal.reason as Error; };

  /** Journals the start of an attempt and waits until it is durable (before the step touches anything); returns its number. */
  const begin = async (stepId: string, kind: Kind, meta: Readonly<Record<string, unknown>>, parent: string | null,
    announce: 'step' | { signal: string } | undefined = kind === 'step' && parent === null ? 'step' : undefined, item?: boolean): Promise<number> => {
    // Followers see a run's own steps start; generated values, fan-outs, items and the steps inside
    // items (thousands at once) show through their end and the fan-out's progress.
    const status = announce !== undefined && announce !== 'step' ? 'waiting' : 'running';
    // An item is new when its fan-out is; it is not one of this context's own steps.
    const first = item ?? isNew(stepId);
    if (item === undefined) begun.add(stepId);
    const c = await j.write(runId, [{ op: 'start', step: { stepId, parentId: parent, kind, meta, status, isNew: first, ...(announce === undefined ? {} : { announce }) } }]);
    return c.attempts[0] as number;
  };

  /** Journals the end of an attempt with its event; settles when it is durable. */
  const end = async (stepId: string, kind: Kind, parent: string | null, attempt: number, meta: Readonly<Record<string, unknown>>,
    outcome: { status: 'completed' | 'failed' | 'cancelled'; output?: unknown; sealed?: string; error?: ErrorData }, extra?: JournalEvent): Promise<void> => {
    const writes: JournalWrite[] = [{ op: 'finish', step: { stepId, attempt, ...outcome } }];
    // An item's end is recorded as its fan-out's progress (`extra`); its steps have their own events.
    if (kind !== 'item') writes.push({ op: 'event', event: { type: 'step', runId, stepId, parentId: parent, kind, status: outcome.status, attempt, meta, ...(outcome.error === undefined ? {} : { error: outcome.error }) } });
    if (extra !== undefined) writes.push({ op: 'event', event: extra });
    await j.write(runId, writes);
  };

  /**
   * An end the step does not wait for: the run's next durable write commits
   * after it, and a failure to write it fails that next write.
   */
  const endLater = (stepId: string, output: unknown, ending: Promise<void>): void => {
    x.completing.set(stepId, output);
    ending.then(() => { x.completing.delete(stepId); }, () => { /* the run's next write reports it */ });
  };

  async function attemptOnce<T>(stepId: string, fn: (run: StepRun) => Promise<T>, attempt: number, opts: StepOptions, resumed: boolean): Promise<T> {
    if (opts.timeoutMs === undefined) {
      // Without a timeout the attempt ends only with the run: it gets the run's signal.
      throwIfCancelled();
      if (opts.rateLimitKey !== undefined) await j.buckets.get(opts.rateLimitKey)?.take(signal);
      return fn({ attempt, signal, resumed });
    }
    const attemptController = new AbortController();
    const onAbort = () => { attemptController.abort(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      // A cancel that came while the start was being committed: the step does not act.
      throwIfCancelled();
      if (opts.rateLimitKey !== undefined) await j.buckets.get(opts.rateLimitKey)?.take(signal);
      const work = fn({ attempt, signal: attemptController.signal, resumed });
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
      if (x.completing.has(stepId)) return x.completing.get(stepId) as T;
      const existing = lookup(stepId);
      if (existing?.status === 'completed') return existing.output as T;
      const policy = opts.retry ?? NO_RETRY;
      const meta = opts.meta ?? {};
      for (let local = 1; ; local++) {
        throwIfCancelled();
        const attempt = await begin(stepId, 'step', meta, parentId);
        let output: unknown;
        try {
          const value = await attemptOnce(stepId, fn, attempt, opts, attempt > 1);
          output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
        } catch (err) {
          const cancelled = signal.aborted;
          const error = cancelled ? toErrorData(signal.reason) : { ...toErrorData(err), ...retryAfter(err) };
          // The failure is durable before it is reported: what decides on it (retry, the operator) reads it.
          await end(stepId, 'step', parentId, attempt, meta, { status: cancelled ? 'cancelled' : 'failed', error });
          const delay = cancelled ? undefined : retryDelay(policy, local, error);
          if (delay === undefined) throw fromErrorData(error);
          await abortableSleep(delay, signal);
          continue;
        }
        endLater(stepId, output, end(stepId, 'step', parentId, attempt, meta, { status: 'completed', output }));
        return output as T;
      }
    },

    async generate(id: string, fn: () => Secret | Promise<Secret>): Promise<Secret> {
      const stepId = full(id);
      const aad = `${runId}/${stepId}`;
      const existing = lookup(stepId);
      if (existing?.status === 'completed' && existing.sealed !== null) return j.sealer.unseal(existing.sealed, aad);
      throwIfCancelled();
      const attempt = await begin(stepId, 'generate', {}, parentId);
      const value = await fn();
      // Sealed and committed before the caller can apply it: a resumed run applies this same value.
      await end(stepId, 'generate', parentId, attempt, {}, { status: 'completed', output: { generated: true }, sealed: j.sealer.seal(value.reveal(), aad) });
      return value;
    },

    async sleep(id: string, ms: number): Promise<void> {
      const stepId = full(id);
      const existing = lookup(stepId);
      if (existing?.status === 'completed') return;
      const wakeAt = typeof existing?.meta['wakeAt'] === 'number' ? existing.meta['wakeAt'] : Date.now() + ms;
      const attempt = await begin(stepId, 'sleep', { wakeAt }, parentId);
      await abortableSleep(Math.max(0, wakeAt - Date.now()), signal);
      await j.write(runId, [{ op: 'finish', step: { stepId, attempt, status: 'completed' } }]);
    },

    async waitForSignal<T>(id: string, name: string, o: { meta?: Readonly<Record<string, unknown>>; accept?: (payload: unknown) => T | undefined } = {}): Promise<T> {
      const stepId = full(id);
      const existing = lookup(stepId);
      if (existing?.status === 'completed') return existing.output as T;
      throwIfCancelled();
      const meta = { ...o.meta, signal: name };
      const attempt = await begin(stepId, 'signal', meta, parentId, { signal: name });
      let announced = false;
      for (;;) {
        const got = await j.commitNow(runId, (record) => {
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
          if (announced) await j.setStatus(runId, 'running');
          return got.value;
        }
        if (j.waitMode === 'suspend') {
          x.suspended = true;
          throw new Suspended();
        }
        if (!announced) { await j.setStatus(runId, 'waiting'); announced = true; }
        await abortableSleep(j.pollMs, signal);
      }
    },

    async fanOut<I, T>(id: string, items: readonly FanOutItem<I>[], fn: (item: FanOutItem<I>, c: WorkflowContext) => Promise<T>, opts: FanOutOptions): Promise<FanOutResult<T>> {
      const stepId = full(id);
      assertDistinctKeys(stepId, items);
      const meta = { ...opts.meta, total: items.length, concurrency: opts.concurrency };
      const total = items.length;
      // Items of a fan-out new in this execution are new too (their keys are distinct).
      const itemsFresh = isNew(stepId);
      const fanAttempt = await begin(stepId, 'fanout', meta, parentId);
      let done = 0;
      let failed = 0;
      // Failures only: the items' outputs stay in the journal (succeeded() reads them back).
      const failures: { index: number; key: string; error: ErrorData }[] = [];
      const progress = (): JournalEvent => ({ type: 'fanout', runId, stepId, total, done, failed });
      // Items are started in their order (forEachWithConcurrency starts the next one as a slot frees),
      // so the order of the journal's item rows does not depend on timing.
      await forEachWithConcurrency(items, opts.concurrency, async (item, index) => {
        const itemId = `${stepId}[${item.key}]`;
        const prior = itemsFresh ? undefined : store.getStep(runId, itemId);
        // Items finished in an earlier execution count as done at once.
        if (prior?.status === 'completed') { done++; return; }
        if (signal.aborted) { failures.push({ index, key: item.key, error: toErrorData(signal.reason) }); return; }
        const itemMeta = { key: item.key };
        // A new item's row is written once, at its end: nothing of it acts but its steps, each
        // journaled before it acts (a crash leaves them, and the item runs again on resume).
        // Its number is taken now, so that the rows keep the items' order. An item that may
        // have a row is journaled as it starts, not waited for (its first step's start is).
        const whole = itemsFresh ? { seq: store.reserveSeq(runId), startedAt: j.now() } : undefined;
        const started = whole === undefined ? begin(itemId, 'item', itemMeta, stepId, undefined, false) : Promise.resolve(1);
        started.catch(() => { /* the item's first step or its end reports it */ });
        const endItem = (attempt: number, outcome: { status: 'completed' | 'failed' | 'cancelled'; output?: unknown; error?: ErrorData }): Promise<void> => (whole === undefined
          ? end(itemId, 'item', stepId, attempt, itemMeta, outcome, progress())
          : j.write(runId, [{ op: 'ended', step: { stepId: itemId, parentId: stepId, kind: 'item', meta: itemMeta, ...whole, ...outcome } }, { op: 'event', event: progress() }]).then(() => undefined));
        let output: unknown;
        try {
          const value = await fn(item, createRunContext(j, x, `${itemId}/`, itemId, itemsFresh));
          output = value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
        } catch (err) {
          const error = signal.aborted ? toErrorData(signal.reason) : toErrorData(err);
          failed++;
          try {
            await endItem(await started, { status: signal.aborted ? 'cancelled' : 'failed', error });
            failures.push({ index, key: item.key, error });
          } catch (journal) {
            failures.push({ index, key: item.key, error: toErrorData(journal) });
          }
          return;
        }
        try {
          const attempt = await started;
          done++;
          // The next item's start, or the fan-out's end, commits after this.
          endLater(itemId, output, endItem(attempt, { status: 'completed', output }));
        } catch (journal) {
          failures.push({ index, key: item.key, error: toErrorData(journal) });
        }
      });
      throwIfCancelled();
      failures.sort((p, q) => p.index - q.index);
      const summary = { succeeded: done, failed: failures.map((f) => f.key) };
      await end(stepId, 'fanout', parentId, fanAttempt, meta, { status: 'completed', output: summary }, progress());
      const prefixLength = stepId.length + 1;
      return {
        done,
        failed: failures.map((f) => ({ key: f.key, error: f.error })),
        async *succeeded() {
          for (const row of store.completedChildren(runId, stepId)) yield { key: row.stepId.slice(prefixLength, -1), value: row.output as T };
        },
      };
    },

    async stepState(id: string) {
      // A step not started in a first execution has no state: nothing to wait for or read.
      if (isNew(full(id))) return undefined;
      await j.idle();
      const r = store.getStep(runId, full(id));
      return r === undefined ? undefined : { status: r.status, attempts: r.attempts, error: r.error };
    },

    markPartial(list) {
      x.failures.push(...list);
    },
  };
}

/** A fan-out's items name their journal rows: a key twice is refused before anything starts. */
function assertDistinctKeys(stepId: string, items: readonly FanOutItem<unknown>[]): void {
  const keys = new Set<string>();
  for (const item of items) {
    if (keys.has(item.key)) throw new FirebreakError('INVALID_INPUT', `fan-out ${stepId}: item key "${item.key}" appears twice`);
    keys.add(item.key);
  }
}

function retryAfter(err: unknown): { retryAfterMs?: number } {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' ? { retryAfterMs: ms } : {};
}
