import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { playbookWorkflow } from '../../src/engine/playbook-executor.ts';
import { defineStep, definePlaybook, type Phase } from '../../src/engine/playbook-types.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createCredentialStore } from '../../src/runtime/embedded/credential-store.ts';

interface In { readonly ca: boolean }
interface World { applied: string[]; seen: string[]; phases: Phase[] }

test('a step that does not apply is skipped with its reason (plan and journal), counts as done; outputs are typed by their step', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-when-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const db = openDatabase(join(dir, 'j.db'));
  const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)), waitMode: 'suspend', pollMs: 10 });
  const world: World = { applied: [], seen: [], phases: [] };
  const resolve = defineStep<In, World, { serial: string }>({
    id: 'resolve', title: 'resolve', phase: 'assessment', system: 'inv', effect: 'read', idempotency: 'natural',
    apply: async () => ({ serial: '42' }),
  });
  const revoke = defineStep<In, World, { revoked: string }>({
    id: 'revoke', title: 'revoke', phase: 'containment', system: 'ca', effect: 'irreversible', idempotency: 'natural', dependsOn: ['resolve'],
    when: (ctx) => ctx.input.ca || 'no CA configured for the tenant',
    apply: async (ctx) => { world.applied.push('revoke'); return { revoked: ctx.output(resolve)?.serial ?? '' }; },
    verify: async () => { world.applied.push('verify revoke'); return { ok: true, detail: 'revoked' }; },
  });
  const after = defineStep<In, World, null>({
    id: 'after', title: 'after', phase: 'containment', system: 'x', effect: 'mutate', idempotency: 'natural', dependsOn: ['revoke'],
    // The typed output of an earlier step, no cast: a string here, undefined when that step was skipped.
    apply: async (ctx) => { world.seen.push(ctx.output(revoke)?.revoked ?? '(skipped)', ctx.output(resolve)?.serial ?? ''); return null; },
  });
  const pb = definePlaybook<In, World>({
    id: 'when-pb', title: 'w', summary: 'w', version: 1, incidentKind: 't', severity: 'low', rto: {},
    input: z.object({ ca: z.boolean() }), connect: async () => world, steps: [resolve, revoke, after],
  });
  rt.register('when-pb', playbookWorkflow(pb, {
    env: undefined, log: silentLogger, credentials: createCredentialStore(db),
    evidence: { store: async (_s, name) => ({ name, ref: '', sha256: '', bytes: 0 }) },
    phaseCompleted: async (_i, _r, phase) => { world.phases.push(phase); },
  }));

  const out = await rt.start({ runId: 'w1', workflow: 'when-pb', input: { playbook: 'when-pb', input: { ca: false }, initiator: 'alice', incidentId: null, twoPersonRule: false, autoApprove: true }, initiator: 'alice' });
  assert.equal(out.status, 'completed', JSON.stringify(out.error));
  const steps = await rt.steps('w1');
  const plan = steps.find((s) => s.stepId === 'plan')?.output as { entries: { stepId: string; action: string; detail: string; approval: boolean }[] };
  assert.deepEqual(plan.entries.find((e) => e.stepId === 'revoke'), { ...plan.entries.find((e) => e.stepId === 'revoke'), action: 'none', detail: 'no CA configured for the tenant', approval: true });
  assert.deepEqual(steps.find((s) => s.stepId === 'revoke')?.output, { outcome: 'already', detail: 'no CA configured for the tenant', skipped: true });
  assert.deepEqual(world.applied, [], 'neither applied nor verified');
  assert.deepEqual(world.seen, ['(skipped)', '42'], 'its dependent ran and read the outputs by step');
  assert.deepEqual(world.phases.sort(), ['assessment', 'containment'], 'the skipped step did not hold its phase back');

  const applies = await rt.start({ runId: 'w2', workflow: 'when-pb', input: { playbook: 'when-pb', input: { ca: true }, initiator: 'alice', incidentId: null, twoPersonRule: false, autoApprove: true }, initiator: 'alice' });
  assert.equal(applies.status, 'completed', JSON.stringify(applies.error));
  assert.deepEqual(world.applied, ['revoke', 'verify revoke']);
  assert.deepEqual(world.seen.slice(2), ['42', '42']);
});
