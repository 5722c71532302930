import { toErrorData } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { CommittedEvent, DurableRuntime } from '../engine/runtime-types.ts';
import type { AuditInput, AuditTrail } from '../audit/audit-log.ts';
import { auditEntryOf, type JournalLookups } from '../audit/audit-journal.ts';

const SOURCE = 'journal';
const BATCH = 500;
const HELD_MAX = 20 * BATCH;
/** How long committed events wait to be appended together. */
const COALESCE_MS = 2;

/**
 * Everything the application writes to the audit trail goes through here, in
 * one order: first the journal's outbox (the events the runtime committed
 * with each step, appended after the commit, in commit order), then the
 * application's own entries (a run requested, an approval, evidence). A
 * crash between a step's commit and its audit entry loses nothing: the next
 * process that opens the store appends the events still outstanding.
 */
export class AuditRecorder {
  readonly #runtime: DurableRuntime;
  readonly #audit: AuditTrail;
  readonly #log: Logger;
  readonly #incidents = new Map<string, string | null>();
  /** Events this process committed and has not appended yet, in commit (and so id) order. */
  #committed: CommittedEvent[] = [];
  #queue: Promise<void> = Promise.resolve();
  #scheduled = false;
  /** The next scheduled drain reads the journal to its end (not only this process's events). */
  #readAll = false;
  #closed = false;

  constructor(runtime: DurableRuntime, audit: AuditTrail, log: Logger) {
    this.#runtime = runtime;
    this.#audit = audit;
    this.#log = log;
  }

  /**
   * After a journal commit: appends the outbox soon (within {@link COALESCE_MS}),
   * coalescing the commits made meanwhile into one append: a run of quick
   * sequential steps pays one audit transaction per few milliseconds, not one
   * per step. What reads the trail flushes first; a crash loses nothing (the
   * events are in the journal). `events` are the commit's, as stored: appended
   * from memory while their ids follow the chain's cursor, read back when
   * another process's come first. Without `events` (opening a store that a
   * crashed process left behind), everything outstanding is read.
   */
  schedule(events?: readonly CommittedEvent[]): void {
    if (this.#closed) return;
    if (events === undefined) this.#readAll = true;
    else for (const e of events) this.#committed.push(e);
    // Appends that keep failing (a full disk) must not hold every later event in memory: the journal has them.
    if (this.#committed.length > HELD_MAX) this.#committed = [];
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const all = this.#readAll;
      this.#readAll = false;
      if (!this.#closed) void this.#enqueue(() => this.#drain(all));
    }, COALESCE_MS).unref();
  }

  /** Appends an entry of the application's, after the outbox. */
  record(input: AuditInput): Promise<void> {
    return this.#enqueue(async () => {
      await this.#drain();
      this.#audit.append(input);
    });
  }

  /** Resolves once everything recorded or committed so far is in the chain. */
  flush(): Promise<void> {
    return this.#enqueue(() => this.#drain());
  }

  /** Appends what is outstanding, then stops: the store is about to close. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(task);
    // The queue goes on after a failure; the caller of this task still sees it.
    this.#queue = next.catch((err: unknown) => { this.#log.error('audit trail: append failed', { error: toErrorData(err) }); });
    return next;
  }

  /**
   * Appends the outstanding events: this process's from memory; the journal is
   * read where another process's come first, and to its end when `all`
   * (flush, an application entry, opening a store). Another process's events
   * that follow all of ours wait for that: their own process appends them too.
   */
  async #drain(all = true): Promise<void> {
    const look: JournalLookups = {
      incidentOf: async (runId) => {
        let id = this.#incidents.get(runId);
        if (id === undefined) {
          id = (await this.#runtime.get(runId))?.incidentId ?? null;
          this.#incidents.set(runId, id);
        }
        return id;
      },
      output: async (runId, stepId) => (await this.#runtime.step(runId, stepId))?.output,
    };
    for (;;) {
      const cursor = this.#audit.sourceCursor(SOURCE);
      const held = this.#takeCommitted(cursor);
      if (held === undefined && !all && this.#committed.length === 0) return;
      const events = held ?? await this.#runtime.events({ afterId: cursor, limit: BATCH });
      const last = events.at(-1);
      if (last === undefined) return;
      const entries: { id: number; input: AuditInput }[] = [];
      for (const r of events) {
        const input = await auditEntryOf(r, look);
        if (input !== undefined) entries.push({ id: r.id, input });
      }
      this.#audit.appendFrom(SOURCE, last.id, entries);
    }
  }

  /**
   * The committed events that follow `cursor` without a gap (up to a batch),
   * or undefined when the next event is not in memory (another process
   * committed it, or this one started after it): then it is read back.
   */
  #takeCommitted(cursor: number): readonly CommittedEvent[] | undefined {
    const held = this.#committed;
    let from = 0;
    while (from < held.length && (held[from] as CommittedEvent).id <= cursor) from++;
    if (from === held.length) { this.#committed = []; return undefined; }
    if ((held[from] as CommittedEvent).id !== cursor + 1) { this.#committed = held.slice(from); return undefined; }
    let to = from + 1;
    while (to < held.length && to - from < BATCH && (held[to] as CommittedEvent).id === (held[to - 1] as CommittedEvent).id + 1) to++;
    this.#committed = held.slice(to);
    return held.slice(from, to);
  }
}
