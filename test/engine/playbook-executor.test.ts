import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { approvalSignal, playbookWorkflow, resolveSignal, type RunEnvelope } from '../../src/engine/playbook-executor.ts';
import { definePlaybook, type Phase, type StepDefinition } from '../../src/engine/playbook-types.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { Secret } from '../../src/lib/secret.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createCredentialStore } from '../../src/runtime/embedded/credential-store.ts';
import type { DurableRuntime } from '../../src/engine/runtime-types.ts';

interface World { state: Map<string, string>; log: string[]; phases: Phase[] }

function harness(t: TestContext, steps: StepDefinition<{ devices: number }, World>[], world: World): DurableRuntime {
  const dir = mkdtempSync(join(tmpdir(), 'fb-exec-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const db = openDatabase(join(dir, 'j.db'));
  const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)), waitMode: 'suspend', pollMs: 10 });
  const pb = definePlaybook<{ devices: number }, World>({
    id: 'test-pb', title: 'test', summary: 'test', version: 1, incidentKind: 'test', severity: 'low', rto: {},
    input: z.object({ devices: z.number().int().min(0) }), connect: async () => world, steps,
  });
  rt.register('test-pb', playbookWorkflow(pb, {
    env: { config: {}, log: silentLogger }, log: silentLogger,
    evidence: { store: async (_s, name) => ({ name, ref: `mem:${name}`, sha256: '0', bytes: 0 }) },
    credentials: createCredentialStore(db),
    phaseCompleted: async (_i, _r, phase) => { world.phases.push(phase); },
  }));
  return rt;
}

const envelope = (over: Partial<RunEnvelope> = {}): RunEnvelope => ({ playbook: 'test-pb', input: { devices: 3 }, initiator: 'alice', incidentId: null, twoPersonRule: false, autoApprove: false, ...over });
const set = (key: string, value: string): StepDefinition<{ devices: number }, World> => ({
  id: key, title: `set ${key}`, phase: 'containment', system: key, effect: 'mutate', idempotency: 'natural',
  check: async ({ deps }) => ({ done: deps.state.get(key) === value, detail: `${key} := ${value}` }),
  apply: async ({ deps }) => { deps.log.push(`apply ${key}`); await new Promise((r) => setTimeout(r, 20)); deps.state.set(key, value); return { key }; },
  verify: async ({ deps }) => ({ ok: deps.state.get(key) === value, detail: `${key} is ${deps.state.get(key) ?? 'unset'}` }),
});

test('independent steps run in parallel; a step whose check says done is not applied; phases complete', async (t) => {
  const world: World = { state: new Map([['b', 'x']]), log: [], phases: [] };
  const active = { now: 0, max: 0 };
  const slow = (id: string): StepDefinition<{ devices: number }, World> => ({
    ...set(id, 'x'),
    apply: async ({ deps }) => { active.now++; active.max = Math.max(active.max, active.now); await new Promise((r) => setTimeout(r, 30)); active.now--; deps.state.set(id, 'x'); return null; },
  });
  const rt = harness(t, [slow('a'), set('b', 'x'), slow('c'), { ...set('d', 'x'), phase: 'recovery', dependsOn: ['a', 'c'] }], world);
  const out = await rt.start({ runId: 'r1', workflow: 'test-pb', input: envelope({ autoApprove: true }), initiator: 'alice' });
  assert.equal(out.status, 'completed', JSON.stringify(out.error));
  assert.equal(active.max, 2, 'a and c ran at the same time');
  assert.deepEqual(world.log, ['apply d'], 'b was already done and was not applied');
  const steps = await rt.steps('r1');
  assert.deepEqual((steps.find((s) => s.stepId === 'b')?.output as { outcome: string }).outcome, 'already');
  assert.deepEqual(world.phases.sort(), ['containment', 'recovery']);
});

test('a failed verification fails the step, skips its dependents, lets independent branches finish', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const liar: StepDefinition<{ devices: number }, World> = { ...set('liar', 'x'), apply: async () => null };
  const rt = harness(t, [liar, { ...set('after', 'x'), dependsOn: ['liar'] }, set('other', 'y')], world);
  const out = await rt.start({ runId: 'r2', workflow: 'test-pb', input: envelope({ autoApprove: true }), initiator: 'alice' });
  assert.equal(out.status, 'failed');
  assert.equal(out.error?.code, 'VERIFY_FAILED');
  assert.match(out.error?.message ?? '', /set liar: verification failed: liar is unset/);
  assert.equal(world.state.get('other'), 'y');
  assert.equal(world.state.has('after'), false);
});

test('bad input is refused before anything runs, naming the field', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const rt = harness(t, [set('a', 'x')], world);
  const out = await rt.start({ runId: 'r3', workflow: 'test-pb', input: envelope({ input: { devices: -1 } }), initiator: 'alice' });
  assert.equal(out.status, 'failed');
  assert.equal(out.error?.code, 'INVALID_INPUT');
  assert.match(out.error?.message ?? '', /devices: /);
  assert.deepEqual(world.log, []);
});

