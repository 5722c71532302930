import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { JournalStore } from '../../src/runtime/embedded/journal-store.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

// A step of one attempt is its own record; a second attempt gives both their rows. The history reads the same either way.
test('the attempt history: one attempt from the step, retries and an attempt cut off by a crash from their own rows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-attempts-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const db = openDatabase(join(dir, 'j.db'));
  const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)) });
  rt.register('w', async (ctx) => {
    await ctx.step('once', async () => 1);
    await ctx.step('twice', async ({ attempt }) => {
      if (attempt === 1) throw new FirebreakError('UNAVAILABLE', 'first attempt refused');
      return attempt;
    }, { retry: { maxAttempts: 3, baseMs: 1, maxMs: 1, jitter: 0 } });
    return null;
  });
  assert.equal((await rt.start({ runId: 'r', workflow: 'w', input: null, initiator: 't' })).status, 'completed');
  await rt.close();

  const store = new JournalStore(db);
  // An attempt in flight at a crash, then the resumed one (what a second execution writes).
  db.prepare("INSERT INTO runs (id, workflow, input, status, initiator, created_at, updated_at) VALUES ('r2', 'w', 'null', 'running', 't', 'x', 'x')").run();
  assert.equal(store.startAttempt({ runId: 'r2', stepId: 'cut', parentId: null, kind: 'step', meta: {}, now: '2026-12-03T10:00:00.000Z' }), 1);
  assert.equal(store.startAttempt({ runId: 'r2', stepId: 'cut', parentId: null, kind: 'step', meta: {}, now: '2026-12-03T10:00:05.000Z' }), 2);
  store.finishAttempt({ runId: 'r2', stepId: 'cut', attempt: 2, status: 'completed', output: 2, now: '2026-12-03T10:00:06.000Z' });

  const rows = (runId: string) => Number(db.prepare('SELECT count(*) AS n FROM attempts WHERE run_id = ?').get(runId)?.['n']);
  const history = store.attempts('r').map((a) => [a.stepId, a.attempt, a.outcome, a.error?.code ?? null, a.endedAt === null]);
  assert.deepEqual(history, [
    ['once', 1, 'completed', null, false],
    ['twice', 1, 'failed', 'UNAVAILABLE', false],
    ['twice', 2, 'completed', null, false],
  ]);
  assert.equal(rows('r'), 2, 'only the retried step has attempt rows');
  assert.deepEqual(store.attempts('r2').map((a) => [a.attempt, a.startedAt, a.endedAt, a.outcome]), [
    [1, '2026-12-03T10:00:00.000Z', null, null],
    [2, '2026-12-03T10:00:05.000Z', '2026-12-03T10:00:06.000Z', 'completed'],
  ]);

  // A store written before: a one-attempt step with its own attempt row is listed once, as its step says.
  db.prepare("INSERT INTO attempts (run_id, step_id, attempt, started_at) VALUES ('r', 'once', 1, 'stale')").run();
  assert.deepEqual(store.attempts('r').filter((a) => a.stepId === 'once').map((a) => [a.attempt, a.outcome]), [[1, 'completed']]);
  db.close();
});
