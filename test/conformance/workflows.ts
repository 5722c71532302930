import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { FirebreakError } from '../../src/lib/errors.ts';
import { Secret, redactKnownValues } from '../../src/lib/secret.ts';
import type { DurableRuntime, WorkflowContext } from '../../src/engine/runtime-types.ts';

/**
 * Workflows used by the runtime conformance suite. Every external effect is
 * appended to `<dir>/effects.log`, so the tests can count what really happened
 * across crashes; `<dir>/<name>.flag` files let the parent see where a child is.
 */
export function effect(dir: string, line: string): void {
  appendFileSync(join(dir, 'effects.log'), `${line}\n`);
}

export function effects(dir: string): string[] {
  const p = join(dir, 'effects.log');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function flag(dir: string, name: string): void {
  writeFileSync(join(dir, `${name}.flag`), String(process.pid));
}

const hang = (signal: AbortSignal) => new Promise<never>((_, reject) => {
  const t = setTimeout(() => { reject(new Error('hang timed out')); }, 60_000);
  signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason as Error); }, { once: true });
});

export function registerConformanceWorkflows(rt: DurableRuntime, dir: string): void {

  // Steps called in one order finish in the other; fan-out items finish in reverse within each window.
  // Nothing waits for time: each waits for the completion of the one that must finish first.
  rt.register('conf.order', async (ctx) => {
    let fastDone: () => void = () => undefined;
    const fast = new Promise<void>((resolve) => { fastDone = resolve; });
    await Promise.all([
      ctx.step('slow', async () => { await fast; effect(dir, 'end slow'); return null; }),
      ctx.step('fast', async () => { effect(dir, 'end fast'); fastDone(); return null; }),
    ]);
    const n = 6;
    const finished = Array.from({ length: n }, () => { let done: () => void = () => undefined; const p = new Promise<void>((r) => { done = r; }); return { p, done }; });
    const items = Array.from({ length: n }, (_, i) => ({ key: `item-${i}`, value: i }));
    await ctx.fanOut('items', items, async (item, c) => c.step('apply', async () => {
      // Item i waits for item i+1 of its window of three (0-2, 3-5): windows finish last-first.
      const next = item.value % 3 === 2 ? undefined : finished[item.value + 1];
      if (next !== undefined) await next.p;
      effect(dir, `end ${item.key}`);
      finished[item.value]?.done();
      return item.value;
    }), { concurrency: 3 });
    return null;
  });

  // A secret wrapped inside a run is redacted while the run executes and forgotten when it ends.
  rt.register('conf.secret', async (ctx, input) => {
    const { value } = input as { value: string };
    return ctx.step('use', async () => {
      const s = new Secret(value);
      return { redactedInside: redactKnownValues(`x ${s.reveal()} y`) === 'x [REDACTED] y' };
    });
  });
  // a → b → c. On its first attempt, b applies its effect and then hangs (the parent SIGKILLs it there).
  rt.register('conf.crash', async (ctx: WorkflowContext) => {
    await ctx.step('a', async () => { effect(dir, 'a'); return { a: 1 }; });
    const b = await ctx.step('b', async ({ attempt, resumed, signal }) => {
      // check first: a resumed step must find its own earlier effect and not repeat it.
      const already = effects(dir).includes('b');
      if (!already) effect(dir, 'b');
      if (attempt === 1) { flag(dir, 'b-in-flight'); await hang(signal); }
      return { b: 2, resumed, reapplied: !already };
    });
    await ctx.step('c', async () => { effect(dir, 'c'); return { c: 3 }; });
    return b;
  });

  rt.register('conf.approval', async (ctx) => {
    await ctx.step('prepare', async () => { effect(dir, 'prepare'); return null; });
    const approval = await ctx.waitForSignal<{ approver: string }>('gate', 'approve', {
      accept: (p) => (typeof p === 'object' && p !== null && (p as { plan?: unknown }).plan === 'h1' ? p as { approver: string } : undefined),
    });
    await ctx.step('act', async () => { effect(dir, `act by ${approval.approver}`); return null; });
    return approval;
  });

  rt.register('conf.cancel', async (ctx) => {
    await ctx.step('first', async () => { effect(dir, 'first'); return null; });
    await ctx.step('long', async ({ signal, attempt }) => {
      if (attempt === 1) { flag(dir, 'long-started'); await hang(signal); }
      effect(dir, 'long');
      return null;
    });
    await ctx.step('last', async () => { effect(dir, 'last'); return null; });
    return 'done';
  });

  rt.register('conf.generate', async (ctx) => {
    const pw = await ctx.generate('new-password', () => new Secret(randomBytes(24).toString('base64url')));
    const digest = createHash('sha256').update(pw.reveal()).digest('hex').slice(0, 16);
    await ctx.step('apply', async ({ attempt, signal }) => {
      effect(dir, `apply ${digest}`);
      if (attempt === 1) { flag(dir, 'apply-in-flight'); await hang(signal); }
      return { digest };
    });
    return { digest };
  });

  // Items whose key is listed in <dir>/fail fail (not retryable); concurrency is recorded.
  rt.register('conf.fanout', async (ctx, input) => {
    const { n, concurrency } = input as { n: number; concurrency: number };
    let inFlight = 0;
    const items = Array.from({ length: n }, (_, i) => ({ key: `item-${String(i).padStart(3, '0')}`, value: i }));
    const result = await ctx.fanOut('items', items, async (item, ictx) => ictx.step('work', async () => {
      inFlight++;
      effect(dir, `start ${item.key} inflight=${inFlight}`);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const failing = existsSync(join(dir, 'fail')) ? readFileSync(join(dir, 'fail'), 'utf8').split(',') : [];
      if (failing.includes(item.key)) throw new FirebreakError('UPSTREAM_REJECTED', `item ${item.key} refused`);
      return item.value * 2;
    }), { concurrency });
    if (result.failed.length > 0) ctx.markPartial(result.failed.map((f) => ({ stepId: 'items', key: f.key, error: f.error })));
    let sum = 0;
    for await (const x of result.succeeded()) sum += x.value;
    return { sum, failed: result.failed.map((f) => f.key) };
  });

  // Outputs read back from the journal: every succeeded item once, in item order, across pages.
  rt.register('conf.readback', async (ctx, input) => {
    const { n } = input as { n: number };
    const items = Array.from({ length: n }, (_, i) => ({ key: `r${i}`, value: i }));
    const result = await ctx.fanOut('items', items, async (item) => {
      if (item.value % 100 === 99) throw new FirebreakError('UPSTREAM_REJECTED', `item ${item.key} refused`);
      return { square: item.value * item.value };
    }, { concurrency: 16 });
    const read: { key: string; square: number }[] = [];
    for await (const x of result.succeeded()) read.push({ key: x.key, square: x.value.square });
    return { done: result.done, failed: result.failed.map((f) => f.key), read };
  });

  // Many items that do almost nothing: the process spends its time committing (the group-commit SIGKILL test).
  rt.register('conf.wide', async (ctx, input) => {
    const { n, concurrency } = input as { n: number; concurrency: number };
    const items = Array.from({ length: n }, (_, i) => ({ key: `w${String(i).padStart(5, '0')}`, value: i }));
    const result = await ctx.fanOut('items', items, async (item, ictx) => ictx.step('touch', async ({ attempt }) => {
      effect(dir, `touch ${item.key} ${attempt}`);
      return item.value;
    }), { concurrency });
    return { done: result.done };
  });

  rt.register('conf.retry', async (ctx) => ctx.step('flaky', async ({ attempt }) => {
    effect(dir, `flaky ${attempt}`);
    if (attempt < 3) throw new FirebreakError('UNAVAILABLE', 'target answered 503');
    return attempt;
  }, { retry: { maxAttempts: 5, baseMs: 1, maxMs: 5, jitter: 1 } }));

  rt.register('conf.no-retry-4xx', async (ctx) => ctx.step('rejected', async ({ attempt }) => {
    effect(dir, `rejected ${attempt}`);
    throw new FirebreakError('UPSTREAM_REJECTED', 'target answered 400');
  }, { retry: { maxAttempts: 5, baseMs: 1, maxMs: 5, jitter: 1 } }));
}
