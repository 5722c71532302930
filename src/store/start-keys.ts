import type { DatabaseSync } from 'node:sqlite';

/**
 * Idempotency keys of start requests: two identical triggers (a retried
 * alert, a double click) open one incident and one run. `claim` runs inside
 * the start's transaction: the first request with a key records its run,
 * later ones get it back.
 */
export class StartKeys {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** The run a key started, if any. */
  get(key: string): { runId: string; incidentId: string | null; createdAt: string } | undefined {
    const row = this.#db.prepare('SELECT run_id, incident_id, created_at FROM start_keys WHERE key = ?').get(key);
    if (row === undefined) return undefined;
    return { runId: String(row['run_id']), incidentId: typeof row['incident_id'] === 'string' ? row['incident_id'] : null, createdAt: String(row['created_at']) };
  }

  put(key: string, runId: string, incidentId: string | null, now = new Date()): void {
    this.#db.prepare('INSERT INTO start_keys (key, run_id, incident_id, created_at) VALUES (?, ?, ?, ?)').run(key, runId, incidentId, now.toISOString());
  }
}
