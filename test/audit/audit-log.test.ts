import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENESIS_HASH, chainHash } from '../../src/audit/audit-log.ts';
import { Secret } from '../../src/lib/secret.ts';
import { verifyExportLines } from '../../tools/verify-audit-export.mjs';
import { auditFixture, fill } from './audit-helpers.ts';

test('entries chain from the genesis hash; the first entry and every N-th are signed', async (t) => {
  const { log, db } = auditFixture(t, 10);
  fill(log, 25);
  const rows = db.prepare('SELECT seq, entry, hash FROM audit_entries ORDER BY seq').all();
  assert.equal(rows.length, 25);
  assert.equal(rows[0]?.['hash'], chainHash(GENESIS_HASH, String(rows[0]?.['entry'])));
  assert.equal(rows[1]?.['hash'], chainHash(rows[0]?.['hash'], String(rows[1]?.['entry'])));
  assert.deepEqual(db.prepare('SELECT seq FROM audit_checkpoints ORDER BY seq').all().map((r) => r['seq']), [1, 10, 20]);
  const v = await log.verify();
  assert.equal(v.ok, true);
  assert.equal(v.entries, 25);
});

const tampers: [string, (f: ReturnType<typeof auditFixture>) => void, number, RegExp][] = [
  ['an edited data field', (f) => { f.db.prepare("UPDATE audit_entries SET entry = replace(entry, '\"title\":\"step 12\"', '\"title\":\"step X\"') WHERE seq = 13").run(); }, 13, /does not match its hash.*\(edited\)/],
  ['an edited hash', (f) => { f.db.prepare("UPDATE audit_entries SET hash = 'ab' || substr(hash, 3) WHERE seq = 7").run(); }, 7, /does not match its hash/],
  ['a deleted middle entry', (f) => { f.db.prepare('DELETE FROM audit_entries WHERE seq = 15').run(); }, 15, /#15–#15 are missing \(deleted\)/],
  ['a deleted entry, renumbered to hide the gap', (f) => {
    f.db.prepare('DELETE FROM audit_entries WHERE seq = 5').run();
    for (let s = 6; s <= 25; s++) f.db.prepare('UPDATE audit_entries SET seq = ? WHERE seq = ?').run(s - 1, s);
  }, 5, /does not match its hash/],
  ['two entries swapped', (f) => {
    f.db.prepare('UPDATE audit_entries SET seq = -1 WHERE seq = 8').run();
    f.db.prepare('UPDATE audit_entries SET seq = 8 WHERE seq = 9').run();
    f.db.prepare('UPDATE audit_entries SET seq = 9 WHERE seq = -1').run();
  }, 8, /does not match its hash/],
  ['the tail truncated with its checkpoints', (f) => {
    f.db.prepare('DELETE FROM audit_entries WHERE seq > 18').run();
    f.db.prepare('DELETE FROM audit_checkpoints WHERE seq > 18').run();
  }, 19, /truncated/],
  ['a forged checkpoint signature', (f) => { f.db.prepare("UPDATE audit_checkpoints SET signature = 'AAAA' || substr(signature, 5) WHERE seq = 10").run(); }, 10, /invalid signature/],
];

for (const [what, tamper, seq, reason] of tampers) {
  test(`audit verify detects ${what} and names the first bad entry`, async (t) => {
    const f = auditFixture(t, 10);
    fill(f.log, 25);
    f.log.checkpoint();
    assert.equal((await f.log.verify()).ok, true);
    tamper(f);
    const v = await f.log.verify();
    assert.equal(v.ok, false, what);
    if (!v.ok) {
      assert.equal(v.firstBad.seq, seq, `${what}: ${v.firstBad.reason}`);
      assert.match(v.firstBad.reason, reason);
    }
  });
}

test('the columns used to filter cannot be edited apart from the hashed text', (t) => {
  const { log, db } = auditFixture(t);
  fill(log, 3);
  assert.throws(() => db.prepare("UPDATE audit_entries SET incident_id = 'INC-other' WHERE seq = 2").run(), /generated column/);
  assert.deepEqual(log.list({ incidentId: 'INC-1' }).map((e) => e.seq), [1, 2, 3]);
});

test('no secret can enter the log: keys, Secret values and registered values are redacted', async (t) => {
  const { log, db } = auditFixture(t);
  const canary = 'canary-audit-9f8e7d6c5b';
  const registered = new Secret('canary-registered-1a2b3c4d');
  log.append({ kind: 'step.completed', actor: 'firebreak', data: { password: canary, token: new Secret(canary), note: `value ${registered.reveal()} seen`, nested: { clientSecret: canary } } });
  const stored = JSON.stringify(db.prepare('SELECT * FROM audit_entries').all());
  assert.ok(!stored.includes(canary));
  assert.ok(!stored.includes(registered.reveal()));
  assert.equal((await log.verify()).ok, true);
});

test('export verifies offline with the standalone script; tampered exports are refused', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 23);
  const file = join(f.dir, 'audit.jsonl');
  const stream = createWriteStream(file);
  assert.equal(await f.log.export(stream), 23);
  await new Promise<void>((resolve) => { stream.end(resolve); });
  const lines = readFileSync(file, 'utf8').split('\n');
  const ok = verifyExportLines(lines, { keyId: f.log.keyId });
  assert.equal(ok.ok, true);
  if (ok.ok) assert.equal(ok.entries, 23);

  const script = fileURLToPath(new URL('../../tools/verify-audit-export.mjs', import.meta.url));
  const runScript = (path: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, [script, path]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => { resolve({ code, out }); });
  });
  const good = await runScript(file);
  assert.equal(good.code, 0);
  assert.match(good.out, /^OK 23 entries, 4 signed checkpoint\(s\)/);

  // Lines: header, entry #1, its checkpoint, entry #2, … entry #5 is line 7.
  const edited = lines.map((l, i) => (i === 6 ? l.replace('step 4', 'step 9') : l));
  assert.notDeepEqual(edited, lines);
  writeFileSync(join(f.dir, 'edited.jsonl'), edited.join('\n'));
  const bad = await runScript(join(f.dir, 'edited.jsonl'));
  assert.equal(bad.code, 1);
  assert.match(bad.out, /^BAD line 7: entry #5 does not match its hash/);
  const dropped = lines.filter((_, i) => i !== 4);
  const d = verifyExportLines(dropped);
  assert.equal(d.ok, false);
  if (!d.ok) assert.match(d.reason, /entries #3–#3 are missing/);
  assert.equal(verifyExportLines(lines, { keyId: 'someone-else' }).ok, false);
});

test('two processes appending to the same database keep one continuous chain', async (t) => {
  const f = auditFixture(t, 50);
  const child = fileURLToPath(new URL('./append-child.ts', import.meta.url));
  const run = (tag: string) => new Promise<number | null>((resolve) => {
    spawn(process.execPath, [child, f.dbPath, f.keyFile, tag, '150', f.anchorFile], { stdio: 'inherit' }).on('exit', resolve);
  });
  const codes = await Promise.all([run('a'), run('b')]);
  assert.deepEqual(codes, [0, 0]);
  const v = await f.log.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
  assert.equal(v.entries, 300);
  // Both processes moved the anchor forward in order: it records the latest checkpoint, never an older one.
  assert.equal((JSON.parse(readFileSync(f.anchorFile, 'utf8')) as { seq: number }).seq, 300);
  const actors = f.db.prepare('SELECT entry FROM audit_entries').all().map((r) => (JSON.parse(String(r['entry'])) as { actor: string }).actor);
  assert.equal(actors.filter((a) => a === 'a').length, 150);
});
