// What `audit verify` says about the live store when checkpoints, the anchor
// or whole ranges are gone (issue 7, item 12), and the legitimate states it
// must keep accepting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AuditLog, GENESIS_HASH, chainHash, type VerifyResult } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { auditFixture, fill, type AuditFixture } from './audit-helpers.ts';

function closed(t: Parameters<typeof auditFixture>[0], every: number, n: number): AuditFixture {
  const f = auditFixture(t, every);
  fill(f.log, n);
  f.log.checkpoint(); // what App.close() does
  return f;
}

function problems(v: VerifyResult): string[] {
  assert.equal(v.ok, false, `expected a failure, got ${JSON.stringify(v)}`);
  return v.ok ? [] : v.problems.map((p) => `#${p.seq}: ${p.reason}`);
}

const dropCheckpoints = (f: AuditFixture) => { f.db.prepare('DELETE FROM audit_checkpoints').run(); };
const dropAnchor = (f: AuditFixture) => { rmSync(f.anchorFile); };

test('entries after #70, every checkpoint and the anchor deleted: not intact, naming the missing checkpoints and anchor', async (t) => {
  const f = closed(t, 1000, 100);
  assert.equal((await f.log.verify()).ok, true);
  f.db.prepare('DELETE FROM audit_entries WHERE seq > 70').run();
  dropCheckpoints(f);
  dropAnchor(f);
  const p = problems(await f.log.verify());
  assert.match(p[0] ?? '', /^#1: 70 entries but no signed checkpoint: every checkpoint was deleted/);
  assert.ok(p.some((x) => /the anchor file .*audit\.anchor is missing although the store has been checkpointed/.test(x)), p.join('\n'));
});

test('everything wiped: an anchor left behind, or runs in the journal, show it', async (t) => {
  const f = closed(t, 1000, 40);
  f.db.prepare('DELETE FROM audit_entries').run();
  dropCheckpoints(f);
  assert.match(problems(await f.log.verify())[0] ?? '', /^#1: the audit trail is empty but the anchor .* records a signed checkpoint at #40: entries #1–#40 and their checkpoints were deleted \(wiped\)/);
  dropAnchor(f);
  // Only a fresh store is empty without an anchor: here the journal still holds what the trail recorded.
  f.db.prepare("INSERT INTO incidents (id, kind, title, severity, status, detected_at, opened_at) VALUES ('INC-1', 'device-compromise', 't', 'high', 'open', 'x', 'x')").run();
  f.db.prepare("INSERT INTO runs (id, workflow, incident_id, input, status, initiator, created_at, updated_at) VALUES ('run-1', 'device-compromise', 'INC-1', '{}', 'completed', 'alice', 'x', 'x')").run();
  assert.deepEqual(problems(await f.log.verify()), [`#1: the audit trail is empty but the journal records 1 run(s) and 1 incident(s): the trail was wiped (and the anchor ${f.anchorFile} with it)`]);
});

test('#10 edited with the chain recomputed, checkpoints and anchor dropped: not intact', async (t) => {
  const f = closed(t, 1000, 30);
  const rows = f.db.prepare('SELECT seq, entry FROM audit_entries ORDER BY seq').all();
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const text = Number(r['seq']) === 10 ? String(r['entry']).replace('"title":"step 9"', '"title":"nothing happened"') : String(r['entry']);
    prev = chainHash(prev, text);
    f.db.prepare('UPDATE audit_entries SET entry = ?, hash = ? WHERE seq = ?').run(text, prev, Number(r['seq']));
  }
  dropCheckpoints(f);
  dropAnchor(f);
  const p = problems(await f.log.verify());
  assert.match(p[0] ?? '', /^#1: 30 entries but no signed checkpoint/);
  assert.ok(p.some((x) => /anchor file .* is missing/.test(x)));
});

test('a rewrite that keeps the anchor is named by the anchor; a forged anchor is refused', async (t) => {
  const f = closed(t, 1000, 30);
  const rows = f.db.prepare('SELECT seq, entry FROM audit_entries ORDER BY seq').all();
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const text = String(r['entry']).replace('"title":"step 9"', '"title":"nothing"');
    prev = chainHash(prev, text);
    f.db.prepare('UPDATE audit_entries SET entry = ?, hash = ? WHERE seq = ?').run(text, prev, Number(r['seq']));
  }
  f.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 1').run();
  assert.ok(problems(await f.log.verify()).includes('#30: entry #30 differs from the anchor\'s hash (rewritten)'));
  const anchor = JSON.parse(readFileSync(f.anchorFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(f.anchorFile, JSON.stringify({ ...anchor, hash: prev }));
  assert.ok(problems(await f.log.verify()).some((x) => /anchor file .* has an invalid signature/.test(x)));
  writeFileSync(f.anchorFile, 'garbage');
  assert.ok(problems(await f.log.verify()).some((x) => /anchor file .* is unreadable \(not JSON\)/.test(x)));
});

test('the anchor beyond the head, an anchor whose checkpoints were dropped, and a missing anchor are each named', async (t) => {
  const f = closed(t, 10, 100);
  const anchorText = readFileSync(f.anchorFile, 'utf8');
  f.db.prepare('DELETE FROM audit_entries WHERE seq > 70').run();
  f.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 70').run();
  assert.match(problems(await f.log.verify())[0] ?? '', /^#71: the log ends at #70 but the anchor .* records a signed checkpoint at #100: entries #71–#100 were deleted \(truncated\)/);

  const g = closed(t, 1000, 30);
  g.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 1').run();
  // The unsigned tail would be a mere warning, but the anchor says #30 was signed.
  assert.deepEqual(problems(await g.log.verify()), [`#30: the anchor ${g.anchorFile} records a signed checkpoint at #30 that the store no longer has: the checkpoints after #1 were deleted`]);

  dropAnchor(g);
  g.log.checkpoint(); // signs #30 again: a new checkpoint moves the anchor forward
  assert.equal((await g.log.verify()).ok, true);
  dropAnchor(g);
  assert.match(problems(await g.log.verify())[0] ?? '', /^#30: the anchor file .* is missing although the store has been checkpointed \(its first entry is always signed; latest checkpoint #30\)/);
  assert.ok(anchorText.includes('"seq":100'));
});

test('without an anchor claim, a tail longer than the checkpoint interval means checkpoints were deleted', async (t) => {
  const f = auditFixture(t, 10);
  const log = new AuditLog({ db: f.db, signer: loadSigner(f.keyFile), checkpointEvery: 10 }); // no anchor configured
  fill(log, 25);
  f.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 1').run();
  assert.deepEqual(problems(await log.verify()), ['#2: entries #2–#25 (24) are covered by no signed checkpoint although one is written every 10 entries: the checkpoints after #1 were deleted']);
  f.db.prepare('DELETE FROM audit_checkpoints').run();
  fill(log, 1); // #26 is no multiple of 10: the store still has no checkpoint at #1
  assert.match(problems(await log.verify())[0] ?? '', /^#1: 26 entries but no signed checkpoint/);
});

test('legitimate states: a fresh store, a tail left by a killed process (a warning), an anchor one checkpoint behind', async (t) => {
  const f = auditFixture(t, 1000);
  const fresh = await f.log.verify();
  assert.deepEqual(fresh, { ok: true, entries: 0, checkpoints: 0, head: GENESIS_HASH, warnings: [] });
  assert.equal(existsSync(f.anchorFile), false);

  fill(f.log, 12); // #1 signed with it; #2–#12 not yet: the process "dies" here, before close()
  const tail = await f.log.verify();
  assert.equal(tail.ok, true, JSON.stringify(tail));
  assert.match(tail.warnings[0] ?? '', /^11 entries after the last checkpoint are not yet signed \(#2–#12/);

  const old = readFileSync(f.anchorFile, 'utf8');
  f.log.checkpoint();
  const signed = await f.log.verify();
  assert.deepEqual([signed.ok, signed.warnings], [true, []]);
  writeFileSync(f.anchorFile, old); // killed between the commit of #12's checkpoint and the anchor write
  const behind = await f.log.verify();
  assert.equal(behind.ok, true, JSON.stringify(behind));
  assert.match(behind.warnings[0] ?? '', /records #1, behind the latest checkpoint #12/);
});

test('a checkpoint written inside a transaction that rolls back never reaches the anchor', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 5);
  f.db.exec('BEGIN IMMEDIATE');
  fill(f.log, 10); // #10 is signed inside the caller's transaction
  assert.equal((JSON.parse(readFileSync(f.anchorFile, 'utf8')) as { seq: number }).seq, 1, 'the anchor waits for the commit');
  f.db.exec('ROLLBACK');
  const v = await f.log.verify();
  assert.equal(v.ok, true, JSON.stringify(v));

  f.db.exec('BEGIN IMMEDIATE');
  fill(f.log, 10);
  f.db.exec('COMMIT');
  fill(f.log, 1); // the next write outside a transaction moves the anchor to the committed #10
  assert.equal((JSON.parse(readFileSync(f.anchorFile, 'utf8')) as { seq: number }).seq, 10);
  assert.equal((await f.log.verify()).ok, true);
});
