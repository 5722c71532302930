import type { ErrorData } from '../../lib/errors.ts';
import type { CommittedEvent, JournalEvent, RunStatus, StepRecord, StepStatus } from '../../engine/runtime-types.ts';
import type { JournalStore } from './journal-store.ts';

/** A step's start as the journal records it; the attempt number is the journal's (one more than the step's last). */
export interface AttemptStart {
  readonly stepId: string;
  readonly parentId: string | null;
  readonly kind: StepRecord['kind'];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly status?: StepStatus;
  /** The event that announces the start: a step event (with the journal's attempt number) or a wait. */
  readonly announce?: 'step' | { readonly signal: string };
  /** The step has no row yet (known in a run's first execution): inserted without a look-up. */
  readonly isNew?: boolean;
}

export interface AttemptEnd {
  readonly stepId: string;
  readonly attempt: number;
  readonly status: StepStatus;
  readonly output?: unknown;
  readonly sealed?: string;
  readonly error?: ErrorData;
}

/**
 * A step journaled once, at its end, with the start it had: a fan-out item of
 * a first execution (it acts only through its own steps, each journaled
 * before it acts; its row says it ended). `seq` was taken when it started,
 * so the rows keep the order the items started in.
 */
export interface EndedStep {
  readonly stepId: string;
  readonly parentId: string | null;
  readonly kind: StepRecord['kind'];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly seq: number;
  readonly startedAt: string;
  readonly status: StepStatus;
  readonly output?: unknown;
  readonly error?: ErrorData;
}

/** One write of a change, as data, so that it can be applied by another thread or batched with others. */
export type JournalWrite =
  | { readonly op: 'start'; readonly step: AttemptStart }
  | { readonly op: 'finish'; readonly step: AttemptEnd }
  | { readonly op: 'ended'; readonly step: EndedStep }
  | { readonly op: 'status'; readonly status: RunStatus; readonly end?: { readonly result?: unknown; readonly error?: ErrorData | null } }
  | { readonly op: 'event'; readonly event: JournalEvent };

/** The writes of one run that must be durable together, with the events they record. */
export interface JournalChange {
  readonly runId: string;
  readonly at: string;
  readonly writes: readonly JournalWrite[];
}

/** What a committed change produced: the attempt numbers of its starts (in order) and the events it recorded, as stored. */
export interface Committed {
  readonly attempts: readonly number[];
  readonly recorded: readonly CommittedEvent[];
}

/** Applies one change's writes and events; call inside the transaction that makes them durable. */
export function applyChange(store: JournalStore, c: JournalChange, superseded: (e: JournalEvent) => boolean = () => false): Committed {
  const attempts: number[] = [];
  const events: JournalEvent[] = [];
  // The outputs the change's ends stored (a change ends one step, or a few).
  const outputs: { stepId: string; text: string | null }[] = [];
  const { runId, at } = c;
  for (const w of c.writes) {
    if (w.op === 'start') {
      const s = w.step;
      const attempt = store.startAttempt({ runId, stepId: s.stepId, parentId: s.parentId, kind: s.kind, meta: s.meta, now: at, ...(s.status === undefined ? {} : { status: s.status }), ...(s.isNew === true ? { isNew: true } : {}) });
      attempts.push(attempt);
      if (s.announce === 'step') events.push({ type: 'step', runId, stepId: s.stepId, parentId: s.parentId, kind: s.kind, status: s.status ?? 'running', attempt, meta: s.meta });
      else if (s.announce !== undefined) events.push({ type: 'waiting', runId, stepId: s.stepId, signal: s.announce.signal, meta: s.meta });
    } else if (w.op === 'finish') {
      outputs.push({ stepId: w.step.stepId, text: store.finishAttempt({ runId, now: at, ...w.step }) });
    } else if (w.op === 'ended') {
      outputs.push({ stepId: w.step.stepId, text: store.insertEnded({ runId, now: at, ...w.step }) });
    } else if (w.op === 'status') {
      store.setRunStatus(runId, w.status, at, w.end);
      events.push({ type: 'run', runId, status: w.status, ...(w.end?.error == null ? {} : { error: w.end.error }) });
    } else if (!superseded(w.event)) {
      events.push(w.event);
    }
  }
  const recorded = events.map((e): CommittedEvent => {
    const r = store.addEvent(e, at);
    // The output a step's completion reports, as this change stored it (the audit entry cites it).
    const output = e.type === 'step' && e.status === 'completed' ? outputs.find((o) => o.stepId === e.stepId) : undefined;
    return output === undefined ? r : { ...r, output: output.text === null ? null : JSON.parse(output.text) as unknown };
  });
  return { attempts, recorded };
}

/**
 * Applies a batch of changes in one durable transaction: all of them or none.
 * A fan-out's progress counts are superseded by its next ones: of those in
 * one batch only the last is recorded (what it counts is all committed with it).
 */
export function applyBatch(store: JournalStore, changes: readonly JournalChange[]): Committed[] {
  const lastProgress = new Map<string, JournalEvent>();
  for (const c of changes) {
    for (const w of c.writes) if (w.op === 'event' && w.event.type === 'fanout') lastProgress.set(`${c.runId}\u0000${w.event.stepId}`, w.event);
  }
  const superseded = (e: JournalEvent) => e.type === 'fanout' && lastProgress.get(`${e.runId}\u0000${e.stepId}`) !== e;
  return store.tx(() => changes.map((c) => applyChange(store, c, superseded)));
}
