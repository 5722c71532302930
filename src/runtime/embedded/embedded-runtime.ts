import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError, toErrorData, type ErrorData } from '../../lib/errors.ts';
import type { Sealer } from '../../lib/sealer.ts';
import { releaseSecretScope, withSecretScope } from '../../lib/secret.ts';
import { TokenBucket } from '../../engine/rate-limit.ts';
import {
  TERMINAL_STATUSES, progressOf,
  type CommittedEvent, type DurableRuntime, type JournalEvent, type ProgressEvent, type RateLimit, type RunOutcome, type RunStatus, type StartOptions, type WorkflowFn,
} from '../../engine/runtime-types.ts';
import { JournalStore } from './journal-store.ts';
import { createRunContext, Suspended, type Execution, type RunJournal } from './run-context.ts';
import { createRunOwner } from './run-owner.ts';
import { createJournalWriter } from './journal-writer.ts';

export interface EmbeddedRuntimeOptions {
  readonly db: DatabaseSync;
  readonly sealer: Sealer;
  /** How waits behave when the signal is not there yet: keep polling (CLI) or suspend the run as `waiting` (server). */
  readonly waitMode?: 'block' | 'suspend';
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  /** Called after every commit that recorded journal events, with them (the application appends them to the audit trail). */
  readonly onCommit?: (events: readonly CommittedEvent[]) => void;
  readonly now?: () => Date;
}

/**
 * The embedded durable runtime: Firebreak's own journal on SQLite. Runs
 * execute in the calling process; every step's start is committed (WAL,
 * synchronous=FULL) together with its journal event, and with everything
 * journaled before it, before the step acts, so a SIGKILL at any moment
 * loses at most the steps in flight, which are re-run on resume. Concurrent
 * steps' writes share one transaction (group commit, journal-writer.ts).
 */
