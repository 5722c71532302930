// What `assess vault-audit` must survive: bad lines (reported with their
// numbers, never fatal), lines of megabytes, several files and rotated .gz
// files in one run, a file still being written; and how operations pair.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import { sharedFile } from '../helpers/shared.ts';
import { ALL, HMAC, pair, requestOnly, responseOnly } from './assess-entries.ts';

function dirFor(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

test('bad lines are counted and listed with file and line number, and every good line around them is assessed', async (t) => {
  const dir = dirFor(t);
  const [q1, r1] = pair({ path: 'secret/data/app/db' });
  const [q2, r2] = pair({ path: 'secret/data/app/api', remote: '192.0.2.7' });
  const file = join(dir, 'audit.log');
  writeFileSync(file, Buffer.concat([
    Buffer.from(`${q1}\n`), // 1
    Buffer.from('not json at all\n'), // 2
    Buffer.from(`${r1}\n`), // 3
    Buffer.from('\n'), // 4: blank, skipped
    Buffer.from('{"time":"2026-12-01T10:00:00Z","type":"request","request":{"path":"x\xff"}}\n', 'latin1'), // 5: not UTF-8
    Buffer.from('[1,2,3]\n'), // 6
    Buffer.from(`Dec  1 10:00:00 vault-1 vault[812]: ${q2}\n`), // 7: a syslog prefix
    Buffer.from(`${r2.slice(0, 40)}\n`), // 8: cut off mid-line
    Buffer.from(`${r2}\n`), // 9
  ]));
  const r = await assessVaultAudit([file], ALL);
  assert.equal(r.input.lines, 9);
  assert.deepEqual(r.input.problems.byKind, { 'not-json': 3, 'not-utf8': 1 });
  assert.deepEqual(r.input.problems.first.map((p) => [p.line, p.problem]), [[2, 'not-json'], [5, 'not-utf8'], [6, 'not-json'], [8, 'not-json']]);
  assert.equal(r.input.problems.first[2]?.detail, 'no JSON object on this line');
  assert.ok(r.input.problems.first.every((p) => p.file === file));
  assert.deepEqual(r.input.entries, { request: 2, response: 2 });
  assert.deepEqual(r.input.operations, { all: 2, inWindow: 2, requestOnly: 0, withoutId: 0 });
  assert.deepEqual(r.secretsRead.paths, [{ path: 'secret/data/app/api', reads: 1, lists: 0 }, { path: 'secret/data/app/db', reads: 1, lists: 0 }]);
});

test('several files in one run, a rotated .gz among them, and a line of several megabytes, read whole', async (t) => {
  const dir = dirFor(t);
  const [q1, r1] = pair({ path: 'secret/data/tenants/acme/db' });
  // A list of 80,000 hashed keys: about 6 MB on one line.
  const keys = Array.from({ length: 80_000 }, (_, i) => HMAC(i));
  const [q2, r2] = pair({ path: 'secret/metadata/tenants/beta/', operation: 'list', data: { keys } });
  assert.ok(r2.length > 6_000_000);
  const rotated = join(dir, 'audit.log.1.gz');
  writeFileSync(rotated, gzipSync(`${q1}\n${r1}\n${q2}\n`));
  const current = join(dir, 'audit.log');
  writeFileSync(current, `${r2}\n`);
  const r = await assessVaultAudit([rotated, current], ALL);
  assert.deepEqual(r.input.files.map((f) => [f.file, f.gzip, f.lines]), [[rotated, true, 3], [current, false, 1]]);
  assert.equal(r.input.files[0]?.bytes, Buffer.byteLength(`${q1}\n${r1}\n${q2}\n`), 'bytes decompressed');
  assert.equal(r.input.problems.total, 0);
  // The list's request is in the .gz, its response in the next file: one operation.
  assert.deepEqual(r.input.operations, { all: 2, inWindow: 2, requestOnly: 0, withoutId: 0 });
  assert.deepEqual(r.tenants.affected, [{ tenant: 'acme', reads: 1, lists: 0, paths: 1 }, { tenant: 'beta', reads: 0, lists: 1, paths: 1 }]);
});

test('a file still being written: the cut-off last line is reported as incomplete; once the writer finishes it, a new read counts it', async (t) => {
  const dir = dirFor(t);
  const file = join(dir, 'audit.log');
  const [q, r] = pair({ path: 'secret/data/app/db' });
  writeFileSync(file, `${q}\n${r.slice(0, 100)}`);
  const first = await assessVaultAudit([file], ALL);
  assert.deepEqual(first.input.problems.first.map((p) => [p.line, p.problem]), [[2, 'incomplete']]);
  assert.match(first.input.problems.first[0]?.detail ?? '', /no newline and is not a whole JSON object \(cut off, or the file is still being written\)/);
  assert.deepEqual(first.input.operations, { all: 1, inWindow: 1, requestOnly: 1, withoutId: 0 }, 'the request alone, its response not written yet');
  assert.equal(first.secretsRead.reads, 0, 'a request without its outcome is not a read');
  appendFileSync(file, `${r.slice(100)}\n`);
  const second = await assessVaultAudit([file], ALL);
  assert.equal(second.input.problems.total, 0);
  assert.equal(second.secretsRead.reads, 1);
});

test('a damaged .gz: the lines before the damage are assessed and the damage is reported, not fatal', async (t) => {
  const dir = dirFor(t);
  const [q, r] = pair({ path: 'secret/data/app/db' });
  const gz = gzipSync(`${q}\n${r}\n`.repeat(200));
  const file = join(dir, 'audit.log.2.gz');
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const result = await assessVaultAudit([file], ALL);
  assert.equal(result.input.problems.byKind['incomplete'], result.input.problems.total);
  assert.ok(result.input.problems.first.some((p) => /gzip stream is damaged after \d+ bytes/.test(p.detail)));
  assert.ok(result.input.entries.request > 0, 'what came before the damage was read');
});

test('pairing: a request and its response are one operation wherever they are; a duplicated entry counts once; no id or a redacted one stands alone', async (t) => {
  const dir = dirFor(t);
  const [qa, ra] = pair({ path: 'secret/data/a' });
  const [qb, rb] = pair({ path: 'secret/data/b' });
  const lines = [
    qa, qb, rb, ra, // interleaved: 2 operations
    ra, // the same response again (a second device, a duplicated file): not counted again
    responseOnly({ path: 'secret/data/c', id: '****' }), responseOnly({ path: 'secret/data/c', id: '****' }), // redacted ids: two operations
    requestOnly({ path: 'sys/internal/ui/mounts/secret', id: null, operation: 'help' }), // no id: alone
    requestOnly({ path: 'secret/data/d', error: 'permission denied' }), // refused before the handler: a request-only operation
  ];
  const file = join(dir, 'audit.log');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await assessVaultAudit([file], ALL);
  assert.deepEqual(r.input.entries, { request: 4, response: 5 });
  assert.deepEqual(r.input.operations, { all: 6, inWindow: 6, requestOnly: 1, withoutId: 3 });
  assert.deepEqual(r.secretsRead.paths, [{ path: 'secret/data/a', reads: 1, lists: 0 }, { path: 'secret/data/b', reads: 1, lists: 0 }, { path: 'secret/data/c', reads: 2, lists: 0 }]);
  assert.equal(r.suspicious.byKind['permission-denied'], 1);
  assert.deepEqual(r.suspicious.events.map((e) => [e.line, e.type, e.path]), [[9, 'request', 'secret/data/d']]);
});

test('the real samples: every line is read without a problem (1,447 lines from Vault 0.7 to 1.21, KMIP among them)', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  const r = await assessVaultAudit([file], ALL);
  assert.equal(r.input.lines, readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length);
  assert.equal(r.input.problems.total, 0);
  assert.equal(r.input.entries.request + r.input.entries.response + Object.values(r.input.otherTypes).reduce((a, b) => a + b, 0), r.input.lines);
});