test('an irreversible step waits for an approval bound to the plan hash, and the two-person rule holds', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const rt = harness(t, [{ ...set('revoke', 'yes'), effect: 'irreversible' }], world);
  const first = await rt.start({ runId: 'r4', workflow: 'test-pb', input: envelope({ twoPersonRule: true }), initiator: 'alice' });
  assert.equal(first.status, 'waiting');
  const plan = (await rt.steps('r4')).find((s) => s.stepId === 'plan')?.output as { hash: string; entries: { stepId: string; action: string; approval: boolean }[] };
  assert.deepEqual(plan.entries.map((e) => [e.stepId, e.action, e.approval]), [['revoke', 'change', true]]);
  await rt.signal('r4', approvalSignal('revoke'), { planHash: 'f'.repeat(64), approver: 'bob', decision: 'approve' });
  await rt.signal('r4', approvalSignal('revoke'), { planHash: plan.hash, approver: 'alice', decision: 'approve' });
  assert.equal((await rt.resume('r4')).status, 'waiting', 'a stale plan hash and the initiator herself do not count');
  assert.deepEqual(world.log, []);
  await rt.signal('r4', approvalSignal('revoke'), { planHash: plan.hash, approver: 'bob', decision: 'approve' });
  assert.equal((await rt.resume('r4')).status, 'completed');
  assert.deepEqual(world.log, ['apply revoke']);
});

test('a rejection fails the run without applying', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const rt = harness(t, [{ ...set('revoke', 'yes'), effect: 'irreversible' }], world);
  await rt.start({ runId: 'r5', workflow: 'test-pb', input: envelope(), initiator: 'alice' });
  const plan = (await rt.steps('r5')).find((s) => s.stepId === 'plan')?.output as { hash: string };
  await rt.signal('r5', approvalSignal('revoke'), { planHash: plan.hash, approver: 'bob', decision: 'reject', note: 'wrong device' });
  const out = await rt.resume('r5');
  assert.equal(out.status, 'failed');
  assert.equal(out.error?.code, 'APPROVAL_INVALID');
  assert.match(out.error?.message ?? '', /rejected by bob: wrong device/);
  assert.deepEqual(world.log, []);
});

test('fan-out steps: per-item check/apply, failures isolated, run completed_with_failures, generated values per item', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const reenroll: StepDefinition<{ devices: number }, World> = {
    id: 'reenroll', title: 're-enroll devices', phase: 'recovery', system: 'ca', effect: 'mutate', idempotency: 'keyed',
    forEach: { items: async ({ input }) => Array.from({ length: input.devices }, (_, i) => ({ key: `dev-${i}`, value: i })), concurrency: 2 },
    check: async ({ deps, item }) => ({ done: deps.state.has(item?.key ?? ''), detail: `re-enroll ${item?.key ?? ''}` }),
    apply: async ({ deps, item, generate }) => {
      const secret = await generate('enroll-token', () => new Secret(randomBytes(16).toString('hex')));
      if (item?.key === 'dev-1') throw new FirebreakError('UPSTREAM_REJECTED', 'device refused');
      deps.state.set(item?.key ?? '', secret.reveal());
      return { ok: true };
    },
  };
  const rt = harness(t, [reenroll], world);
  const out = await rt.start({ runId: 'r6', workflow: 'test-pb', input: envelope({ input: { devices: 4 }, autoApprove: true }), initiator: 'alice' });
  assert.equal(out.status, 'completed_with_failures');
  assert.deepEqual((out.result as { failures: { key: string }[] }).failures.map((f) => f.key), ['dev-1']);
  assert.deepEqual([...world.state.keys()].sort(), ['dev-0', 'dev-2', 'dev-3']);
  const tokens = new Set(world.state.values());
  assert.equal(tokens.size, 3, 'each item got its own generated value');
});

