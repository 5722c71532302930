import type { ErrorData } from '../lib/errors.ts';
import type { Secret } from '../lib/secret.ts';

/**
 * The narrow interface every durable runtime implements: the embedded one on
 * SQLite (src/runtime/embedded/) and, later, one on an existing durable engine
 * over PostgreSQL (DBOS Transact). Both must pass test/conformance/.
 *
 * A workflow is a deterministic async function of its input that reaches the
 * outside world only through {@link WorkflowContext}: every side effect is a
 * step with a stable id whose result is journaled, so replaying the function
 * after a crash skips finished work and re-runs only what was in flight.
 */
export type WorkflowFn = (ctx: WorkflowContext, input: unknown) => Promise<unknown>;

export const RunStatuses = ['pending', 'running', 'waiting', 'completed', 'completed_with_failures', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RunStatuses)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'completed_with_failures', 'failed', 'cancelled'];

export const StepStatuses = ['running', 'completed', 'failed', 'waiting', 'cancelled'] as const;
export type StepStatus = (typeof StepStatuses)[number];

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay randomised (0..1); "full jitter" is 1. */
  readonly jitter: number;
}

export interface StepOptions {
  readonly retry?: RetryPolicy;
  /** Per attempt. The step's AbortSignal fires at the deadline; the attempt fails with TIMEOUT (retryable). */
  readonly timeoutMs?: number;
  /** Free-form description journaled with the step (title, phase, system, effect…), shown by runs show / reports. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Rate limit key: attempts wait for a token of this bucket (per target system). */
  readonly rateLimitKey?: string;
}

export interface StepRun {
  readonly attempt: number;
  readonly signal: AbortSignal;
  /** True when this attempt follows an earlier one of this step that did not finish (crash or error). */
  readonly resumed: boolean;
}

export interface FanOutItem<I> {
  /** Stable, unique within the fan-out: it names the item's journal row ("device-001"). */
  readonly key: string;
  readonly value: I;
}

