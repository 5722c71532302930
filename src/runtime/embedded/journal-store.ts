import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ErrorData } from '../../lib/errors.ts';
import { redact } from '../../lib/redact.ts';
import type { JournalEvent, RecordedEvent, RunRecord, RunStatus, StepRecord, StepStatus } from '../../engine/runtime-types.ts';
import { transaction } from '../../store/sqlite-db.ts';

type Row = Record<string, unknown>;

function json(value: unknown): string {
  return JSON.stringify(redact(value) ?? null);
}

function parse(text: unknown): unknown {
  return typeof text === 'string' ? JSON.parse(text) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * Typed access to the journal tables. Every write is its own transaction
 * (durable at return with synchronous=FULL) unless the caller opened one.
 * Values are redacted before they are stored; sealed values are stored as
 * given (already encrypted).
 */
export class JournalStore {
  readonly db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  readonly #seq = new Map<string, number>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  tx<T>(fn: () => T): T {
    return this.db.isTransaction ? fn() : transaction(this.db, fn);
  }

  // ---- runs ----

  /** Inserts the run unless a run with that id exists; returns whether it was created. */
  createRun(run: { id: string; workflow: string; incidentId: string | null; input: unknown; initiator: string; now: string }): boolean {
    const r = this.#stmt(`INSERT OR IGNORE INTO runs (id, workflow, incident_id, input, status, initiator, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`).run(run.id, run.workflow, run.incidentId, json(run.input), run.initiator, run.now, run.now);
    return r.changes === 1;
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.#stmt('SELECT * FROM runs WHERE id = ?').get(id);
    return row === undefined ? undefined : toRun(row);
  }

  /** Finds runs whose id starts with `prefix` (for short ids on the command line). */
  findRuns(prefix: string): RunRecord[] {
    return this.#stmt("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 5")
      .all(`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`).map(toRun);
  }

  listRuns(filter: { status?: RunStatus; incidentId?: string; limit?: number } = {}): RunRecord[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.status !== undefined) { where.push('status = ?'); args.push(filter.status); }
    if (filter.incidentId !== undefined) { where.push('incident_id = ?'); args.push(filter.incidentId); }
    args.push(filter.limit ?? 100);
    return this.db.prepare(`SELECT * FROM runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`)
      .all(...args).map(toRun);
  }

  setRunStatus(id: string, status: RunStatus, now: string, end?: { result?: unknown; error?: ErrorData | null }): void {
    const terminal = end !== undefined;
    this.#stmt(`UPDATE runs SET status = ?, updated_at = ?, ended_at = CASE WHEN ? THEN ? ELSE NULL END,
      result = CASE WHEN ? THEN ? ELSE result END, error = CASE WHEN ? THEN ? ELSE error END WHERE id = ?`)
      .run(status, now, terminal ? 1 : 0, now, terminal ? 1 : 0, terminal ? json(end.result ?? null) : null,
        terminal ? 1 : 0, terminal && end.error != null ? json(end.error) : null, id);
  }

  /** Takes ownership of a run for this process; clears a pending cancel request when resuming. */
  claimRun(id: string, owner: string, now: string, clearCancel: boolean): void {
    this.#stmt(`UPDATE runs SET owner = ?, heartbeat_at = ?, updated_at = ?,
      cancel_requested = CASE WHEN ? THEN 0 ELSE cancel_requested END WHERE id = ?`).run(owner, now, now, clearCancel ? 1 : 0, id);
  }

  releaseRun(id: string, owner: string): void {
    this.#stmt('UPDATE runs SET owner = NULL WHERE id = ? AND owner = ?').run(id, owner);
  }

  /** Refreshes the heartbeat; returns whether a cancel was requested. */
  heartbeat(id: string, owner: string, now: string): { cancelRequested: boolean; heartbeatAt: string | null; owner: string | null } {
    this.#stmt('UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner = ?').run(now, id, owner);
    const row = this.#stmt('SELECT cancel_requested, heartbeat_at, owner FROM runs WHERE id = ?').get(id);
    return { cancelRequested: row?.['cancel_requested'] === 1, heartbeatAt: str(row?.['heartbeat_at']), owner: str(row?.['owner']) };
  }

  cancelRequested(id: string): boolean {
    return this.#stmt('SELECT cancel_requested FROM runs WHERE id = ?').get(id)?.['cancel_requested'] === 1;
  }

  ownerInfo(id: string): { owner: string | null; heartbeatAt: string | null } {
    const row = this.#stmt('SELECT owner, heartbeat_at FROM runs WHERE id = ?').get(id);
    return { owner: str(row?.['owner']), heartbeatAt: str(row?.['heartbeat_at']) };
  }

  requestCancel(id: string, now: string): void {
    this.#stmt('UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE id = ?').run(now, id);
  }

  // ---- steps ----

  getStep(runId: string, stepId: string): StepRecord & { sealed: string | null } | undefined {
    const row = this.#stmt('SELECT * FROM steps WHERE run_id = ? AND step_id = ?').get(runId, stepId);
    return row === undefined ? undefined : { ...toStep(row), sealed: str(row['sealed']) };
  }

  /** Whether the run has no step yet (its first execution: nothing to look up before a step starts). */
  hasNoSteps(runId: string): boolean {
    return this.#stmt('SELECT 1 FROM steps WHERE run_id = ? LIMIT 1').get(runId) === undefined;
  }

  /**
   * The next step number of the run: read once through the (run_id, seq)
   * index, then counted here (one process owns a run's execution; a new
   * execution calls {@link forgetSeq}). A rolled-back batch leaves a gap,
   * which keeps the order.
   */
  #nextSeq(runId: string): number {
    const next = this.#seq.get(runId) ?? Number(this.#stmt('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM steps WHERE run_id = ?').get(runId)?.['n'] ?? 0);
    this.#seq.set(runId, next + 1);
    return next;
  }

  /** Takes the run's next step number now, for a row written later ({@link insertEnded}). */
  reserveSeq(runId: string): number {
    return this.#nextSeq(runId);
  }

  /**
   * Journals a step that has no row yet as ended (its one attempt, started at
   * `startedAt`, with the number `seq` taken then). Returns the output as stored.
   */
  insertEnded(s: { runId: string; stepId: string; parentId: string | null; kind: StepRecord['kind']; meta: Readonly<Record<string, unknown>>; seq: number; startedAt: string; status: StepStatus; output?: unknown; error?: ErrorData; now: string }): string | null {
    return this.tx(() => {
      const output = s.output === undefined ? null : json(s.output);
      this.#stmt(`INSERT INTO steps (run_id, step_id, parent_id, kind, status, attempts, meta, output, error, started_at, ended_at, seq) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`)
        .run(s.runId, s.stepId, s.parentId, s.kind, s.status, json(s.meta), output, s.error === undefined ? null : json(s.error), s.startedAt, s.now, s.seq);
      return output;
    });
  }

  /** A new execution of the run (perhaps after another process wrote to it), or its end: the step count is read again. */
  forgetSeq(runId: string): void {
    this.#seq.delete(runId);
  }

  /**
   * Journals the start of an attempt (before the step touches anything).
   * Returns the attempt number. `isNew` says the caller knows the step has no
   * row yet (the run's first execution): its first attempt is inserted
   * without a look-up, and a row that exists after all fails the write.
   */
  startAttempt(s: { runId: string; stepId: string; parentId: string | null; kind: StepRecord['kind']; meta: Readonly<Record<string, unknown>>; now: string; status?: StepStatus; isNew?: boolean }): number {
    return this.tx(() => {
      const prev = s.isNew === true ? undefined : this.#stmt('SELECT attempts FROM steps WHERE run_id = ? AND step_id = ?').get(s.runId, s.stepId);
      const attempt = (prev === undefined ? 0 : Number(prev['attempts'])) + 1;
      if (prev === undefined) {
        // A first attempt is the step's row itself: most steps have no other (one row written, not two).
        this.#stmt(`INSERT INTO steps (run_id, step_id, parent_id, kind, status, attempts, meta, started_at, seq) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)`)
          .run(s.runId, s.stepId, s.parentId, s.kind, s.status ?? 'running', json(s.meta), s.now, this.#nextSeq(s.runId));
        return attempt;
      }
      // A second attempt: the first gets its own row, from the step's, before the step's is reset.
      if (attempt === 2) {
        this.#stmt(`INSERT OR IGNORE INTO attempts (run_id, step_id, attempt, started_at, ended_at, outcome, error)
          SELECT run_id, step_id, 1, started_at, ended_at, CASE WHEN ended_at IS NULL THEN NULL ELSE status END, error FROM steps WHERE run_id = ? AND step_id = ?`)
          .run(s.runId, s.stepId);
      }
      this.#stmt(`UPDATE steps SET status = ?, attempts = ?, error = NULL, ended_at = NULL, started_at = COALESCE(started_at, ?) WHERE run_id = ? AND step_id = ?`)
        .run(s.status ?? 'running', attempt, s.now, s.runId, s.stepId);
      this.#stmt('INSERT INTO attempts (run_id, step_id, attempt, started_at) VALUES (?, ?, ?, ?)').run(s.runId, s.stepId, attempt, s.now);
      return attempt;
    });
  }

  /** Records the end of an attempt: the step's outcome and the attempt's row, in one transaction. Returns the output as stored. */
  finishAttempt(s: { runId: string; stepId: string; attempt: number; status: StepStatus; output?: unknown; sealed?: string; error?: ErrorData; now: string }): string | null {
    return this.tx(() => {
      const output = s.output === undefined ? null : json(s.output);
      this.#stmt('UPDATE steps SET status = ?, output = ?, sealed = COALESCE(?, sealed), error = ?, ended_at = ? WHERE run_id = ? AND step_id = ?')
        .run(s.status, output, s.sealed ?? null, s.error === undefined ? null : json(s.error), s.now, s.runId, s.stepId);
      // A first attempt's end is the step's (its row is written only if there is a second).
      if (s.attempt > 1) {
        this.#stmt('UPDATE attempts SET ended_at = ?, outcome = ?, error = ? WHERE run_id = ? AND step_id = ? AND attempt = ?')
          .run(s.now, s.status, s.error === undefined ? null : json(s.error), s.runId, s.stepId, s.attempt);
      }
      return output;
    });
  }

  /** Updates only the status (e.g. a signal wait that became `waiting`). */
  setStepStatus(runId: string, stepId: string, status: StepStatus): void {
    this.#stmt('UPDATE steps SET status = ? WHERE run_id = ? AND step_id = ?').run(status, runId, stepId);
  }

  /** The completed children of a step (a fan-out's items) with their outputs, in the order they started, read a page at a time. */
  *completedChildren(runId: string, parentId: string, page = 500): Generator<{ stepId: string; output: unknown }> {
    const stmt = this.#stmt(`SELECT step_id, output, seq FROM steps WHERE run_id = ? AND parent_id = ? AND seq > ? AND status = 'completed' ORDER BY seq LIMIT ?`);
    for (let after = -1; ;) {
      const rows = stmt.all(runId, parentId, after, page);
      for (const r of rows) yield { stepId: String(r['step_id']), output: parse(r['output']) };
      if (rows.length < page) return;
      after = Number(rows.at(-1)?.['seq']);
    }
  }

  listSteps(runId: string): StepRecord[] {
    return this.#stmt('SELECT * FROM steps WHERE run_id = ? ORDER BY seq').all(runId).map(toStep);
  }

  /** The steps of a run waiting for a signal (approval gates, manual steps, steps in doubt). */
  waitingSteps(runId: string): StepRecord[] {
    return this.#stmt("SELECT * FROM steps WHERE run_id = ? AND status = 'waiting' ORDER BY seq").all(runId).map(toStep);
  }

  attempts(runId: string): { stepId: string; attempt: number; startedAt: string; endedAt: string | null; outcome: string | null; error: ErrorData | null }[] {
    // A step of one attempt is its own record (a row in attempts for it, written before 2026-12-03, is not read).
    return this.#stmt(`SELECT a.step_id, a.attempt, a.started_at, a.ended_at, a.outcome, a.error FROM attempts a JOIN steps s USING (run_id, step_id)
        WHERE a.run_id = ? AND s.attempts > 1
      UNION ALL SELECT step_id, 1, started_at, ended_at, CASE WHEN ended_at IS NULL THEN NULL ELSE status END, error FROM steps
        WHERE run_id = ? AND attempts = 1 AND started_at IS NOT NULL
      ORDER BY started_at, step_id, attempt`).all(runId, runId).map((r) => ({
      stepId: String(r['step_id']), attempt: Number(r['attempt']), startedAt: String(r['started_at']), endedAt: str(r['ended_at']),
      outcome: str(r['outcome']), error: parse(r['error']) as ErrorData | null,
    }));
  }

  // ---- events ----

  /** Records an event; call inside the transaction of the change it describes. Returns it as stored. */
  addEvent(e: JournalEvent, now: string): RecordedEvent {
    const text = json(e);
    const r = this.#stmt('INSERT INTO run_events (run_id, at, event) VALUES (?, ?, ?)').run(e.runId, now, text);
    return { id: Number(r.lastInsertRowid), at: now, event: JSON.parse(text) as JournalEvent };
  }

  events(filter: { runId?: string; afterId?: number; limit?: number }): RecordedEvent[] {
    const rows = filter.runId === undefined
      ? this.#stmt('SELECT id, at, event FROM run_events WHERE id > ? ORDER BY id LIMIT ?').all(filter.afterId ?? 0, filter.limit ?? 1000)
      : this.#stmt('SELECT id, at, event FROM run_events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?').all(filter.runId, filter.afterId ?? 0, filter.limit ?? 1000);
    return rows.map((r) => ({ id: Number(r['id']), at: String(r['at']), event: parse(r['event']) as JournalEvent }));
  }

  // ---- signals ----

  addSignal(runId: string, name: string, payload: unknown, now: string): void {
    this.#stmt('INSERT INTO signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)').run(runId, name, json(payload), now);
  }

  /** The oldest unconsumed signal of that name, marked consumed by `consumer` (a step id) atomically. */
  takeSignal(runId: string, name: string, consumer: string): { payload: unknown; createdAt: string } | undefined {
    return this.tx(() => {
      const row = this.#stmt('SELECT id, payload, created_at FROM signals WHERE run_id = ? AND name = ? AND consumed_by IS NULL ORDER BY id LIMIT 1').get(runId, name);
      if (row === undefined) return undefined;
      this.#stmt('UPDATE signals SET consumed_by = ? WHERE id = ?').run(consumer, Number(row['id']));
      return { payload: parse(row['payload']), createdAt: String(row['created_at']) };
    });
  }

  signals(runId: string): { name: string; payload: unknown; createdAt: string; consumedBy: string | null }[] {
    return this.#stmt('SELECT * FROM signals WHERE run_id = ? ORDER BY id').all(runId).map((r) => ({
      name: String(r['name']), payload: parse(r['payload']), createdAt: String(r['created_at']), consumedBy: str(r['consumed_by']),
    }));
  }
}

function toRun(row: Row): RunRecord {
  return {
    id: String(row['id']),
    workflow: String(row['workflow']),
    incidentId: str(row['incident_id']),
    input: parse(row['input']),
    status: String(row['status']) as RunStatus,
    initiator: String(row['initiator']),
    createdAt: String(row['created_at']),
    updatedAt: String(row['updated_at']),
    endedAt: str(row['ended_at']),
    owner: str(row['owner']),
    result: parse(row['result']),
    error: parse(row['error']) as ErrorData | null,
  };
}

function toStep(row: Row): StepRecord {
  return {
    runId: String(row['run_id']),
    stepId: String(row['step_id']),
    parentId: str(row['parent_id']),
    kind: String(row['kind']) as StepRecord['kind'],
    status: String(row['status']) as StepStatus,
    attempts: Number(row['attempts']),
    meta: parse(row['meta']) as Record<string, unknown>,
    output: parse(row['output']),
    error: parse(row['error']) as ErrorData | null,
    startedAt: str(row['started_at']),
    endedAt: str(row['ended_at']),
  };
}
