// A large log is read in ranges on worker threads (src/assess/vault-audit-scan.ts): the result must be the one pass's,
// field for field, whatever the number of threads and wherever the ranges fall: pairs cut by a range's end,
// duplicates across ranges, a request waiting across ranges, lines longer than a range, a last line cut off.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import { RangePool } from '../../src/assess/audit-ranges.ts';
import { entryTimeOf, timeOf } from '../../src/assess/vault-audit-classify.ts';
import { sharedFile } from '../helpers/shared.ts';
import { ALL, HMAC, pair, requestOnly, responseOnly } from './assess-entries.ts';

function dirFor(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-par-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

/** A log whose every cross-range case is written out, with what one pass must find. */
function crossRangeLog(): { lines: string[]; ops: number } {
  const filler = (n: number, tag: string) => Array.from({ length: n }, (_, i) => pair({ path: `secret/data/tenants/t${i % 7}/${tag}${i}` })).flat();
  const [aq, ar] = pair({ path: 'secret/data/app/one', id: 'id-a' });
  const [cq, cr] = pair({ path: 'sys/policy/evil', operation: 'update', id: 'id-c', error: '1 error occurred:\n\t* permission denied\n\n' });
  const [dq, dr] = pair({ path: 'secret/data/app/dup', id: 'id-d' });
  const [eq, er] = pair({ path: 'secret/data/app/late', id: 'id-e' });
  const [lq, lr] = pair({ path: 'secret/data/app/long', data: { keys: Array.from({ length: 400 }, (_, i) => HMAC(i)) } });
  const lines = [
    aq, ar,
    // Never answered, and requested again further on: one operation, the first request's (line 3).
    requestOnly({ path: 'secret/data/app/waits', id: 'id-b', error: 'permission denied' }),
    ...filler(6, 'f'),
    // A request answered only after others, the response a range further on.
    eq, ...filler(4, 'g'),
    dq, dr, cq, ...filler(3, 'h'), cr,
    lq, lr,
    ...filler(5, 'i'),
    // The same response again (a duplicated entry): counted once.
    dr,
    requestOnly({ path: 'secret/data/app/waits', id: 'id-b', error: 'permission denied' }),
    // The request of id-e again, then its response: one operation.
    eq, er,
    responseOnly({ path: 'secret/data/app/orphan', id: 'id-o' }),
    ...filler(4, 'j'),
  ];
  // a, b, e, d, c, long, orphan and the fillers' 22.
  return { lines, ops: 7 + 22 };
}

test('ranges on worker threads give the one pass\'s result exactly, for any thread count and range size, duplicates across ranges included', async (t) => {
  const dir = dirFor(t);
  const { lines, ops } = crossRangeLog();
  const file = join(dir, 'audit.log');
  // The last line is cut off mid-entry (a file still being written).
  writeFileSync(file, `${lines.join('\n')}\n\n${lines[0]?.slice(0, 60) ?? ''}`);
  const one = await assessVaultAudit([file], ALL, undefined, { workers: 1 });
  assert.equal(one.input.operations.all, ops);
  assert.equal(one.input.operations.requestOnly, 1);
  assert.equal(one.input.lines, lines.length + 2);
  assert.deepEqual(one.input.problems.byKind, { incomplete: 1 });
  assert.deepEqual(one.suspicious.events.map((e) => [e.line, e.path]), [[3, 'secret/data/app/waits'], [lines.indexOf(lines.find((l) => l.includes('sys/policy/evil') && l.includes('"response"')) ?? '') + 1, 'sys/policy/evil']]);

  let rescans = 0;
  for (const workers of [2, 3]) {
    for (const chunk of [300, 1000, 2500, 7000]) {
      const par = await assessVaultAudit([file], ALL, { onRescan: () => { rescans++; } }, { workers, chunk });
      assert.deepEqual(par, one, `${workers} threads, ranges of ${chunk} bytes`);
    }
  }
  // The duplicated response fell in another range than the first one at least once: that range was read again.
  assert.ok(rescans > 0, 'no range was read again: the duplicate never crossed a range');

  // Progress within the file: after each range, the bytes read so far, up to the whole file.
  const read: number[] = [];
  await assessVaultAudit([file], ALL, { onReading: (p) => { read.push(p.bytes); assert.equal(p.size, statSync(file).size); } }, { workers: 2, chunk: 1000 });
  assert.equal(read.length, Math.ceil(statSync(file).size / 1000));
  assert.deepEqual([...read].sort((a, b) => a - b), read);
  assert.equal(read.at(-1), statSync(file).size);
});

test('the real samples in ranges of a few kilobytes, on two and three threads: the one pass\'s result', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  const one = await assessVaultAudit([file, file], { ...ALL, allowedNetworks: ['10.0.0.0/8', '127.0.0.1'] }, undefined, { workers: 1 });
  for (const [workers, chunk] of [[2, 4096], [3, 50_000], [2, 400_000]] as const) {
    const par = await assessVaultAudit([file, file], { ...ALL, allowedNetworks: ['10.0.0.0/8', '127.0.0.1'] }, undefined, { workers, chunk });
    assert.deepEqual(par, one, `${workers} threads, ranges of ${chunk} bytes`);
  }
  assert.equal(one.input.lines, 2 * 1447);
});