export interface FanOutOptions {
  readonly concurrency: number;
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface FanOutResult<T> {
  /** How many items succeeded, in this execution or an earlier one. */
  readonly done: number;
  /** The items that failed, in item order. */
  readonly failed: readonly { readonly key: string; readonly error: ErrorData }[];
  /**
   * The succeeded items' outputs in item order, as the journal recorded them
   * (redacted), read back a page at a time: a fan-out over 100,000 items does
   * not hold their outputs in memory.
   */
  succeeded(): AsyncIterable<{ readonly key: string; readonly value: T }>;
}

export interface RateLimit {
  /** Sustained requests per second. */
  readonly perSecond: number;
  /** Bucket size (bursts). */
  readonly burst?: number;
}

export type ProgressEvent =
  | { readonly type: 'run'; readonly runId: string; readonly status: RunStatus }
  | { readonly type: 'step'; readonly runId: string; readonly stepId: string; readonly parentId: string | null; readonly status: StepStatus; readonly attempt: number; readonly error?: ErrorData; readonly meta?: Readonly<Record<string, unknown>> }
  | { readonly type: 'fanout'; readonly runId: string; readonly stepId: string; readonly total: number; readonly done: number; readonly failed: number }
  | { readonly type: 'waiting'; readonly runId: string; readonly stepId: string; readonly signal: string; readonly meta?: Readonly<Record<string, unknown>> };

/**
 * What the journal records, as events in commit order. A runtime writes each
 * one in the same durable unit of work as the change it describes (the step's
 * own commit), so an event exists exactly when its change committed: they are
 * the audit trail's outbox (appended to the chain in order after the commit)
 * and the progress feed a process that did not start the run can follow.
 */
export type JournalEvent =
  | { readonly type: 'run'; readonly runId: string; readonly status: RunStatus; readonly error?: ErrorData }
  | { readonly type: 'step'; readonly runId: string; readonly stepId: string; readonly parentId: string | null; readonly kind: StepRecord['kind']; readonly status: StepStatus; readonly attempt: number; readonly meta: Readonly<Record<string, unknown>>; readonly error?: ErrorData }
  | { readonly type: 'waiting'; readonly runId: string; readonly stepId: string; readonly signal: string; readonly meta?: Readonly<Record<string, unknown>> }
  | { readonly type: 'fanout'; readonly runId: string; readonly stepId: string; readonly total: number; readonly done: number; readonly failed: number }
  | { readonly type: 'signal'; readonly runId: string; readonly stepId: string; readonly name: string; readonly payload: unknown };

/** A journal event with its place in the commit order (ids only grow) and when it was recorded. */
export interface RecordedEvent {
  readonly id: number;
  readonly at: string;
  readonly event: JournalEvent;
}

/**
 * An event as this process committed it, handed to the application without
 * reading it back: as stored (redacted), with the recorded output of the
 * step whose completion it reports, when the same commit recorded it.
 */
export interface CommittedEvent extends RecordedEvent {
  readonly output?: unknown;
}

/**
 * The progress a journal event shows a follower: runs, steps, waits and
 * fan-out counts. Accepted signals, generated values and a fan-out's own
 * start and end are the audit trail's.
 */
export function progressOf(e: JournalEvent): ProgressEvent | undefined {
  if (e.type === 'signal') return undefined;
  if (e.type === 'step' && (e.kind === 'generate' || e.kind === 'fanout')) return undefined;
  return e;
}

export interface WorkflowContext {
  readonly runId: string;
  /** Fires when the run is cancelled. */
  readonly signal: AbortSignal;
  /** Runs `fn` once per run: a completed step's recorded output is returned on replay. Outputs must be JSON. */
  step<T>(id: string, fn: (run: StepRun) => Promise<T>, options?: StepOptions): Promise<T>;
  /**
   * Generates a secret value once per run and journals it sealed before
   * returning it, so a resumed run gets the same value back.
   */
  generate(id: string, fn: () => Secret | Promise<Secret>): Promise<Secret>;
  /** A durable sleep: after a restart only the remaining time is slept. */
  sleep(id: string, ms: number): Promise<void>;
  /**
   * Waits (durably) for a signal sent with {@link DurableRuntime.signal}.
   * `accept` may refuse a payload (it is then consumed and the wait goes on);
   * refusing by throwing fails the step.
   */
  waitForSignal<T>(id: string, name: string, options?: { readonly meta?: Readonly<Record<string, unknown>>; readonly accept?: (payload: unknown) => T | undefined }): Promise<T>;
  /**
   * Runs `fn` for every item with at most `concurrency` at once. Each item is
   * journaled as its own step (`<id>[<key>]`); a failed item never stops the
   * others; on resume, finished items are skipped and failed ones retried.
   */
  fanOut<I, T>(id: string, items: readonly FanOutItem<I>[], fn: (item: FanOutItem<I>, ctx: WorkflowContext) => Promise<T>, options: FanOutOptions): Promise<FanOutResult<T>>;
  /**
   * The journal's record of a step of this run (by the same id as `step`), or
   * undefined when it never started: whether an earlier attempt finished,
   * and how. Read-only; lets a workflow decide before re-running a step that
   * cannot safely be repeated.
   */
  stepState(id: string): Promise<{ readonly status: StepStatus; readonly attempts: number; readonly error: ErrorData | null } | undefined>;
  /** Records that the run ends with failures (listed in its result) rather than failing outright. */
  markPartial(failures: readonly { readonly stepId: string; readonly key?: string; readonly error: ErrorData }[]): void;
}

export interface RunRecord {
  readonly id: string;
  readonly workflow: string;
  readonly incidentId: string | null;
  readonly input: unknown;
  readonly status: RunStatus;
  readonly initiator: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly endedAt: string | null;
  readonly owner: string | null;
  readonly result: unknown;
  readonly error: ErrorData | null;
}

export interface StepRecord {
  readonly runId: string;
  readonly stepId: string;
  readonly parentId: string | null;
  readonly kind: 'step' | 'generate' | 'sleep' | 'signal' | 'fanout' | 'item';
  readonly status: StepStatus;
  readonly attempts: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly output: unknown;
  readonly error: ErrorData | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
}

export interface StartOptions {
  readonly runId: string;
  readonly workflow: string;
  readonly input: unknown;
  readonly initiator: string;
  readonly incidentId?: string;
}

export interface RunOutcome {
  readonly runId: string;
  readonly status: RunStatus;
  readonly result?: unknown;
  readonly error?: ErrorData;
}

export interface DurableRuntime {
  readonly name: string;
  register(name: string, fn: WorkflowFn): void;
  /** Creates the run (idempotent on runId) and executes it in this process until it ends or waits. */
  start(options: StartOptions): Promise<RunOutcome>;
  /**
   * Journals the run without executing it (idempotent on runId): resolves once
   * the run is durable, with whether it was created. `resume` executes it.
   */
  create(options: StartOptions): Promise<boolean>;
  /** Continues a run that crashed, was interrupted, cancelled, or ended with failures (which are retried). */
  resume(runId: string): Promise<RunOutcome>;
  /** Asks the run to stop; the process executing it aborts its steps. Works across processes. */
  cancel(runId: string, reason?: string): Promise<void>;
  /** Delivers a signal to a run (cross-process: stored, picked up by whoever executes the run). */
  signal(runId: string, name: string, payload: unknown): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  list(filter?: { readonly status?: RunStatus; readonly incidentId?: string; readonly limit?: number }): Promise<readonly RunRecord[]>;
  steps(runId: string): Promise<readonly StepRecord[]>;
  /** One step (or fan-out item, or wait) of a run, by its full id. */
  step(runId: string, stepId: string): Promise<StepRecord | undefined>;
  /** Journal events after `afterId` (0: from the first), oldest first: of one run, or of every run. Works across processes. */
  events(filter: { readonly runId?: string; readonly afterId?: number; readonly limit?: number }): Promise<readonly RecordedEvent[]>;
  /** Progress of runs executed by this process. Returns an unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** Sets the rate limit of a key used by {@link StepOptions.rateLimitKey}. */
  setRateLimit(key: string, limit: RateLimit): void;
  close(): Promise<void>;
}
