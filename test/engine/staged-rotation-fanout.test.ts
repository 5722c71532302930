import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { playbookWorkflow, type RunEnvelope } from '../../src/engine/playbook-executor.ts';
import { definePlaybook, type StepContext } from '../../src/engine/playbook-types.ts';
import { fingerprint, stagedRotation, type RotationAdapter } from '../../src/engine/staged-rotation.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { Secret } from '../../src/lib/secret.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createCredentialStore } from '../../src/runtime/embedded/credential-store.ts';

/** Several services, each with its own credential at one source: what a fanned-out rotation acts on. */
interface Service { accepted: string; setAt: number | undefined; config: string; loggedInAt: number | undefined }
interface World { services: Record<string, Service>; calls: string[]; failOnce: Set<string>; generated: Record<string, string[]> }

type Ctx = StepContext<Record<string, never>, World>;
const keyOf = (ctx: Ctx) => ctx.item?.key ?? '';
const svc = (ctx: Ctx): Service => {
  const s = ctx.deps.services[keyOf(ctx)];
  if (s === undefined) throw new Error(`no service ${keyOf(ctx)}`);
  return s;
};

const adapter: RotationAdapter<Record<string, never>, World> = {
  id: 'key', what: 'service key', system: 'src',
  ref: (ctx) => `src:${keyOf(ctx)}`,
  generate: (ctx) => {
    const v = randomBytes(18).toString('base64url');
    (ctx.deps.generated[keyOf(ctx)] ??= []).push(v);
    return new Secret(v);
  },
  current: async (ctx) => new Secret(svc(ctx).config),
  isSet: async (ctx, v) => svc(ctx).accepted === v.reveal(),
  setAt: async (ctx, v) => (svc(ctx).accepted === v.reveal() && svc(ctx).setAt !== undefined ? new Date(svc(ctx).setAt ?? 0) : undefined),
  set: async (ctx, v) => {
    if (ctx.deps.failOnce.delete(`set:${keyOf(ctx)}`)) throw new FirebreakError('UPSTREAM_REJECTED', `injected: the source refused ${keyOf(ctx)}`);
    ctx.deps.calls.push(`set:${keyOf(ctx)}`);
    svc(ctx).accepted = v.reveal();
    svc(ctx).setAt = Date.now() - 1;
  },
  test: async (ctx, v, prev) => ({ ok: svc(ctx).accepted === v.reveal() && prev?.reveal() !== v.reveal(), detail: 'new accepted' }),
  isPropagated: async (ctx, v) => svc(ctx).config === v.reveal(),
  propagate: async (ctx, v) => { ctx.deps.calls.push(`propagate:${keyOf(ctx)}`); svc(ctx).config = v.reveal(); return null; },
  consumersUpdated: async (ctx, at) => (svc(ctx).loggedInAt ?? 0) > at.getTime() && svc(ctx).config === svc(ctx).accepted,
  restartConsumers: async (ctx) => { ctx.deps.calls.push(`restart:${keyOf(ctx)}`); if (svc(ctx).config === svc(ctx).accepted) svc(ctx).loggedInAt = Date.now(); },
  verify: async (ctx, _v, at) => ({ ok: (svc(ctx).loggedInAt ?? 0) > at.getTime(), detail: 'logged in since' }),
};

function setup(t: TestContext, world: World) {
  const dir = mkdtempSync(join(tmpdir(), 'fb-rotf-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const db = openDatabase(join(dir, 'j.db'));
  const credentials = createCredentialStore(db);
  const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)) });
  const items = async (ctx: Ctx) => Object.keys(ctx.deps.services).map((key) => ({ key, value: null }));
  const pb = definePlaybook<Record<string, never>, World>({
    id: 'rotf', title: 'rotf', summary: 'rotf', version: 1, incidentKind: 't', severity: 'low', rto: {}, input: z.object({}),
    connect: async () => world, steps: stagedRotation(adapter, { approval: false, forEach: { items, concurrency: 2 } }),
  });
  rt.register('rotf', playbookWorkflow(pb, { env: { config: {}, log: silentLogger }, log: silentLogger, credentials, evidence: { store: async (_s, name) => ({ name, ref: '', sha256: '', bytes: 0 }) } }));
  const env: RunEnvelope = { playbook: 'rotf', input: {}, initiator: 'a', incidentId: null, twoPersonRule: false, autoApprove: true };
  return { rt, credentials, env };
}

const fresh = (): World => ({
  services: Object.fromEntries(['a', 'b', 'c'].map((k) => [k, { accepted: `old-${k}-value`, setAt: undefined, config: `old-${k}-value`, loggedInAt: undefined }])),
  calls: [], failOnce: new Set(), generated: {},
});

test('a rotation fanned out over services gives each its own value, through every stage, and labels each', async (t) => {
  const w = fresh();
  const { rt, credentials, env } = setup(t, w);
  const out = await rt.start({ runId: 'r1', workflow: 'rotf', input: env, initiator: 'a' });
  assert.equal(out.status, 'completed', JSON.stringify(out));
  for (const k of ['a', 'b', 'c']) {
    const s = w.services[k];
    assert.equal(w.generated[k]?.length, 1, `${k}: one value`);
    assert.equal(s?.accepted, w.generated[k]?.[0]);
    assert.equal(s?.config, s?.accepted, `${k}: its consumer has it`);
    assert.deepEqual(await credentials.stages(`src:${k}`), { CURRENT: fingerprint(new Secret(w.generated[k]?.[0] ?? '')) });
  }
  assert.equal(new Set(Object.values(w.generated).flat()).size, 3, 'three different values');
});

test('a service whose source refuses the new value is stopped at that stage (its consumer keeps the old one); the others finish; a resume completes it, each set once', async (t) => {
  const w = fresh();
  w.failOnce.add('set:b');
  const { rt, env } = setup(t, w);
  const first = await rt.start({ runId: 'r', workflow: 'rotf', input: env, initiator: 'a' });
  assert.notEqual(first.status, 'completed');
  assert.equal(w.services['b']?.config, 'old-b-value', 'b\'s consumer never got a value its source does not accept');
  assert.ok(!w.calls.includes('propagate:b') && !w.calls.includes('restart:b'), w.calls.join(' '));
  for (const k of ['a', 'c']) assert.equal(w.services[k]?.config, w.generated[k]?.[0], `${k} rotated`);
  const failures = JSON.stringify(first);
  assert.match(failures, /key-propagate/, 'the later stages of b are reported, not silently skipped');
  assert.match(failures, /not attempted, because key-set failed for b/);

  const second = await rt.resume('r');
  assert.equal(second.status, 'completed', JSON.stringify(second));
  assert.equal(w.services['b']?.config, w.generated['b']?.[0]);
  assert.equal(w.generated['b']?.length, 1, 'the resumed run reused b\'s sealed value');
  for (const k of ['a', 'b', 'c']) assert.equal(w.calls.filter((c) => c === `set:${k}`).length, 1, `${k} set once`);
});

test('a rotation that fans out without setAt is refused when the playbook is built', () => {
  const withoutSetAt = { ...adapter };
  delete withoutSetAt.setAt;
  assert.throws(() => stagedRotation(withoutSetAt, { forEach: { items: async () => [] } }), /needs setAt/);
});
