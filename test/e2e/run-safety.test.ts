import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { cli, labFor, run } from './cli-helpers.ts';
import type { Lab } from '../../src/lab/lab.ts';
import { openApp } from '../../src/app/app-open.ts';

const DC = ['device-compromise', '--tenant', 'acme', '--device', 'device-001'];
const AUTOMATIC = ['remove-wireguard-peer', 'persist-wireguard', 'remove-from-peers-json'];

const peersJson = (lab: Lab) => Object.keys((JSON.parse(readFileSync(join(lab.dir, 'cdm_peers.json'), 'utf8')) as { peers: Record<string, unknown> }).peers).sort();
const livePeers = async (lab: Lab) => (await lab.wireguard.exec({ argv: ['wg', 'show', 'wg0', 'dump'] })).stdout.trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
const confPeers = (lab: Lab) => (readFileSync(join(lab.dir, 'wg0.conf'), 'utf8').match(/^\[Peer\]/gm) ?? []).length;
const json = <T>(stdout: string) => JSON.parse(stdout) as T;
const withConfig = (lab: Lab, yaml: string) => { writeFileSync(lab.configPath, readFileSync(lab.configPath, 'utf8').replace(/^lab: true$/m, `lab: true\n${yaml}`)); };

test('nothing changes before the plan is approved: after run --detach the WireGuard peer and the cdm_peers.json entry are still there', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const before = await livePeers(lab);
  const started = await run([...c, 'run', ...DC, '--detach', '--json']);
  assert.equal(started.code, 9, started.stdout + started.stderr);
  assert.equal(json<{ status: string }>(started.stdout).status, 'waiting');
  assert.deepEqual(await livePeers(lab), before, 'the live peer is untouched');
  assert.deepEqual(peersJson(lab), ['device-001', 'device-002', 'device-003']);
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.path === '/1.0/revoke').length, 0);
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0);
});

test('automatic containment from the configuration runs before the approval, is shown as such in the plan, and a rejection puts the peer back', async (t) => {
  const lab = await labFor(t);
  withConfig(lab, `approvals:\n  automatic:\n    device-compromise: [${AUTOMATIC.join(', ')}]`);
  const c = ['--config', lab.configPath];
  const before = await livePeers(lab);
  const beforeConf = confPeers(lab);

  const plan = await run([...c, 'plan', ...DC]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /remove peer .* \[automatic containment\]/);
  const entries = json<{ entries: { stepId: string; approval: boolean; automatic?: boolean }[] }>((await run([...c, 'plan', ...DC, '--json'])).stdout).entries;
  assert.deepEqual(entries.filter((e) => e.automatic === true).map((e) => e.stepId).sort(), [...AUTOMATIC].sort());
  assert.ok(entries.filter((e) => e.automatic === true).every((e) => !e.approval));

  const started = await run([...c, 'run', ...DC, '--detach', '--json']);
  assert.equal(started.code, 9, started.stdout + started.stderr);
  const { runId } = json<{ runId: string }>(started.stdout);
  assert.equal((await livePeers(lab)).length, before.length - 1, 'the peer was removed before the approval');
  assert.deepEqual(peersJson(lab), ['device-002', 'device-003']);
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0, 'the irreversible steps wait');

  const rejected = await run([...c, '--as', 'bob', 'approve', runId, '--reject', '--note', 'wrong device', '--json']);
  assert.notEqual(rejected.code, 0, rejected.stdout + rejected.stderr);
  assert.deepEqual((await livePeers(lab)).sort(), [...before].sort(), 'the rejection put the live peer back');
  assert.equal(confPeers(lab), beforeConf, 'and persisted it');
  assert.deepEqual(peersJson(lab), ['device-001', 'device-002', 'device-003'], 'and restored the cdm_peers.json entry');
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.path === '/1.0/revoke').length, 0);
  const show = json<{ run: { status: string }; steps: { stepId: string; status: string }[] }>((await run([...c, 'runs', 'show', runId, '--json'])).stdout);
  assert.equal(show.run.status, 'failed');
  assert.deepEqual(show.steps.filter((s) => s.stepId.startsWith('compensate-')).map((s) => [s.stepId, s.status]).sort(), AUTOMATIC.map((id) => [`compensate-${id}`, 'completed']).sort());

  // The device is whole again: a new run plans with the certificate serial known.
  const again = await run([...c, 'plan', ...DC, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(JSON.stringify(json<unknown>(again.stdout)), /revoke serial \d+/);
});

