import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TokenBucket, mapWithConcurrency } from '../../src/engine/rate-limit.ts';
import { retryDelay, DEFAULT_RETRY } from '../../src/engine/retry.ts';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { FirebreakError } from '../../src/lib/errors.ts';

test('retry delays grow exponentially, stay under the cap, honour Retry-After, and never retry non-retryable errors', () => {
  const policy = { maxAttempts: 6, baseMs: 100, maxMs: 1000, jitter: 0 };
  const transient = { code: 'UNAVAILABLE' as const, message: '503', retryable: true };
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelay(policy, a, transient)), [100, 200, 400, 800, 1000]);
  assert.equal(retryDelay(policy, 6, transient), undefined, 'attempts exhausted');
  assert.equal(retryDelay(policy, 1, { code: 'UPSTREAM_REJECTED', message: '400', retryable: false }), undefined);
  assert.equal(retryDelay(policy, 1, { ...transient, retryAfterMs: 5000 }), 5000);
  const jittered = Array.from({ length: 50 }, () => retryDelay(DEFAULT_RETRY, 3, transient) ?? -1);
  assert.ok(jittered.every((d) => d >= 0 && d <= 800), 'full jitter stays within [0, base·2^(n-1)]');
  assert.ok(new Set(jittered).size > 10, 'and varies');
});

test('a token bucket holds callers to its rate after the burst', async () => {
  const bucket = new TokenBucket({ perSecond: 100, burst: 1 });
  const started = performance.now();
  for (let i = 0; i < 21; i++) await bucket.take();
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 190, `21 tokens at 100/s with burst 1 need ≥ 200 ms (took ${elapsed.toFixed(0)} ms)`);
  assert.throws(() => new TokenBucket({ perSecond: 0 }), /must be > 0/);
});

test('bounded concurrency never exceeds its limit and settles every item', async () => {
  let active = 0;
  let max = 0;
  const results = await mapWithConcurrency(Array.from({ length: 30 }, (_, i) => i), 3, async (i) => {
    active++;
    max = Math.max(max, active);
    await new Promise((r) => setTimeout(r, 2));
    active--;
    if (i === 7) throw new Error('seven');
    return i;
  });
  assert.equal(max, 3);
  assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
  assert.equal(results.length, 30);
});

test('a step timeout aborts the attempt, fails it with TIMEOUT and retries it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-timeout-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const rt = createEmbeddedRuntime({ db: openDatabase(join(dir, 'j.db')), sealer: createSealer(randomBytes(32)) });
  const aborted: boolean[] = [];
  rt.register('slow', async (ctx) => ctx.step('slow', async ({ attempt, signal }) => {
    if (attempt === 1) {
      await new Promise((resolve) => { signal.addEventListener('abort', () => { aborted.push(true); resolve(null); }); });
      throw new FirebreakError('INTERNAL', 'should have timed out first');
    }
    return attempt;
  }, { timeoutMs: 50, retry: { maxAttempts: 2, baseMs: 1, maxMs: 1, jitter: 0 } }));
  const out = await rt.start({ runId: 'r', workflow: 'slow', input: null, initiator: 't' });
  assert.equal(out.status, 'completed');
  assert.deepEqual((out.result as { output: unknown }).output, 2);
  assert.deepEqual(aborted, [true], 'the first attempt saw its signal abort');
  const attempts = (await rt.steps('r'))[0];
  assert.equal(attempts?.attempts, 2);
});
