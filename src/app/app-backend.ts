import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { createSealer, loadJournalKey } from '../lib/sealer.ts';
import type { CredentialStages } from '../engine/playbook-types.ts';
import type { CommittedEvent, DurableRuntime } from '../engine/runtime-types.ts';
import { openDatabase, transaction } from '../store/sqlite-db.ts';
import { RunTargets } from '../store/run-targets.ts';
import { StartKeys } from '../store/start-keys.ts';
import { createEmbeddedRuntime } from '../runtime/embedded/embedded-runtime.ts';
import { JournalStore } from '../runtime/embedded/journal-store.ts';
import { createCredentialStore } from '../runtime/embedded/credential-store.ts';
import { IncidentStore, type Incidents } from '../incidents/incident-store.ts';
import type { AuditLog, AuditTrail } from '../audit/audit-log.ts';

/**
 * Where the application keeps its state: a durable runtime with its journal,
 * incidents, the audit trail, credential stages, run targets and start keys.
 * The embedded backend keeps them all in one SQLite database; a backend on
 * another engine (DBOS over PostgreSQL) provides the same parts.
 */
export interface Backend {
  readonly runtime: DurableRuntime;
  /** Read access to the journal (runs, steps, attempts, signals). */
  readonly journal: JournalStore;
  readonly incidents: Incidents;
  readonly audit: AuditTrail;
  readonly credentials: CredentialStages;
  readonly targets: RunTargets;
  readonly startKeys: StartKeys;
  /** Runs `fn` as one durable unit of work (a start takes its targets, its key and its incident together). */
  atomically<T>(fn: () => T): T;
  close(): void;
}

export interface EmbeddedBackendOptions {
  readonly stateDir: string;
  readonly journalKeyFile: string;
  readonly waitMode: 'block' | 'suspend';
  readonly pollMs?: number;
  /** Builds the audit log over the opened database. */
  readonly audit: (db: DatabaseSync) => AuditLog;
  /** After each journal commit that recorded events, with them. */
  readonly onCommit: (events: readonly CommittedEvent[]) => void;
}

export function openEmbeddedBackend(o: EmbeddedBackendOptions): Backend {
  const db = openDatabase(join(o.stateDir, 'firebreak.db'));
  const runtime = createEmbeddedRuntime({
    db, sealer: createSealer(loadJournalKey(o.journalKeyFile)), waitMode: o.waitMode, onCommit: o.onCommit,
    ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
  });
  return {
    runtime,
    journal: new JournalStore(db),
    incidents: new IncidentStore(db),
    audit: o.audit(db),
    credentials: createCredentialStore(db),
    targets: new RunTargets(db),
    startKeys: new StartKeys(db),
    atomically: (fn) => (db.isTransaction ? fn() : transaction(db, fn)),
    close: () => { db.close(); },
  };
}