test('the time of an entry read on the fast path is the full parser\'s, to the millisecond, and NaN where it is NaN', () => {
  const cases = [
    '2017-07-31T04:08:36Z', '2017-07-31T04:08:36.9Z', '2017-07-31T04:08:36.93608Z', '2017-07-31T04:08:36.360893791Z', '2017-07-31T04:08:36.000000000Z',
    '2017-07-31T04:08:36.3608937912Z', '2017-07-31T04:08:60Z', '2017-07-31T04:60:36Z', '2017-07-31T24:08:36Z', '2017-07-31T24:00:00Z',
    '2017-02-30T04:08:36Z', '2017-13-31T04:08:36Z', '2024-02-29T23:59:59.999999Z', '2017-07-31T04:08:36.Z', '2017-07-31T04:08:36.12a4Z',
    '2017-07-31T04:08:36+02:00', '2017-07-31T04:08:3xZ', '2017-07-31T04:08:36.123', '2017-07-31t04:08:36Z', '+12017-07-31T04:08:36Z', '', 'x',
  ];
  for (const c of cases) assert.ok(Object.is(entryTimeOf(c), timeOf(c)), `${c}: ${entryTimeOf(c)} against ${timeOf(c)}`);
  // And a deterministic spread of times over 120 years, fractions of 0 to 9 digits.
  let x = 12345;
  const next = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x; };
  for (let i = 0; i < 20_000; i++) {
    const base = new Date((next() % 3_786_912_000) * 1000).toISOString().slice(0, 19);
    const digits = next() % 10;
    const t = `${base}${digits === 0 ? '' : `.${String(next()).padStart(10, '0').slice(0, digits)}`}Z`;
    assert.equal(entryTimeOf(t), timeOf(t), t);
  }
});

test('a range whose thread ends before answering fails, as do the ranges after it: nothing waits forever', async (t) => {
  const dir = dirFor(t);
  const file = join(dir, 'audit.log');
  writeFileSync(file, `${Array.from({ length: 4000 }, (_, i) => pair({ path: `secret/data/app/k${i}` })).flat().join('\n')}\n`);
  const pool = new RangePool(1, ALL);
  const first = pool.scan({ file, fileIndex: 0, k: 0, chunk: 4096, ranges: 2 });
  const second = pool.scan({ file, fileIndex: 0, k: 1, chunk: 4096, ranges: 2 });
  for (const p of [first, second]) p.catch(() => undefined);
  await pool.close();
  // The first may in principle have been answered before the close; it settles either way. The second was queued behind it.
  await Promise.allSettled([first]);
  await assert.rejects(second);
  await assert.rejects(pool.scan({ file, fileIndex: 0, k: 1, chunk: 4096, ranges: 2 }), /closed/);
});