test('automatic containment naming an irreversible or unknown step is refused at start-up', async (t) => {
  const lab = await labFor(t);
  withConfig(lab, 'approvals:\n  automatic:\n    device-compromise: [delete-thingsboard-device, no-such-step]');
  const r = await run(['--config', lab.configPath, 'plan', ...DC]);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /approvals\.automatic\.device-compromise: delete-thingsboard-device is irreversible/);
  assert.match(r.stderr, /approvals\.automatic\.device-compromise: no step "no-such-step"/);
});

test('one active run per target: a second run on the same device is refused naming the first, opens no incident; two at once give one run', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const first = await run([...c, 'run', ...DC, '--detach', '--json']);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  const { runId } = json<{ runId: string }>(first.stdout);
  const second = await run([...c, 'run', ...DC, '--yes', '--json']);
  assert.equal(second.code, 5, second.stdout + second.stderr);
  assert.match(second.stdout + second.stderr, new RegExp(`device:acme/device-001 is the target of run ${runId} \\(waiting\\)`));
  assert.equal(json<unknown[]>((await run([...c, 'incidents', 'list', '--json'])).stdout).length, 1, 'no second incident');
  const other = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-002', '--detach', '--json']);
  assert.equal(other.code, 9, 'another device is another target');
  assert.equal((await run([...c, 'runs', 'cancel', runId])).code, 0);

  // Two runs started at the same moment on device-003: exactly one holds it (and waits at its approval, holding it
  // whichever starts first or however far apart they start), the other is refused.
  const both = await Promise.all([0, 1].map(() => cli([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-003', '--detach', '--json']).done));
  assert.deepEqual(both.map((b) => b.code).sort(), [5, 9], both.map((b) => b.stdout + b.stderr).join('\n'));
  assert.equal(json<unknown[]>((await run([...c, 'incidents', 'list', '--json'])).stdout).length, 3, 'device-001, device-002 and one for device-003');
});

test('approve and resume --yes on a completed run are refused and add nothing to the audit trail', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const done = await run([...c, 'run', ...DC, '--yes', '--json']);
  assert.equal(done.code, 0, done.stdout + done.stderr);
  const { runId } = json<{ runId: string }>(done.stdout);
  const entries = () => {
    const db = new DatabaseSync(join(lab.dir, 'state', 'firebreak.db'), { readOnly: true });
    try { return db.prepare('SELECT entry FROM audit_entries').all().filter((r) => String(r['entry']).includes('"approval.granted"')).length; } finally { db.close(); }
  };
  const granted = entries();
  const approve = await run([...c, '--as', 'bob', 'approve', runId]);
  assert.equal(approve.code, 5, approve.stdout + approve.stderr);
  assert.match(approve.stderr, /has ended \(completed\): there is nothing to approve/);
  const resumed = await run([...c, 'resume', runId, '--yes']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(entries(), granted, 'no approval.granted entry was added');
});

test('the application itself refuses an empty or padded identity (the HTTP API will call it without the CLI\'s checks)', async (t) => {
  const lab = await labFor(t);
  const app = await openApp({ configPath: lab.configPath });
  try {
    for (const initiator of ['', '  ', 'alice ']) {
      await assert.rejects(app.start({ playbook: 'device-compromise', input: { tenant: 'acme', device: 'device-001' }, initiator, yes: true }), (err: unknown) => (err as { code?: string }).code === 'INVALID_INPUT');
    }
    assert.equal((await app.queries.incidents()).length, 0, 'nothing was opened');
  } finally {
    await app.close();
  }
});
