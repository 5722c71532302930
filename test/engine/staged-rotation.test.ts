import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { playbookWorkflow, type RunEnvelope } from '../../src/engine/playbook-executor.ts';
import { definePlaybook } from '../../src/engine/playbook-types.ts';
import { fingerprint, stagedRotation, type RotationAdapter } from '../../src/engine/staged-rotation.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { Secret } from '../../src/lib/secret.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { createCredentialStore } from '../../src/runtime/embedded/credential-store.ts';

/** An in-memory secret kind: a source that accepts one password, consumers that read a config and hold sessions. */
interface World {
  accepted: string;
  config: string;
  sessions: { password: string; since: number }[];
  calls: string[];
  failOnce: Set<string>;
  generated: string[];
}

const maybeFail = (w: World, point: string) => {
  if (w.failOnce.delete(point)) throw new FirebreakError('UPSTREAM_REJECTED', `injected failure at ${point}`);
};

const adapter: RotationAdapter<Record<string, never>, World> = {
  id: 'password', what: 'app password', system: 'db',
  ref: () => 'db:app',
  generate: (ctx) => { const v = randomBytes(24).toString('base64url'); ctx.deps.generated.push(v); return new Secret(v); },
  current: async (ctx) => new Secret(ctx.deps.config),
  isSet: async (ctx, v) => ctx.deps.accepted === v.reveal(),
  set: async (ctx, v) => { ctx.deps.calls.push('set'); ctx.deps.accepted = v.reveal(); maybeFail(ctx.deps, 'after-set'); },
  test: async (ctx, v, prev) => ({ ok: ctx.deps.accepted === v.reveal() && prev?.reveal() !== ctx.deps.accepted, detail: 'new accepted, old refused' }),
  isPropagated: async (ctx, v) => ctx.deps.config === v.reveal(),
  propagate: async (ctx, v) => { ctx.deps.calls.push('propagate'); ctx.deps.config = v.reveal(); maybeFail(ctx.deps, 'after-propagate'); return { written: true }; },
  rollbackPropagation: async (ctx, _out, previous) => { ctx.deps.calls.push('rollback'); ctx.deps.config = previous?.reveal() ?? ''; },
  consumersUpdated: async (ctx, at) => ctx.deps.sessions.some((s) => s.since > at.getTime() && s.password === ctx.deps.accepted),
  restartConsumers: async (ctx) => { ctx.deps.calls.push('restart'); maybeFail(ctx.deps, 'restart'); ctx.deps.sessions.push({ password: ctx.deps.config, since: Date.now() + 1 }); },
  verify: async (ctx, v, at) => {
    ctx.deps.sessions = ctx.deps.sessions.filter((s) => s.since > at.getTime());
    maybeFail(ctx.deps, 'verify');
    const ok = ctx.deps.sessions.length > 0 && ctx.deps.sessions.every((s) => s.password === v.reveal());
    return { ok, detail: ok ? 'only new sessions' : 'old sessions remain' };
  },
};

function setup(t: TestContext, world: World, compensate = false) {
  const dir = mkdtempSync(join(tmpdir(), 'fb-rot-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const db = openDatabase(join(dir, 'j.db'));
  const credentials = createCredentialStore(db);
  const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)) });
  const pb = definePlaybook<Record<string, never>, World>({
    id: 'rot', title: 'rot', summary: 'rot', version: 1, incidentKind: 't', severity: 'low', rto: {}, input: z.object({}), compensateOnFailure: compensate,
    connect: async () => world, steps: stagedRotation(adapter, { approval: false }),
  });
  rt.register('rot', playbookWorkflow(pb, { env: { config: {}, log: silentLogger }, log: silentLogger, credentials, evidence: { store: async (_s, name) => ({ name, ref: '', sha256: '', bytes: 0 }) } }));
  const env: RunEnvelope = { playbook: 'rot', input: {}, initiator: 'a', incidentId: null, twoPersonRule: false, autoApprove: true };
  return { rt, credentials, env };
}

const fresh = (): World => ({ accepted: 'old-password-value', config: 'old-password-value', sessions: [{ password: 'old-password-value', since: Date.now() - 60_000 }], calls: [], failOnce: new Set(), generated: [] });

test('a staged rotation sets, tests, propagates, restarts, verifies and promotes: PENDING → CURRENT, old → PREVIOUS', async (t) => {
  const w = fresh();
  const { rt, credentials, env } = setup(t, w);
  await credentials.label('db:app', 'CURRENT', fingerprint(new Secret('old-password-value')), 'earlier-run');
  const out = await rt.start({ runId: 'r1', workflow: 'rot', input: env, initiator: 'a' });
  assert.equal(out.status, 'completed', JSON.stringify(out.error));
  assert.deepEqual(w.calls, ['set', 'propagate', 'restart']);
  assert.equal(w.generated.length, 1, 'generated exactly once');
  assert.equal(w.accepted, w.generated[0]);
  assert.deepEqual(w.sessions.map((s) => s.password), [w.generated[0]], 'the old session was ended');
  assert.deepEqual(await credentials.stages('db:app'), { CURRENT: fingerprint(new Secret(w.generated[0] ?? '')), PREVIOUS: fingerprint(new Secret('old-password-value')) });
  const steps = await rt.steps('r1');
  assert.ok(steps.every((s) => !JSON.stringify(s.output ?? '').includes(w.generated[0] ?? '-')), 'the value is never in the journal outputs');
});

for (const point of ['after-set', 'after-propagate', 'restart', 'verify']) {
  test(`a failure at ${point}, then resume: one value, set once, consistent config`, async (t) => {
    const w = fresh();
    w.failOnce.add(point);
    const { rt, env } = setup(t, w);
    const first = await rt.start({ runId: 'r', workflow: 'rot', input: env, initiator: 'a' });
    assert.equal(first.status, 'failed');
    assert.match(first.error?.message ?? '', new RegExp(`injected failure at ${point}`));
    const second = await rt.resume('r');
    assert.equal(second.status, 'completed', JSON.stringify(second.error));
    assert.equal(w.generated.length, 1, 'the resumed run reused the sealed value');
    assert.equal(w.calls.filter((c) => c === 'set').length, 1, 'the source was set exactly once');
    assert.equal(w.config, w.accepted);
  });
}

test('with rollback configured, a failed verification restores the consumers\' previous configuration; the source keeps the new value', async (t) => {
  const w = fresh();
  w.failOnce.add('verify');
  const { rt, env } = setup(t, w, true);
  const out = await rt.start({ runId: 'r', workflow: 'rot', input: env, initiator: 'a' });
  assert.equal(out.status, 'failed');
  assert.deepEqual(w.calls, ['set', 'propagate', 'restart', 'rollback']);
  assert.equal(w.config, 'old-password-value');
  assert.notEqual(w.accepted, 'old-password-value', 'the leaked value is not restored at the source');
});