test('nothing changes before the plan is approved: a reversible step waits too, unless it is automatic containment; a rejection compensates what ran', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  const undoable = (id: string): StepDefinition<{ devices: number }, World> => ({ ...set(id, 'x'), compensate: async ({ deps }) => { deps.log.push(`undo ${id}`); deps.state.delete(id); } });
  const rt = harness(t, [undoable('peer'), { ...undoable('json'), dependsOn: ['peer'] }, { ...set('revoke', 'yes'), effect: 'irreversible' }], world);

  const plain = await rt.start({ runId: 'r7', workflow: 'test-pb', input: envelope(), initiator: 'alice' });
  assert.equal(plain.status, 'waiting');
  assert.deepEqual(world.log, [], 'a mutate step did not run before the approval');
  const plan = (await rt.steps('r7')).find((s) => s.stepId === 'plan')?.output as { entries: { stepId: string; approval: boolean; automatic?: boolean }[] };
  assert.deepEqual(plan.entries.map((e) => [e.stepId, e.approval, e.automatic ?? false]), [['peer', true, false], ['json', true, false], ['revoke', true, false]]);

  const auto = await rt.start({ runId: 'r8', workflow: 'test-pb', input: envelope({ automatic: ['peer', 'json'] }), initiator: 'alice' });
  assert.equal(auto.status, 'waiting');
  assert.deepEqual(world.log, ['apply peer', 'apply json'], 'automatic containment ran before the approval; the irreversible step waits');
  const autoPlan = (await rt.steps('r8')).find((s) => s.stepId === 'plan')?.output as { hash: string; entries: { stepId: string; approval: boolean; automatic?: boolean }[] };
  assert.deepEqual(autoPlan.entries.map((e) => [e.stepId, e.approval, e.automatic ?? false]), [['peer', false, true], ['json', false, true], ['revoke', true, false]]);
  await rt.signal('r8', approvalSignal('revoke'), { planHash: autoPlan.hash, approver: 'bob', decision: 'reject', note: 'wrong device' });
  const rejected = await rt.resume('r8');
  assert.equal(rejected.status, 'failed');
  assert.deepEqual(world.log, ['apply peer', 'apply json', 'undo json', 'undo peer'], 'the rejection undid the automatic steps, newest first');
  assert.equal(world.state.has('revoke'), false);
  assert.equal(world.state.has('peer'), false);
});

test('a step that cannot be repeated, interrupted after its effect, is never applied again without the operator; keyed steps ask when their key is refused', async (t) => {
  const world: World = { state: new Map(), log: [], phases: [] };
  let hang = true;
  const once: StepDefinition<{ devices: number }, World> = {
    id: 'sign', title: 'sign once', phase: 'eradication', system: 'ca', effect: 'mutate', idempotency: 'none',
    inDoubt: () => 'Look in the CA for a certificate issued by the interrupted attempt',
    apply: async ({ deps, signal }) => {
      deps.log.push('apply sign');
      // The effect lands, then the attempt never finishes (the process is stopped here).
      if (hang) await new Promise((_, reject) => { signal.addEventListener('abort', () => { reject(signal.reason as Error); }); });
      return { ok: true };
    },
  };
  const rt = harness(t, [once], world);
  const running = rt.start({ runId: 'r9', workflow: 'test-pb', input: envelope({ autoApprove: true }), initiator: 'alice' });
  await until(() => world.log.length === 1);
  await rt.cancel('r9');
  assert.equal((await running).status, 'cancelled');
  hang = false;
  const resumed = await rt.resume('r9');
  assert.equal(resumed.status, 'waiting', 'the run waits for the operator instead of applying again');
  assert.deepEqual(world.log, ['apply sign']);
  const wait = (await rt.steps('r9')).find((s) => s.stepId === 'resolve-sign@1');
  assert.equal(wait?.status, 'waiting');
  assert.match(String(wait?.meta['note']), /Look in the CA for a certificate issued by the interrupted attempt/);
  const plan = (await rt.steps('r9')).find((s) => s.stepId === 'plan')?.output as { hash: string };
  // An approval of the plan is not the operator's word on the doubt.
  await rt.signal('r9', approvalSignal('sign'), { planHash: plan.hash, approver: 'alice', decision: 'approve' });
  assert.equal((await rt.resume('r9')).status, 'waiting');
  await rt.signal('r9', resolveSignal('sign'), { planHash: plan.hash, approver: 'alice', decision: 'approve' });
  assert.equal((await rt.resume('r9')).status, 'completed');
  assert.deepEqual(world.log, ['apply sign', 'apply sign'], 'applied again only after the confirmation');

  const generations: number[] = [];
  const keyed: StepDefinition<{ devices: number }, World> = {
    id: 'keyed', title: 'keyed', phase: 'eradication', system: 'ca2', effect: 'mutate', idempotency: 'keyed', retry: { maxAttempts: 2, baseMs: 1, maxMs: 1 },
    apply: async ({ attempt, generation }) => {
      generations.push(generation);
      if (attempt === 1) throw new FirebreakError('TIMEOUT', 'no answer');
      if (generation === 0) throw new FirebreakError('IN_DOUBT', 'the key of the first attempt was refused');
      return { ok: true };
    },
  };
  const rt2 = harness(t, [keyed], world);
  assert.equal((await rt2.start({ runId: 'r10', workflow: 'test-pb', input: envelope({ autoApprove: true }), initiator: 'alice' })).status, 'waiting');
  assert.deepEqual(generations, [0, 0], 'the retry used the same key; its refusal made the run wait');
  const plan2 = (await rt2.steps('r10')).find((s) => s.stepId === 'plan')?.output as { hash: string };
  await rt2.signal('r10', resolveSignal('keyed'), { planHash: plan2.hash, approver: 'alice', decision: 'approve' });
  assert.equal((await rt2.resume('r10')).status, 'completed');
  assert.deepEqual(generations, [0, 0, 2], 'after the confirmation, a new generation (a new key)');
});

async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setImmediate(r));
}
