import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { cli, labFor, run, until } from './cli-helpers.ts';

const DC = ['device-compromise', '--tenant', 'acme', '--device', 'device-001'];

test('plan changes nothing and lists every system; run --yes contains the device and verifies every effect', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const plan = await run([...c, 'plan', ...DC, '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  const entries = (JSON.parse(plan.stdout) as { entries: { system: string; action: string; approval: boolean }[] }).entries;
  assert.deepEqual([...new Set(entries.map((e) => e.system))].sort(), ['evidence', 'hawkbit', 'inventory', 'iot-bridge', 'step-ca', 'thingsboard', 'wireguard']);
  // Nothing changes before the approval: every step that changes something is gated (7), the reads are not.
  assert.equal(entries.filter((e) => e.approval).length, 7);
  assert.ok(entries.filter((e) => !e.approval).every((e) => e.action === 'read'));
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0, 'plan deleted nothing');

  const r = await run([...c, 'run', ...DC, '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { status: string; applied: number; verified: number; incidentId: string; runId: string };
  assert.equal(out.status, 'completed');
  assert.ok(out.verified >= 6, `verified ${out.verified}`);
  const deletes = lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200);
  assert.equal(deletes.length, 1);
  const peers = JSON.parse(readFileSync(join(lab.dir, 'cdm_peers.json'), 'utf8')) as { peers: Record<string, unknown>; version: number };
  assert.deepEqual(Object.keys(peers.peers).sort(), ['device-002', 'device-003'], 'only device-001 removed, others kept');
  assert.equal(peers.version, 1, 'unknown top-level fields kept');
  const dump = await lab.wireguard.exec({ argv: ['wg', 'show', 'wg0', 'dump'] });
  assert.equal(dump.stdout.trim().split('\n').length, 3, 'interface line + 2 peers');

  const report = await run([...c, 'report', out.incidentId.slice(-6), '--format', 'md']);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /Revoke the device certificate .* \| applied \|/);
  assert.match(report.stdout, /\| containment \| 5 min 0 s \|.*\| met \|/);
  assert.match(report.stdout, /verified intact/);
  const verify = await run([...c, 'audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  const incident = JSON.parse((await run([...c, 'incidents', 'show', out.incidentId, '--json'])).stdout) as { incident: { status: string }; phases: { phase: string; met: boolean | null }[] };
  assert.equal(incident.incident.status, 'recovered');
  assert.deepEqual(incident.phases.map((p) => [p.phase, p.met]), [['containment', true], ['assessment', true], ['recovery', true]]);

  const again = await run([...c, 'run', ...DC, '--yes', '--json']);
  assert.equal(again.code, 4, 'a second run refuses a device that no longer exists anywhere');
  assert.match((JSON.parse(again.stdout) as { error: { message: string } }).error.message, /device "device-001" is unknown to tenant acme: not in ThingsBoard, hawkBit or cdm_peers.json \(nothing was changed\)/);
});

test('without --yes the run waits; the two-person rule refuses the initiator, another approver lets it finish', async (t) => {
  const lab = await labFor(t);
  writeFileSync(lab.configPath, readFileSync(lab.configPath, 'utf8').replace(/^lab: true$/m, 'lab: true\napprovals:\n  twoPersonRule: true'));
  const c = ['--config', lab.configPath];
  const yes = await run([...c, 'run', ...DC, '--yes']);
  assert.equal(yes.code, 9);
  assert.match(yes.stderr, /two-person rule/);
  const started = await run([...c, 'run', ...DC, '--detach', '--json']);
  assert.equal(started.code, 9, started.stderr);
  const { runId, status } = JSON.parse(started.stdout) as { runId: string; status: string };
  assert.equal(status, 'waiting');
  assert.equal(lab.simulators.hawkbit.calls().filter((x) => x.method === 'DELETE').length, 0, 'nothing irreversible before approval');
  const self = await run([...c, 'approve', runId]);
  assert.equal(self.code, 9);
  assert.match(self.stderr, /two-person rule: alice started run/);
  const bob = await run([...c, '--as', 'bob', 'approve', runId]);
  assert.equal(bob.code, 0, bob.stderr);
  assert.match(bob.stdout, /Approved revoke-certificate, remove-wireguard-peer, persist-wireguard, remove-from-peers-json, delete-thingsboard-device, delete-hawkbit-target, issue-replacement of run/);
  const show = await run([...c, 'runs', 'show', runId, '--json']);
  assert.equal((JSON.parse(show.stdout) as { run: { status: string } }).run.status, 'completed');
  const report = await run([...c, 'report', (JSON.parse(started.stdout) as { incidentId: string }).incidentId]);
  assert.match(report.stdout, /revoke-certificate: approved by bob/);
});

test('SIGKILL in the middle of containment, then resume: the run completes and no effect is applied twice', async (t) => {
  const lab = await labFor(t, { faults: { latencyMs: 150 } });
  const c = ['--config', lab.configPath];
  const { child, done } = cli([...c, 'run', ...DC, '--yes']);
  const db = () => join(lab.dir, 'state', 'firebreak.db');
  let runId = '';
  await until('a containment step completes', () => {
    if (!existsSync(db())) return false;
    const d = new DatabaseSync(db(), { readOnly: true });
    try {
      const row = d.prepare("SELECT run_id FROM steps WHERE status = 'completed' AND json_extract(meta, '$.phase') = 'containment' AND kind = 'step' AND step_id NOT LIKE 'approve-%' LIMIT 1").get();
      runId = typeof row?.['run_id'] === 'string' ? row['run_id'] : '';
      return runId !== '';
    } catch { return false; } finally { d.close(); }
  });
  child.kill('SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL');
  const resumed = await run([...c, 'resume', runId, '--json']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal((JSON.parse(resumed.stdout) as { status: string }).status, 'completed');
  const revokes = lab.simulators['step-ca'].calls().filter((x) => x.path === '/1.0/revoke');
  assert.equal(revokes.filter((x) => x.status === 200).length, 1, 'the certificate was revoked exactly once');
  assert.ok(revokes.every((x) => x.status === 200 || x.status === 400), JSON.stringify(revokes));
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200).length, 1);
  assert.ok(lab.simulators.hawkbit.calls().filter((x) => x.method === 'DELETE' && x.status === 204).length <= 1);
});

test('hawkBit answering 500 once is retried; a CA refusing the provisioner fails only its step and says what was done', async (t) => {
  const lab = await labFor(t);
  lab.simulators.hawkbit.faults.add({ method: 'DELETE', path: '^/rest/v1/targets/', status: 500, times: 1 });
  const c = ['--config', lab.configPath];
  const ok = await run([...c, 'run', ...DC, '--yes', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const show = JSON.parse((await run([...c, 'runs', 'show', (JSON.parse(ok.stdout) as { runId: string }).runId, '--json'])).stdout) as { steps: { stepId: string; attempts: number }[] };
  assert.equal(show.steps.find((s) => s.stepId === 'delete-hawkbit-target')?.attempts, 2);

  lab.simulators['step-ca'].faults.add({ method: 'POST', path: '^/1.0/revoke$', status: 401 });
  const bad = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-002', '--yes', '--json']);
  assert.equal(bad.code, 6, bad.stdout);
  const res = JSON.parse(bad.stdout) as { status: string; error: { code: string; message: string }; incidentId: string };
  assert.equal(res.status, 'failed');
  assert.equal(res.error.code, 'AUTH_FAILED');
  assert.match(res.error.message, /revoke-certificate/);
  const report = await run([...c, 'report', res.incidentId]);
  assert.match(report.stdout, /Revoke the device certificate.*failed: .*refused the one-time token/);
  assert.match(report.stdout, /Delete the device from ThingsBoard .*\| applied \|/, 'independent containment went on');
  assert.match(report.stdout, /## Failures and what remains\n\n- run-/);
  const incident = JSON.parse((await run([...c, 'incidents', 'show', res.incidentId, '--json'])).stdout) as { incident: { status: string } };
  assert.equal(incident.incident.status, 'open', 'not contained while the certificate is not revoked');
});
