import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { labFor, until } from './cli-helpers.ts';
import { openApp } from '../../src/app/app-open.ts';
import type { ProgressEvent } from '../../src/engine/runtime-types.ts';

const START = fileURLToPath(new URL('../fixtures/app-follow/start-run.ts', import.meta.url));
const INPUT = JSON.stringify({ tenant: 'acme', device: 'device-001' });

/** A second process starting a run through the application; its stdout lines as they come. */
function starter(config: string, flags: string[] = []) {
  const proc = spawn(process.execPath, [START, config, 'device-compromise', INPUT, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  proc.stdout.on('data', (d: Buffer) => { buffer += d.toString(); const parts = buffer.split('\n'); buffer = parts.pop() ?? ''; lines.push(...parts); });
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<number | null>((resolve) => { proc.on('exit', (code) => { resolve(code); }); });
  return { proc, lines, done, stderr: () => stderr };
}

const describe = (e: ProgressEvent) => (e.type === 'run' ? `run ${e.status}` : e.type === 'step' ? `${e.stepId} ${e.status}` : e.type === 'waiting' ? `waiting ${e.stepId}` : `fanout ${e.stepId}`);

test('a process that did not start a run follows its progress from the store, and its approval lets the other process finish', async (t) => {
  const lab = await labFor(t);
  const s = starter(lab.configPath);
  t.after(() => { s.proc.kill('SIGKILL'); });
  await until('the run is durable', () => s.lines.length > 0);
  const { runId, duplicate } = JSON.parse(s.lines[0] ?? '') as { runId: string; duplicate: boolean };
  assert.equal(duplicate, false);

  const app = await openApp({ configPath: lab.configPath });
  // Closed before the lab's directory goes (the after hooks run in the order they were added).
  try {
  const seen: ProgressEvent[] = [];
  const stop = app.follow(runId, (e) => { seen.push(e); });
  await until('the follower sees the run wait for approval', () => seen.some((e) => e.type === 'run' && e.status === 'waiting'), 60_000);
  const names = seen.map(describe);
  assert.ok(names.indexOf('run running') < names.indexOf('plan completed'), names.join(', '));
  assert.ok(names.indexOf('plan completed') < names.indexOf('run waiting'), names.join(', '));
  assert.ok(seen.some((e) => e.type === 'waiting' && e.stepId.startsWith('approve-')), 'it sees the approval gate');
  assert.ok(!names.includes('revoke-certificate completed'), 'nothing is applied before the approval');

  await app.approve({ runRef: runId, approver: 'bob', decision: 'approve' });
  await until('the follower sees the run end', () => seen.some((e) => e.type === 'run' && (e.status === 'completed' || e.status === 'failed')), 120_000);
  await stop();
  assert.equal(await s.done, 0, s.stderr());
  assert.deepEqual(JSON.parse(s.lines[1] ?? ''), { status: 'completed' });
  const after = seen.map(describe);
  assert.ok(after.includes('revoke-certificate completed'), after.join(', '));
  assert.equal(after.at(-1), 'run completed', 'the run\'s end is the last thing followed');
  } finally {
    await app.close();
  }
});

test('two starts with the same idempotency key open one incident and one run, also from two processes', async (t) => {
  const lab = await labFor(t);
  const app = await openApp({ configPath: lab.configPath });
  try {
  const req = { playbook: 'device-compromise', input: JSON.parse(INPUT) as unknown, initiator: 'alice', yes: true, idempotencyKey: 'alert-4711' };
  const first = await app.start(req);
  const second = await app.start(req);
  assert.equal(first.duplicate, false);
  assert.equal(second.duplicate, true);
  assert.equal(second.runId, first.runId);
  assert.equal(second.incidentId, first.incidentId);

  const other = starter(lab.configPath, ['--yes', '--key', 'alert-4711']);
  t.after(() => { other.proc.kill('SIGKILL'); });
  await until('the other process answered', () => other.lines.length > 0);
  assert.deepEqual(JSON.parse(other.lines[0] ?? ''), { runId: first.runId, incidentId: first.incidentId, duplicate: true });

  assert.equal((await first.outcome).status, 'completed');
  assert.equal((await second.outcome).status, 'completed', 'the duplicate\'s outcome is the first run\'s');
  assert.equal(await other.done, 0, other.stderr());
  assert.deepEqual(JSON.parse(other.lines[1] ?? ''), { status: 'completed' });

  const db = new DatabaseSync(join(lab.dir, 'state', 'firebreak.db'), { readOnly: true });
  t.after(() => { db.close(); });
  assert.equal(Number(db.prepare('SELECT count(*) AS n FROM incidents').get()?.['n']), 1, 'one incident');
  assert.equal(Number(db.prepare('SELECT count(*) AS n FROM runs').get()?.['n']), 1, 'one run');
  // One run: its revocation and its verify's second attempt (answered "already revoked").
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.path === '/1.0/revoke').length, 2, 'one run revoked the certificate');

  const third = await app.start({ ...req, input: { tenant: 'acme', device: 'device-002' }, idempotencyKey: 'alert-4712' });
  assert.notEqual(third.runId, first.runId, 'another key is another run');
  assert.equal((await third.outcome).status, 'completed');
  } finally {
    await app.close();
  }
});
