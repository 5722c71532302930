import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError } from '../lib/errors.ts';
import { transaction } from './sqlite-db.ts';

/** Statuses after which a run no longer holds its targets (the runtime's terminal statuses). */
const ENDED = ['completed', 'completed_with_failures', 'failed', 'cancelled'];

/** A start in progress (target taken, run row not yet written) holds its targets this long at most. */
const STARTING_MS = 60_000;

export interface TargetHolder {
  readonly target: string;
  readonly runId: string;
  /** The holder's run status, or null while its start is in progress. */
  readonly status: string | null;
}

/**
 * One active run per target: `acquire` takes every target of a run in one
 * IMMEDIATE transaction (so two processes starting at once cannot both win),
 * or throws CONFLICT naming the run that holds one. A holder that ended (or
 * whose start never wrote its run within a minute) gives its target up.
 */
export class RunTargets {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  acquire(runId: string, targets: readonly string[], now = new Date()): void {
    if (targets.length === 0) return;
    const run = () => {
      const busy = targets.map((t) => this.holder(t, now)).filter((h): h is TargetHolder => h !== undefined && h.runId !== runId);
      const first = busy[0];
      if (first !== undefined) {
        const state = first.status === null ? 'being started' : first.status;
        throw new FirebreakError('CONFLICT', `${first.target} is the target of run ${first.runId} (${state}): one active run per target. Follow it (firebreak runs show ${first.runId}), resume it (firebreak resume ${first.runId}) or cancel it (firebreak cancel ${first.runId}) first`, { details: { target: first.target, runId: first.runId, status: first.status } });
      }
      const put = this.#db.prepare('INSERT INTO run_targets (target, run_id, acquired_at) VALUES (?, ?, ?) ON CONFLICT (target) DO UPDATE SET run_id = excluded.run_id, acquired_at = excluded.acquired_at');
      for (const t of targets) put.run(t, runId, now.toISOString());
    };
    if (this.#db.isTransaction) run();
    else transaction(this.#db, run);
  }

  /** The active run holding `target`, if any. */
  holder(target: string, now = new Date()): TargetHolder | undefined {
    const row = this.#db.prepare(`SELECT t.run_id, t.acquired_at, r.status FROM run_targets t LEFT JOIN runs r ON r.id = t.run_id WHERE t.target = ?`).get(target);
    if (row === undefined) return undefined;
    const status = typeof row['status'] === 'string' ? row['status'] : null;
    if (status !== null && ENDED.includes(status)) return undefined;
    if (status === null && now.getTime() - Date.parse(String(row['acquired_at'])) > STARTING_MS) return undefined;
    return { target, runId: String(row['run_id']), status };
  }
}