export function createEmbeddedRuntime(options: EmbeddedRuntimeOptions): DurableRuntime {
  const store = new JournalStore(options.db);
  const workflows = new Map<string, WorkflowFn>();
  const listeners = new Set<(e: ProgressEvent) => void>();
  const buckets = new Map<string, TokenBucket>();
  const active = new Map<string, AbortController>();
  const pollMs = options.pollMs ?? 200;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const owner = createRunOwner(store, heartbeatMs);
  // Thousands of writes a second: the text of one millisecond is made once.
  let last = { ms: Number.NaN, text: '' };
  const now = (): string => {
    if (options.now !== undefined) return options.now().toISOString();
    const ms = Date.now();
    if (ms !== last.ms) last = { ms, text: new Date(ms).toISOString() };
    return last.text;
  };
  const writer = createJournalWriter(store);

  /** Once committed, a change's events go to this process's listeners and the application's hook. */
  const committed = (recorded: readonly CommittedEvent[]): void => {
    if (recorded.length === 0) return;
    for (const r of recorded) {
      const p = progressOf(r.event);
      if (p !== undefined) for (const l of listeners) l(p);
    }
    options.onCommit?.(recorded);
  };
  /** A change made on this thread's connection, in one transaction with the events it records. */
  const commitHere = <T>(change: (record: (e: JournalEvent) => void) => T): T => {
    const events: JournalEvent[] = [];
    let recorded: CommittedEvent[] = [];
    const result = store.tx(() => {
      const r = change((e) => { events.push(e); });
      const at = now();
      recorded = events.map((e) => store.addEvent(e, at));
      return r;
    });
    committed(recorded);
    return result;
  };

  const journal: RunJournal = {
    store, sealer: options.sealer, buckets, waitMode: options.waitMode ?? 'block', pollMs, now,
    write(runId, writes) {
      return writer.write({ runId, at: now(), writes }).then((c) => {
        committed(c.recorded);
        return c;
      });
    },
    async commitNow(runId, change) {
      await writer.barrier(runId);
      return commitHere(change);
    },
    async setStatus(runId, status, end) {
      await journal.write(runId, [{ op: 'status', status, ...(end === undefined ? {} : { end }) }]);
    },
    idle: () => writer.idle(),
  };

  const executions = new Set<Promise<RunOutcome>>();
  /** Executes the run in this process; `close` waits for what is executing to settle. */
  function execute(runId: string, clearCancel: boolean): Promise<RunOutcome> {
    const p = executeHere(runId, clearCancel);
    executions.add(p);
    const forget = () => { executions.delete(p); };
    p.then(forget, forget);
    return p;
  }

  async function executeHere(runId: string, clearCancel: boolean): Promise<RunOutcome> {
    const run = store.getRun(runId);
    if (run === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} does not exist`);
    const fn = workflows.get(run.workflow);
    if (fn === undefined) throw new FirebreakError('NOT_FOUND', `run ${runId} uses workflow "${run.workflow}", which is not registered`);
    if (active.has(runId) || owner.isLive(runId)) {
      throw new FirebreakError('CONFLICT', `run ${runId} is being executed by another process (${store.ownerInfo(runId).owner ?? 'unknown'})`);
    }
    const controller = new AbortController();
    active.set(runId, controller);
    store.claimRun(runId, owner.id, now(), clearCancel);
    writer.forget(runId);
    store.forgetSeq(runId);
    // A cancel request is looked for every poll; the heartbeat (a durable write) is renewed every heartbeatMs.
    let beatAt = Date.now();
    const beat = setInterval(() => {
      const renew = Date.now() - beatAt >= heartbeatMs;
      if (renew) beatAt = Date.now();
      const cancelled = renew ? store.heartbeat(runId, owner.id, now()).cancelRequested : store.cancelRequested(runId);
      if (cancelled && !controller.signal.aborted) controller.abort(new FirebreakError('CANCELLED', `run ${runId} was cancelled`));
    }, Math.min(pollMs, heartbeatMs));
    beat.unref();
    const x: Execution = { runId, signal: controller.signal, failures: [], completing: new Map(), suspended: false, fresh: store.hasNoSteps(runId) };
    // Secrets the run wraps are redacted while it executes and forgotten when it ends (a server runs for weeks).
    const scope = `${runId}:${owner.id}`;
    try {
      return await withSecretScope(scope, async () => {
        try {
          await journal.setStatus(runId, 'running');
          const value = await fn(createRunContext(journal, x), run.input);
          if (x.suspended) throw new Suspended();
          const status: RunStatus = x.failures.length > 0 ? 'completed_with_failures' : 'completed';
          const result = { output: value ?? null, failures: x.failures };
          await journal.setStatus(runId, status, { result, error: null });
          return { runId, status, result: JSON.parse(JSON.stringify(result)) as unknown };
        } catch (err) {
          if (err instanceof Suspended || (x.suspended && !controller.signal.aborted)) {
            await journal.setStatus(runId, 'waiting');
            return { runId, status: 'waiting' };
          }
          const error = controller.signal.aborted ? toErrorData(controller.signal.reason) : toErrorData(err);
          const status: RunStatus = error.code === 'CANCELLED' ? 'cancelled' : 'failed';
          await journal.setStatus(runId, status, { result: { failures: x.failures }, error });
          return { runId, status, error };
        }
      });
    } finally {
      clearInterval(beat);
      active.delete(runId);
      store.forgetSeq(runId);
      store.releaseRun(runId, owner.id);
      releaseSecretScope(scope);
    }
  }

  function create(o: StartOptions): boolean {
    return commitHere((record) => {
      const created = store.createRun({ id: o.runId, workflow: o.workflow, incidentId: o.incidentId ?? null, input: o.input, initiator: o.initiator, now: now() });
      if (created) record({ type: 'run', runId: o.runId, status: 'pending' });
      return created;
    });
  }

  return {
    name: 'embedded-sqlite',
    register(name, fn) {
      workflows.set(name, fn);
    },
    async start(o: StartOptions) {
      if (!create(o)) {
        const run = store.getRun(o.runId);
        if (run !== undefined && TERMINAL_STATUSES.includes(run.status)) return outcomeOf(run);
      }
      return execute(o.runId, false);
    },
    async create(o: StartOptions) {
      return create(o);
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
      else if (!owner.isLive(runId)) await journal.setStatus(runId, 'cancelled', { result: null, error: toErrorData(error) });
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
    async step(runId, stepId) {
      // The sealed value stays inside the runtime.
      const s = store.getStep(runId, stepId);
      return s === undefined ? undefined : { ...s, sealed: undefined };
    },
    async events(filter) {
      return store.events(filter);
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
      // The cancelled runs record their end before the writer stops.
      await Promise.allSettled(executions);
      await writer.close();
    },
  };
}

function outcomeOf(run: { id: string; status: RunStatus; result: unknown; error: ErrorData | null }): RunOutcome {
  return { runId: run.id, status: run.status, result: run.result, ...(run.error === null ? {} : { error: run.error }) };
}
