import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { playbookWorkflow, type RunEnvelope } from '../../src/engine/playbook-executor.ts';
import { definePlaybook, type StepDefinition } from '../../src/engine/playbook-types.ts';
import { mapWithConcurrency } from '../../src/engine/rate-limit.ts';
import { toErrorData } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import type { FanOutResult, WorkflowContext } from '../../src/engine/runtime-types.ts';

type Delays = Readonly<Record<string, number>>;
interface World { readonly delays: Delays; active: number; maxActive: number }

const sleep = (ms: number) => new Promise<void>((r) => { setTimeout(r, ms); });

/** A runtime that records the order in which the workflow issues its durable calls (what replay-by-order runtimes key on). */
function recordingContext(calls: string[], prefix = ''): WorkflowContext {
  const signal = new AbortController().signal;
  const ctx: WorkflowContext = {
    runId: 'order', signal,
    step: (id, fn) => { calls.push(`${prefix}${id}`); return fn({ attempt: 1, resumed: false, signal }); },
    generate: async (_id, fn) => fn(),
    sleep: (_id, ms) => sleep(ms),
    waitForSignal: () => Promise.reject(new Error('no signal in this test')),
    fanOut: async <I, T>(id: string, items: readonly { key: string; value: I }[], fn: (item: { key: string; value: I }, c: WorkflowContext) => Promise<T>, o: { concurrency: number }): Promise<FanOutResult<T>> => {
      calls.push(`${prefix}${id}`);
      const settled = await mapWithConcurrency(items, o.concurrency, (item) => fn(item, recordingContext(calls, `${prefix}${id}[${item.key}]/`)));
      const succeeded = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [{ key: items[i]?.key ?? '', value: r.value }] : []));
      return {
        done: succeeded.length,
        failed: settled.flatMap((r, i) => (r.status === 'rejected' ? [{ key: items[i]?.key ?? '', error: toErrorData(r.reason) }] : [])),
        async *succeeded() { yield* succeeded; },
      };
    },
    stepState: async () => undefined,
    markPartial: () => undefined,
  };
  return ctx;
}

const timed = (id: string, dependsOn: readonly string[] = []): StepDefinition<Record<string, never>, World> => ({
  id, title: id, phase: 'containment', system: id, effect: 'mutate', idempotency: 'natural', dependsOn,
  apply: async ({ deps }) => {
    deps.active++;
    deps.maxActive = Math.max(deps.maxActive, deps.active);
    await sleep(deps.delays[id] ?? 0);
    deps.active--;
    return { id };
  },
});

const fan: StepDefinition<Record<string, never>, World> = {
  id: 'fan', title: 'fan', phase: 'recovery', system: 'fan', effect: 'mutate', idempotency: 'natural',
  forEach: { items: async () => ['i0', 'i1', 'i2', 'i3'].map((key) => ({ key, value: key })), concurrency: 2 },
  apply: async ({ deps, item }) => { await sleep(deps.delays[item?.key ?? ''] ?? 0); return item?.key; },
};

async function callOrder(delays: Delays): Promise<{ calls: string[]; maxActive: number }> {
  const world: World = { delays, active: 0, maxActive: 0 };
  const pb = definePlaybook<Record<string, never>, World>({
    id: 'order', title: 'order', summary: 'order', version: 1, incidentKind: 't', severity: 'low', rto: {}, input: z.object({}),
    connect: async () => world,
    // Two branches: x1 → y1 and x2 → y2; the y steps wait for their own x.
    steps: [timed('x1'), timed('x2'), timed('y1', ['x1']), timed('y2', ['x2']), fan],
  });
  const wf = playbookWorkflow(pb, { env: undefined, log: silentLogger, evidence: { store: async (_s, name) => ({ name, ref: '', sha256: '', bytes: 0 }) }, credentials: { label: async () => undefined, stages: async () => ({}) } });
  const calls: string[] = [];
  const envelope: RunEnvelope = { playbook: 'order', input: {}, initiator: 'alice', incidentId: null, twoPersonRule: false, autoApprove: true };
  await wf(recordingContext(calls), envelope);
  return { calls, maxActive: world.maxActive };
}

test('steps and fan-out items start in declaration order whatever the timing; started steps still run in parallel', async () => {
  // First the first branch is slow and the first item slow, then the reverse.
  const slowFirst = await callOrder({ x1: 60, x2: 1, i0: 60, i1: 1, i2: 1, i3: 1 });
  const slowSecond = await callOrder({ x1: 1, x2: 60, i0: 1, i1: 60, i2: 1, i3: 1 });
  assert.deepEqual(slowFirst.calls, slowSecond.calls, 'the same call order with the timing reversed');
  const steps = slowFirst.calls.filter((c) => !c.startsWith('approve-') && !c.includes('/'));
  assert.deepEqual(steps, ['plan', 'x1', 'x2', 'y1', 'y2', 'fan.items', 'fan']);
  const items = slowFirst.calls.filter((c) => c.includes('/')).map((c) => c.split('/')[0]);
  assert.deepEqual(items, ['fan[i0]', 'fan[i1]', 'fan[i2]', 'fan[i3]'], 'items start in index order');
  assert.ok(slowFirst.maxActive >= 2 && slowSecond.maxActive >= 2, 'x1 and x2 ran at the same time');
});
