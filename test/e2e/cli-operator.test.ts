import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labFor, run } from './cli-helpers.ts';
import { crashWhenStarted } from '../helpers/crash-run.ts';
import type { Lab } from '../../src/lab/lab.ts';

/** A run of device-compromise (started without --yes) whose plan step was in flight at a SIGKILL. */
async function killedWhilePlanning(lab: Lab, device: string): Promise<string> {
  const { runId, signal, stdout, stderr } = await crashWhenStarted(lab.configPath, 'plan', 'device-compromise', { tenant: 'acme', device });
  assert.equal(signal, 'SIGKILL', `the process died with the plan in flight: ${stdout}${stderr}`);
  assert.match(runId, /^run-/);
  return runId;
}

interface Shown { run: { status: string }; steps: { stepId: string; status: string; output?: unknown }[] }

test('resume --yes after a SIGKILL during planning: plans, approves at the gate as the operator, and completes', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const runId = await killedWhilePlanning(lab, 'device-001');
  const before = JSON.parse((await run([...c, 'runs', 'show', runId, '--json'])).stdout) as Shown;
  assert.equal(before.steps.find((s) => s.stepId === 'plan')?.status, 'running', 'the plan was in flight at the kill');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0);

  const resumed = await run([...c, 'resume', runId, '--yes', '--json']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal((JSON.parse(resumed.stdout) as { status: string }).status, 'completed');
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.path === '/1.0/revoke' && x.status === 200).length, 1, 'revoked once');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200).length, 1);

  const after = JSON.parse((await run([...c, 'runs', 'show', runId, '--json'])).stdout) as Shown;
  const gate = after.steps.find((s) => s.stepId === 'approve-revoke-certificate');
  assert.equal(gate?.status, 'completed');
  assert.equal((gate?.output as { approver?: string } | undefined)?.approver, 'alice', 'approved as the operator, through an approval');
  const audit = JSON.parse((await run([...c, 'audit', 'tail', '-n', '500', '--json'])).stdout) as { kind: string; actor: string; runId?: string }[];
  assert.ok(audit.some((e) => e.kind === 'approval.granted' && e.actor === 'alice' && e.runId === runId), 'the approval is in the audit trail');

  // The same with --detach (suspend at the gate): the approval given there is picked up at once.
  const detached = await killedWhilePlanning(lab, 'device-002');
  const r2 = await run([...c, 'resume', detached, '--yes', '--detach', '--json']);
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.equal((JSON.parse(r2.stdout) as { status: string }).status, 'completed');
});

test('resume --yes is refused under the two-person rule, and the run is left for another approver', async (t) => {
  const lab = await labFor(t);
  writeFileSync(lab.configPath, readFileSync(lab.configPath, 'utf8').replace(/^lab: true$/m, 'lab: true\napprovals:\n  twoPersonRule: true'));
  const c = ['--config', lab.configPath];
  const runId = await killedWhilePlanning(lab, 'device-001');
  const yes = await run([...c, 'resume', runId, '--yes']);
  assert.equal(yes.code, 9, yes.stdout + yes.stderr);
  assert.match(yes.stderr, /two-person rule is on .*--yes is refused/);
  const shown = JSON.parse((await run([...c, 'runs', 'show', runId, '--json'])).stdout) as Shown;
  assert.notEqual(shown.run.status, 'completed');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0, 'nothing changed');
});

test('audit export --out: a missing directory or a directory is refused naming the path, nothing is written; a good path gets every entry', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const done = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--yes', '--json']);
  assert.equal(done.code, 0, done.stderr);

  const missing = join(lab.dir, 'no-such-dir', 'x.jsonl');
  const r1 = await run([...c, 'audit', 'export', '--out', missing]);
  assert.equal(r1.code, 2, r1.stderr);
  assert.match(r1.stderr, new RegExp(`--out ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot write into .*no-such-dir: no such file or directory \\(ENOENT\\)`));
  assert.doesNotMatch(r1.stderr + r1.stdout, /Exported/);
  assert.equal(existsSync(join(lab.dir, 'no-such-dir')), false);

  const dir = join(lab.dir, 'exports');
  mkdirSync(dir);
  const r2 = await run([...c, 'audit', 'export', '--out', dir]);
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /--out .*exports: is a directory; give a file name/);
  assert.deepEqual(readdirSync(dir), [], 'nothing written into the directory');

  const file = join(dir, 'audit.jsonl');
  const ok = await run([...c, 'audit', 'export', '--out', file]);
  assert.equal(ok.code, 0, ok.stderr);
  const n = Number(/Exported (\d+) entries to /.exec(ok.stderr)?.[1]);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
  assert.ok(n > 10, ok.stderr);
  assert.equal(lines.filter((l) => l.type === 'entry').length, n, 'every entry it counted is in the file');
  assert.equal(lines[0]?.type, 'header');
  assert.deepEqual(readdirSync(dir), ['audit.jsonl'], 'no temporary file left beside it');
  const verified = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [join(fileURLToPath(new URL('../..', import.meta.url)), 'tools', 'verify-audit-export.mjs'), file], { stdio: 'ignore' }).on('close', resolve);
  });
  assert.equal(verified, 0, 'the offline verifier accepts the file');
});
