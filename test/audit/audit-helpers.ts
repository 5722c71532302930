import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DatabaseSync } from 'node:sqlite';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

export interface AuditFixture { dir: string; dbPath: string; db: DatabaseSync; log: AuditLog; keyFile: string; anchorFile: string }

export function auditFixture(t: TestContext, checkpointEvery = 10): AuditFixture {
  const dir = mkdtempSync(join(tmpdir(), 'fb-audit-'));
  const dbPath = join(dir, 'firebreak.db');
  const db = openDatabase(dbPath);
  const keyFile = join(dir, 'audit.key');
  const anchorFile = join(dir, 'audit.anchor');
  const log = new AuditLog({ db, signer: loadSigner(keyFile), checkpointEvery, anchorFile });
  t.after(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
  return { dir, dbPath, db, log, keyFile, anchorFile };
}

export function fill(log: AuditLog, n: number): void {
  for (let i = 0; i < n; i++) log.append({ kind: 'step.completed', actor: 'firebreak', incidentId: 'INC-1', runId: `run-${i % 3}`, stepId: `s${i}`, data: { i, title: `step ${i}` } });
}
