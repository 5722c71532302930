import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError } from '../lib/errors.ts';
import { redact, redactText } from '../lib/redact.ts';
import type { Phase } from '../engine/playbook-types.ts';

/** Forward-only life cycle of an incident. */
export const IncidentStatuses = ['open', 'contained', 'eradicated', 'recovered', 'closed'] as const;
export type IncidentStatus = (typeof IncidentStatuses)[number];

/** The status an incident reaches when a phase of its response completes. */
export const STATUS_AFTER_PHASE: Partial<Record<Phase, IncidentStatus>> = {
  containment: 'contained',
  eradication: 'eradicated',
  recovery: 'recovered',
};

export interface Entity {
  readonly type: string;
  readonly id: string;
}

export interface Incident {
  readonly id: string;
  readonly kind: string;
  readonly title: string;
  readonly severity: string;
  readonly status: IncidentStatus;
  readonly detectedAt: string;
  readonly openedAt: string;
  readonly closedAt: string | null;
  readonly entities: readonly Entity[];
  /** Phase RTO targets in ms, measured from detectedAt. */
  readonly rto: Readonly<Partial<Record<Phase, number>>>;
}

export interface IncidentEvent {
  readonly ts: string;
  readonly kind: string;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

function toIncident(r: Record<string, unknown>): Incident {
  return {
    id: String(r['id']), kind: String(r['kind']), title: String(r['title']), severity: String(r['severity']),
    status: String(r['status']) as IncidentStatus, detectedAt: String(r['detected_at']), openedAt: String(r['opened_at']),
    closedAt: typeof r['closed_at'] === 'string' ? r['closed_at'] : null,
    entities: JSON.parse(String(r['entities'])) as Entity[], rto: JSON.parse(String(r['rto'])) as Partial<Record<Phase, number>>,
  };
}

export interface NewIncident { kind: string; title: string; severity: string; detectedAt?: string; entities: readonly Entity[]; rto: Partial<Record<Phase, number>> }

/**
 * Incidents and their timelines, as the application uses them: one
 * implementation per backend (SQLite below; PostgreSQL beside a second
 * runtime). Calls are synchronous so that a start can take an incident in
 * the same unit of work as its run's targets and idempotency key.
 */
export interface Incidents {
  create(i: NewIncident): Incident;
  /** By id or unique part of it. */
  get(id: string): Incident;
  list(filter?: { status?: IncidentStatus; limit?: number }): Incident[];
  /** Moves the incident forward (never back); returns false when it is already at or past `status`. */
  advance(id: string, status: IncidentStatus, reason: string): boolean;
  addEvent(id: string, kind: string, message: string, data?: Record<string, unknown>): void;
  events(id: string): IncidentEvent[];
}

/** Incidents and their timelines, in the journal database. */
export class IncidentStore implements Incidents {
  readonly #db: DatabaseSync;
  readonly #now: () => Date;

  constructor(db: DatabaseSync, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  create(i: NewIncident): Incident {
    const now = this.#now();
    const id = `INC-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
    const detectedAt = i.detectedAt ?? now.toISOString();
    if (Number.isNaN(Date.parse(detectedAt))) throw new FirebreakError('INVALID_INPUT', `detected-at "${detectedAt}" is not an ISO 8601 time`);
    this.#db.prepare(`INSERT INTO incidents (id, kind, title, severity, status, detected_at, opened_at, entities, rto) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)`)
      .run(id, i.kind, i.title, i.severity, new Date(detectedAt).toISOString(), now.toISOString(), JSON.stringify(i.entities), JSON.stringify(i.rto));
    this.addEvent(id, 'incident.opened', `incident opened: ${i.title}`, { kind: i.kind, severity: i.severity });
    return this.get(id);
  }

  get(id: string): Incident {
    const row = this.#db.prepare('SELECT * FROM incidents WHERE id = ?').get(id);
    if (row !== undefined) return toIncident(row);
    const matches = this.#db.prepare("SELECT * FROM incidents WHERE id LIKE ? ESCAPE '\\' LIMIT 2").all(`%${id.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (matches.length === 1 && matches[0] !== undefined) return toIncident(matches[0]);
    if (matches.length > 1) throw new FirebreakError('CONFLICT', `incident id "${id}" is ambiguous; give more of it`);
    throw new FirebreakError('NOT_FOUND', `no incident "${id}" (firebreak incidents list shows them)`);
  }

  list(filter: { status?: IncidentStatus; limit?: number } = {}): Incident[] {
    const rows = filter.status === undefined
      ? this.#db.prepare('SELECT * FROM incidents ORDER BY opened_at DESC LIMIT ?').all(filter.limit ?? 100)
      : this.#db.prepare('SELECT * FROM incidents WHERE status = ? ORDER BY opened_at DESC LIMIT ?').all(filter.status, filter.limit ?? 100);
    return rows.map(toIncident);
  }

  /** Moves the incident forward (never back); returns false when it is already at or past `status`. */
  advance(id: string, status: IncidentStatus, reason: string): boolean {
    const current = this.get(id);
    if (IncidentStatuses.indexOf(status) <= IncidentStatuses.indexOf(current.status)) return false;
    const now = this.#now().toISOString();
    this.#db.prepare('UPDATE incidents SET status = ?, closed_at = CASE WHEN ? = \'closed\' THEN ? ELSE closed_at END WHERE id = ?').run(status, status, now, current.id);
    this.addEvent(current.id, 'incident.status', `${current.status} → ${status}: ${reason}`, { from: current.status, to: status });
    return true;
  }

  addEvent(id: string, kind: string, message: string, data: Record<string, unknown> = {}): void {
    this.#db.prepare('INSERT INTO incident_events (incident_id, ts, kind, message, data) VALUES (?, ?, ?, ?, ?)')
      .run(id, this.#now().toISOString(), kind, redactText(message), JSON.stringify(redact(data)));
  }

  events(id: string): IncidentEvent[] {
    return this.#db.prepare('SELECT ts, kind, message, data FROM incident_events WHERE incident_id = ? ORDER BY id').all(id).map((r) => ({
      ts: String(r['ts']), kind: String(r['kind']), message: String(r['message']), data: JSON.parse(String(r['data'])) as Record<string, unknown>,
    }));
  }
}
