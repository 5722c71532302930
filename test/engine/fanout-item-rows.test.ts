import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

// A first execution writes an item's row once, as it ends; its steps are journaled before they act, as always.
test('a new fan-out item is journaled at its end, in the order the items started, with its start time; its steps before they act', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-items-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const rt = createEmbeddedRuntime({ db: openDatabase(join(dir, 'j.db')), sealer: createSealer(randomBytes(32)) });
  t.after(() => rt.close());
  const seen: { item: string; itemRow: boolean; stepRow: string | undefined }[] = [];
  rt.register('w', async (ctx) => {
    const items = ['a', 'b', 'c', 'd'].map((key, i) => ({ key, value: i }));
    const r = await ctx.fanOut('items', items, (item, c) => c.step('apply', async () => {
      const rows = new Map((await rt.steps('r')).map((s) => [s.stepId, s.status]));
      seen.push({ item: item.key, itemRow: rows.has(`items[${item.key}]`), stepRow: rows.get(`items[${item.key}]/apply`) });
      // Later items finish first: the rows must still follow the start order.
      await new Promise((resolve) => setTimeout(resolve, 40 - 10 * item.value));
      if (item.key === 'c') throw new FirebreakError('UPSTREAM_REJECTED', 'c refused');
      return item.value;
    }), { concurrency: 4 });
    return { done: r.done, failed: r.failed.map((f) => f.key) };
  });
  const out = await rt.start({ runId: 'r', workflow: 'w', input: null, initiator: 't' });
  assert.equal(out.status, 'completed');
  assert.deepEqual((out.result as { output: unknown }).output, { done: 3, failed: ['c'] });
  assert.deepEqual(seen.map((s) => [s.item, s.itemRow, s.stepRow]).sort(), [['a', false, 'running'], ['b', false, 'running'], ['c', false, 'running'], ['d', false, 'running']]);
  const items = (await rt.steps('r')).filter((s) => s.kind === 'item');
  assert.deepEqual(items.map((s) => [s.stepId, s.status, s.attempts, s.error?.code ?? null]), [
    ['items[a]', 'completed', 1, null], ['items[b]', 'completed', 1, null], ['items[c]', 'failed', 1, 'UPSTREAM_REJECTED'], ['items[d]', 'completed', 1, null],
  ]);
  assert.deepEqual(items.map((s) => s.output), [0, 1, null, 3]);
  for (const s of items) {
    const step = (await rt.steps('r')).find((x) => x.stepId === `${s.stepId}/apply`);
    assert.ok(s.startedAt !== null && step?.startedAt != null && s.startedAt <= step.startedAt, `${s.stepId} started before its step`);
    assert.ok(s.endedAt !== null && step.endedAt !== null && s.endedAt >= step.endedAt, `${s.stepId} ended after its step`);
  }
});
