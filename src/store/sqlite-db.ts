import { DatabaseSync } from 'node:sqlite';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FirebreakError } from '../lib/errors.ts';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface OpenOptions {
  /** FULL (default) makes every commit durable across power loss; NORMAL only across process crashes. */
  readonly synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  readonly readOnly?: boolean;
}

/**
 * Opens (creating if needed) the SQLite database that holds the journal and
 * the audit log, in WAL mode with synchronous=FULL, and applies pending
 * migrations. Several processes may open it: writers wait up to 10 s.
 */
export function openDatabase(path: string, options: OpenOptions = {}): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new DatabaseSync(path, { readOnly: options.readOnly ?? false, timeout: 10_000 });
  } catch (cause) {
    throw new FirebreakError('STORE_FAILED', `cannot open the journal database ${path}: ${(cause as Error).message}`, { cause });
  }
  if (options.readOnly !== true) {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous ?? 'FULL'}`);
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
  }
  return db;
}

/** Numbered forward-only migrations (`NNNN-name.sql`), each applied once, in order, in its own transaction. */
export function migrate(db: DatabaseSync): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((r) => Number(r['version'])),
  );
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f)).sort();
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process may have applied it while we waited for the lock.
      if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(version) === undefined) {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, new Date().toISOString());
      }
      db.exec('COMMIT');
    } catch (cause) {
      db.exec('ROLLBACK');
      throw new FirebreakError('STORE_FAILED', `migration ${file} failed: ${(cause as Error).message}`, { cause });
    }
  }
}

/** Runs `fn` in an IMMEDIATE transaction (one writer at a time across processes). */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
