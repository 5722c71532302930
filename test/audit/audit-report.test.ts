import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { openApp } from '../../src/app/app-open.ts';
import { definePlaybook } from '../../src/engine/playbook-types.ts';
import type { PlatformPlaybook } from '../../src/playbooks/index.ts';
import { auditFixture, fill } from './audit-helpers.ts';

/** Replaces a checkpoint's signature by another checkpoint's (validly encoded, signing other bytes). */
const forge = (db: DatabaseSync, seq: number, from: number) => {
  const r = db.prepare('UPDATE audit_checkpoints SET signature = (SELECT signature FROM audit_checkpoints WHERE seq = ?) WHERE seq = ?').run(from, seq);
  assert.equal(r.changes, 1);
};

test('an incremental verify checks the checkpoints from the one a verify reached, not those before it: its cost follows what is new', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 45);
  assert.equal((await f.log.verify()).ok, true, 'a full verify reaches #40');
  forge(f.db, 20, 10);
  const inc = await f.log.verify({ incremental: true });
  assert.equal(inc.ok, true, 'checkpoint #20 was checked by the verify that reached #40');
  assert.equal(inc.checkpoints, 5, 'the count is the store\'s, not the checkpoints read');
  const full = await f.log.verify();
  assert.equal(full.ok ? 0 : full.firstBad.seq, 20, 'the full verify finds the forged signature');

  fill(f.log, 10);
  forge(f.db, 50, 10);
  const after = await f.log.verify({ incremental: true });
  assert.equal(after.ok ? 0 : after.firstBad.seq, 50, 'a forged checkpoint after the verified one is found');
});

test('an incremental verify still finds the first checkpoint deleted', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 45);
  assert.equal((await f.log.verify()).ok, true);
  f.db.prepare('DELETE FROM audit_checkpoints WHERE seq = 1').run();
  const inc = await f.log.verify({ incremental: true });
  assert.equal(inc.ok, false);
  assert.match(inc.ok ? '' : inc.firstBad.reason, /no signed checkpoint at #1/);
});

function fanout(): PlatformPlaybook {
  return definePlaybook<{ items: number }, null>({
    id: 'test-fanout', title: 'Test fan-out', summary: 'test', version: 1, incidentKind: 'test', severity: 'low',
    input: z.object({ items: z.number().int().min(1) }), rto: {}, connect: async () => null,
    steps: [{
      id: 'touch', title: 'Touch the device', phase: 'recovery', system: 'test', effect: 'mutate', idempotency: 'natural',
      forEach: { items: async ({ input }) => Array.from({ length: input.items }, (_, i) => ({ key: `d${i}`, value: i })) },
      apply: async () => ({ ok: true }),
    }],
  });
}

const editEntry = (dbPath: string, seq: number) => {
  const db = new DatabaseSync(dbPath);
  try {
    assert.equal(db.prepare(`UPDATE audit_entries SET entry = replace(entry, '"actor":"', '"actor":"x') WHERE seq = ?`).run(seq).changes, 1);
  } finally {
    db.close();
  }
};

test('the report (as `firebreak report` asks for it) verifies the audit trail from the checkpoint the last verification reached, not from the first entry', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-audit-report-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const configPath = join(dir, 'firebreak.yaml');
  writeFileSync(configPath, 'version: 1\nstateDir: state\naudit:\n  checkpointEvery: 2\n');
  const app = await openApp({ configPath, playbooks: [fanout()] });
  try {
    const h = await app.start({ playbook: 'test-fanout', input: { items: 6 }, initiator: 'alice', yes: true });
    assert.equal((await h.outcome).status, 'completed');
    const incident = h.incidentId ?? '';
    const first = await app.queries.auditVerify();
    assert.ok(first.ok && first.entries > 4, JSON.stringify(first));

    // An entry before the verified checkpoint: the report does not rehash it; `audit verify` (full) does.
    editEntry(join(dir, 'state', 'firebreak.db'), 2);
    const report = await app.queries.report(incident, { verifyAudit: true });
    assert.equal(report.audit.verified, true, report.audit.detail);
    assert.equal(report.audit.entries, first.entries);
    const full = await app.queries.auditVerify();
    assert.equal(full.ok ? 0 : full.firstBad.seq, 2);

    // An entry after it: the report finds it.
    await app.closeIncident(incident, 'alice', 'reviewed');
    const last = (await app.queries.auditTail({ lines: 1 }))[0]?.seq ?? 0;
    assert.ok(last > first.entries);
    editEntry(join(dir, 'state', 'firebreak.db'), last);
    const after = await app.queries.report(incident, { verifyAudit: true });
    assert.equal(after.audit.verified, false);
    assert.match(after.audit.detail, new RegExp(`^first bad entry #${last}:`));
  } finally {
    await app.close();
  }
});
