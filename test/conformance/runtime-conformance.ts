import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { DurableRuntime, RunStatus } from '../../src/engine/runtime-types.ts';
import { Secret, redactKnownValues } from '../../src/lib/secret.ts';
import { effects, registerConformanceWorkflows } from './workflows.ts';

/** Builds a runtime over the store at `location` (a file path for SQLite, a database URL for PostgreSQL). */
export type RuntimeFactory = (location: string) => Promise<DurableRuntime>;

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

interface Env { dir: string; db: string; factoryModule: string; createRuntime: RuntimeFactory }

function setup(t: TestContext, factoryModule: string, createRuntime: RuntimeFactory, location: (dir: string) => string): Env {
  const dir = mkdtempSync(join(tmpdir(), 'fb-conf-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return { dir, db: location(dir), factoryModule, createRuntime };
}

function child(env: Env, args: string[]): { proc: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const proc = spawn(process.execPath, [WORKER, env.factoryModule, env.db, env.dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    proc.on('exit', (code, signal) => { resolve({ code, signal, stdout, stderr }); });
  });
  return { proc, done };
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function inProcess(t: TestContext, env: Env): Promise<DurableRuntime> {
  const rt = await env.createRuntime(env.db);
  registerConformanceWorkflows(rt, env.dir);
  t.after(() => rt.close());
  return rt;
}

async function statusOf(env: Env, rt: DurableRuntime, runId: string): Promise<RunStatus | undefined> {
  return (await rt.get(runId))?.status;
}

/**
 * The conformance suite every durable runtime must pass. `factoryModule` is
 * the path of a module exporting `createRuntime: RuntimeFactory`, loaded in
 * child processes that the tests SIGKILL.
 */
export function runConformance(name: string, factoryModule: string, createRuntime: RuntimeFactory, location: (dir: string) => string): void {
  test(`${name}: SIGKILL mid-step, then resume: completed steps are not re-applied, the in-flight step is re-checked`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const c = child(env, ['start', 'conf.crash', 'run-crash']);
    await until('step b in flight', () => existsSync(join(env.dir, 'b-in-flight.flag')));
    c.proc.kill('SIGKILL');
    const exited = await c.done;
    assert.equal(exited.signal, 'SIGKILL');
    assert.deepEqual(effects(env.dir), ['a', 'b']);

    const r = child(env, ['resume', 'conf.crash', 'run-crash']);
    const out = await r.done;
    assert.equal(out.code, 0, out.stderr);
    const outcome = JSON.parse(out.stdout) as { status: string; result: { output: { resumed: boolean; reapplied: boolean } } };
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.result.output.resumed, true, 'the in-flight step knows it is a re-run');
    assert.equal(outcome.result.output.reapplied, false, 'its check found the effect and did not apply it again');
    assert.deepEqual(effects(env.dir), ['a', 'b', 'c'], 'each effect exactly once');
    const rt = await inProcess(t, env);
    const steps = await rt.steps('run-crash');
    assert.deepEqual(steps.map((s) => [s.stepId, s.status, s.attempts]), [['a', 'completed', 1], ['b', 'completed', 2], ['c', 'completed', 1]]);
  });

  test(`${name}: an approval wait survives a restart and accepts only a matching payload`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const c = child(env, ['start', 'conf.approval', 'run-appr']);
    await until('run waiting', async () => (await statusOf(env, rt, 'run-appr')) === 'waiting');
    c.proc.kill('SIGKILL');
    await c.done;
    await rt.signal('run-appr', 'approve', { plan: 'stale-hash', approver: 'mallory' });
    await rt.signal('run-appr', 'approve', { plan: 'h1', approver: 'alice' });
    const r = child(env, ['resume', 'conf.approval', 'run-appr']);
    const out = await r.done;
    assert.equal(out.code, 0, out.stderr);
    const outcome = JSON.parse(out.stdout) as { status: string; result: { output: { approver: string } } };
    assert.equal(outcome.status, 'completed');
    assert.equal(outcome.result.output.approver, 'alice');
    assert.deepEqual(effects(env.dir), ['prepare', 'act by alice']);
  });

  test(`${name}: cancel from another process, then resume`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const c = child(env, ['start', 'conf.cancel', 'run-cancel']);
    await until('long step started', () => existsSync(join(env.dir, 'long-started.flag')));
    await rt.cancel('run-cancel', 'operator cancelled');
    const out = await c.done;
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { status: string }).status, 'cancelled');
    assert.equal(await statusOf(env, rt, 'run-cancel'), 'cancelled');
    assert.deepEqual(effects(env.dir), ['first']);
    const resumed = await rt.resume('run-cancel');
    assert.equal(resumed.status, 'completed');
    assert.deepEqual(effects(env.dir), ['first', 'long', 'last']);
  });

  test(`${name}: a generated value is sealed before use and reused on resume`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const c = child(env, ['start', 'conf.generate', 'run-gen']);
    await until('apply in flight', () => existsSync(join(env.dir, 'apply-in-flight.flag')));
    c.proc.kill('SIGKILL');
    await c.done;
    const rt = await inProcess(t, env);
    const outcome = await rt.resume('run-gen');
    assert.equal(outcome.status, 'completed');
    const applied = effects(env.dir);
    assert.equal(applied.length, 2);
    assert.equal(applied[0], applied[1], 'the resumed run applied the same generated value');
    const steps = await rt.steps('run-gen');
    assert.deepEqual(steps.find((s) => s.stepId === 'new-password')?.output, { generated: true }, 'the journal holds no clear value');
  });

  test(`${name}: fan-out respects its concurrency limit, isolates failures, and resume retries only the failed items`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    writeFileSync(join(env.dir, 'fail'), 'item-007,item-013');
    const first = await rt.start({ runId: 'run-fan', workflow: 'conf.fanout', input: { n: 40, concurrency: 4 }, initiator: 'conformance' });
    assert.equal(first.status, 'completed_with_failures');
    const failures = (first.result as { failures: { key: string }[] }).failures.map((f) => f.key).sort();
    assert.deepEqual(failures, ['item-007', 'item-013']);
    const starts = effects(env.dir).filter((l) => l.startsWith('start'));
    assert.equal(starts.length, 40);
    const maxInFlight = Math.max(...starts.map((l) => Number(/inflight=(\d+)/.exec(l)?.[1])));
    assert.ok(maxInFlight <= 4, `at most 4 items at once, saw ${maxInFlight}`);
    assert.ok(maxInFlight >= 2, `items ran in parallel (saw ${maxInFlight})`);

    rmSync(join(env.dir, 'fail'));
    const second = await rt.resume('run-fan');
    assert.equal(second.status, 'completed');
    const restarted = effects(env.dir).filter((l) => l.startsWith('start')).slice(40).map((l) => l.split(' ')[1]).sort();
    assert.deepEqual(restarted, ['item-007', 'item-013'], 'only the failed items ran again');
    assert.equal((second.result as { output: { sum: number } }).output.sum, 2 * (39 * 40) / 2);
  });

  test(`${name}: a fan-out's outputs are read back from the journal, each succeeded item once, in item order`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const n = 1234;
    const out = await rt.start({ runId: 'run-readback', workflow: 'conf.readback', input: { n }, initiator: 'conformance' });
    const r = (out.result as { output: { done: number; failed: string[]; read: { key: string; square: number }[] } }).output;
    const ok = Array.from({ length: n }, (_, i) => i).filter((i) => i % 100 !== 99);
    assert.equal(r.done, ok.length);
    assert.deepEqual(r.failed, Array.from({ length: 12 }, (_, k) => `r${k * 100 + 99}`), 'the failures, in item order');
    assert.deepEqual(r.read, ok.map((i) => ({ key: `r${i}`, square: i * i })), 'every output once, in item order, across pages of 500');
  });

  test(`${name}: SIGKILL during group commits: every item is either not started or durably started, never half; resume finishes each once`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    // Far more items than the kills need, so that a fast machine cannot finish before the last one.
    const n = 8000;
    const input = JSON.stringify({ n, concurrency: 64 });
    const inFlightAtKill = new Set<string>();
    for (const [round, threshold] of [[0, 400], [1, 1400], [2, 2400]] as const) {
      const c = child(env, round === 0 ? ['start', 'conf.wide', 'run-wide', input] : ['resume', 'conf.wide', 'run-wide']);
      await until(`${threshold} effects`, () => effects(env.dir).length >= threshold, 60_000);
      c.proc.kill('SIGKILL');
      assert.equal((await c.done).signal, 'SIGKILL', `round ${round}: killed while working`);

      const steps = await rt.steps('run-wide');
      const events = (await rt.events({ runId: 'run-wide', limit: 1_000_000 })).map((r) => r.event);
      const byId = new Map(steps.map((s) => [s.stepId, s]));
      // An effect only after its step's start was durable.
      for (const line of effects(env.dir)) {
        const [, key, attempt] = line.split(' ');
        const s = byId.get(`items[${key}]/touch`);
        assert.ok(s !== undefined && s.attempts >= Number(attempt), `round ${round}: ${key} acted (attempt ${attempt}) before its start was durable`);
      }
      // Each row came with its events, in the same transaction, and no event without its row.
      const stepEvents = events.filter((e) => e.type === 'step');
      const has = (stepId: string, status: string, attempt: number) => stepEvents.some((e) => e.stepId === stepId && e.status === status && e.attempt === attempt);
      // An item's steps announce no start (the fan-out's progress shows them): each has its end's event.
      assert.ok(!stepEvents.some((e) => e.parentId !== null && e.status === 'running'), `round ${round}: a step inside an item announced its start`);
      for (const s of steps.filter((x) => x.kind === 'step')) {
        if (s.status === 'completed') assert.ok(has(s.stepId, 'completed', s.attempts), `round ${round}: ${s.stepId} completed without its event`);
        if (s.status === 'running') inFlightAtKill.add(s.stepId);
      }
      for (const e of stepEvents) assert.ok((byId.get(e.stepId)?.attempts ?? 0) >= e.attempt, `round ${round}: event for ${e.stepId} #${e.attempt} without its row`);
      const items = steps.filter((x) => x.kind === 'item');
      for (const it of items.filter((x) => x.status === 'completed')) assert.equal(byId.get(`${it.stepId}/touch`)?.status, 'completed', `round ${round}: ${it.stepId} ended before its step`);
      const ended = items.filter((x) => x.status === 'completed').length;
      // Progress counts committed with the ends they count: the last one counts every ended item (earlier ones of a commit are superseded).
      const progress = events.filter((e) => e.type === 'fanout');
      assert.equal((progress.at(-1) as { done?: number } | undefined)?.done, ended, `round ${round}: the last progress event counts every ended item`);
      assert.ok(progress.length < ended, `round ${round}: progress events of one commit are coalesced (${progress.length} for ${ended} items)`);
      assert.ok(ended < n, `round ${round}: the kill came before the end`);
    }
    const last = child(env, ['resume', 'conf.wide', 'run-wide']);
    const out = await last.done;
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { status: string; result: { output: { done: number } } }).result.output.done, n);
    const counts = new Map<string, number>();
    for (const line of effects(env.dir)) { const key = line.split(' ')[1] ?? ''; counts.set(key, (counts.get(key) ?? 0) + 1); }
    assert.equal(counts.size, n, 'every item acted');
    for (const [key, count] of counts) {
      if (count > 1) assert.ok(inFlightAtKill.has(`items[${key}]/touch`), `${key} acted ${count} times though it was not in flight at a kill`);
    }
  });

  test(`${name}: retries transient errors with backoff, never 4xx`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const ok = await rt.start({ runId: 'run-retry', workflow: 'conf.retry', input: null, initiator: 'conformance' });
    assert.equal(ok.status, 'completed');
    assert.deepEqual(effects(env.dir), ['flaky 1', 'flaky 2', 'flaky 3']);
    const bad = await rt.start({ runId: 'run-4xx', workflow: 'conf.no-retry-4xx', input: null, initiator: 'conformance' });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error?.code, 'UPSTREAM_REJECTED');
    assert.deepEqual(effects(env.dir).filter((l) => l.startsWith('rejected')), ['rejected 1']);
  });

  test(`${name}: starting a run id twice does not run it twice; a live run cannot be resumed by a second process`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const c = child(env, ['start', 'conf.cancel', 'run-owned']);
    await until('long step started', () => existsSync(join(env.dir, 'long-started.flag')));
    await assert.rejects(rt.resume('run-owned'), (err: { code?: string }) => err.code === 'CONFLICT');
    c.proc.kill('SIGKILL');
    await c.done;
    const done = await rt.resume('run-owned');
    assert.equal(done.status, 'completed');
    const again = await rt.start({ runId: 'run-owned', workflow: 'conf.cancel', input: null, initiator: 'conformance' });
    assert.equal(again.status, 'completed');
    assert.deepEqual(effects(env.dir), ['first', 'long', 'last']);
  });

  test(`${name}: steps and fan-out items are journaled in the order they were called, whatever order they finish in`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const out = await rt.start({ runId: 'run-order', workflow: 'conf.order', input: null, initiator: 'conformance' });
    assert.equal(out.status, 'completed');
    // The timing really was reversed: otherwise the test would prove nothing.
    assert.deepEqual(effects(env.dir), ['end fast', 'end slow', 'end item-2', 'end item-1', 'end item-0', 'end item-5', 'end item-4', 'end item-3']);
    const steps = await rt.steps('run-order');
    assert.deepEqual(steps.filter((s) => s.parentId === null).map((s) => s.stepId), ['slow', 'fast', 'items']);
    assert.deepEqual(steps.filter((s) => s.kind === 'item').map((s) => s.stepId), [0, 1, 2, 3, 4, 5].map((i) => `items[item-${i}]`));
    // The journal's events (what a replaying engine and a follower read) start the steps in call order too.
    const started = (await rt.events({ runId: 'run-order' })).map((r) => r.event).filter((e) => e.type === 'step' && e.status === 'running' && e.parentId === null);
    assert.deepEqual(started.map((e) => (e.type === 'step' ? e.stepId : '')), ['slow', 'fast']);
  });

  test(`${name}: a run's progress is in the journal, in order, for a process that did not start it`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const c = child(env, ['start', 'conf.approval', 'run-follow']);
    t.after(() => { c.proc.kill('SIGKILL'); });
    await until('the child waits at its gate', async () => (await rt.events({ runId: 'run-follow' })).some((r) => r.event.type === 'run' && r.event.status === 'waiting'));
    const events = await rt.events({ runId: 'run-follow' });
    const seen = events.map((r) => r.event).map((e) => (e.type === 'run' ? `run ${e.status}` : e.type === 'step' ? `${e.stepId} ${e.status}` : e.type === 'waiting' ? `wait ${e.stepId} for ${e.signal}` : e.type));
    assert.deepEqual(seen, ['run pending', 'run running', 'prepare running', 'prepare completed', 'wait gate for approve', 'run waiting']);
    assert.ok(events.every((r, i) => i === 0 || r.id > (events[i - 1]?.id ?? 0)), 'event ids grow in commit order');
    const later = await rt.events({ runId: 'run-follow', afterId: events[2]?.id ?? 0 });
    assert.equal(later.length, events.length - 3, 'afterId reads only what is new');
  });

  test(`${name}: the secrets a run wrapped are released when it ends; others are kept`, async (t) => {
    const env = setup(t, factoryModule, createRuntime, location);
    const rt = await inProcess(t, env);
    const inside = `run-secret-${randomBytes(12).toString('hex')}`;
    const outside = new Secret(`process-secret-${randomBytes(12).toString('hex')}`);
    const out = await rt.start({ runId: 'run-secret', workflow: 'conf.secret', input: { value: inside }, initiator: 'conformance' });
    assert.equal(out.status, 'completed');
    assert.deepEqual((out.result as { output: unknown }).output, { redactedInside: true }, 'redacted while the run executed');
    assert.equal(redactKnownValues(`x ${inside} y`), `x ${inside} y`, 'forgotten once the run ended');
    assert.equal(redactKnownValues(`x ${outside.reveal()} y`), 'x [REDACTED] y', 'a secret wrapped outside any run is kept');
  });
}
