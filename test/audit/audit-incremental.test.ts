import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditFixture, fill } from './audit-helpers.ts';

const edit = (f: ReturnType<typeof auditFixture>, seq: number) => {
  const r = f.db.prepare(`UPDATE audit_entries SET entry = replace(entry, '"title":"step ', '"title":"edited ') WHERE seq = ?`).run(seq);
  assert.equal(r.changes, 1);
};

test('an incremental verify recomputes only the entries after the checkpoint a verify reached, and still catches an edit after it', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 45);
  assert.equal((await f.log.verify()).ok, true, 'a full verify records the checkpoint it reached (#40)');
  fill(f.log, 10);
  edit(f, 50);
  const inc = await f.log.verify({ incremental: true });
  assert.equal(inc.ok, false);
  assert.equal(inc.ok ? 0 : inc.firstBad.seq, 50, 'an edit after the verified checkpoint is found');
});

test('an edit before the verified checkpoint is the full verify\'s to find; a marker that does not match sends the incremental verify back to the first entry', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 45);
  assert.equal((await f.log.verify()).ok, true);
  edit(f, 12);
  // The contract: an incremental verify trusts the entries a verify already checked (up to #40)…
  assert.equal((await f.log.verify({ incremental: true })).ok, true);
  // …and the full one, the default of `audit verify`, recomputes everything.
  const full = await f.log.verify();
  assert.equal(full.ok ? 0 : full.firstBad.seq, 12);
  // A marker that names a checkpoint the store does not have (or another hash) is not trusted.
  f.db.prepare("UPDATE audit_verified SET hash = 'ab' || substr(hash, 3)").run();
  const back = await f.log.verify({ incremental: true });
  assert.equal(back.ok ? 0 : back.firstBad.seq, 12);
});
