import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { labFor, run } from '../e2e/cli-helpers.ts';

interface StandinState { wg0: { peers: { publicKey: string }[] } }
interface PeersJson { peers: Record<string, { publicKey: string }> }

test('a lab configuration works in a separate process: the lab\'s WireGuard stand-in is derived from the lab\'s directory, not written as an executor', async (t) => {
  const lab = await labFor(t);
  const written = parse(readFileSync(lab.configPath, 'utf8')) as { executors?: Record<string, unknown>; tenants: Record<string, { wireguard: { executor: string } }> };
  assert.equal(written.executors, undefined, 'no executor is defined for the stand-in');
  assert.equal(written.tenants[lab.tenant]?.wireguard.executor, 'lab-wireguard');

  const c = ['--config', lab.configPath];
  const check = await run([...c, 'check', '--json']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const systems = (JSON.parse(check.stdout) as { systems: { scope: string; system: string; ok: boolean }[] }).systems;
  assert.ok(systems.some((s) => s.system === 'sub-ca files' && s.ok));
  assert.ok(systems.every((s) => s.ok));

  const peerKey = (JSON.parse(readFileSync(join(lab.dir, 'cdm_peers.json'), 'utf8')) as PeersJson).peers['device-001']?.publicKey ?? assert.fail('device-001 in cdm_peers.json');
  const peers = () => (JSON.parse(readFileSync(join(lab.dir, 'wireguard-host.json'), 'utf8')) as StandinState).wg0.peers.map((p) => p.publicKey);
  assert.ok(peers().includes(peerKey));
  const done = await run([...c, 'run', 'device-compromise', '--tenant', lab.tenant, '--device', 'device-001', '--yes', '--json']);
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.ok(!peers().includes(peerKey), 'the other process removed the peer from the lab\'s stand-in');
  assert.equal(peers().length, lab.devices.length - 1);
});

test('another process that opens the lab configuration gets the lab\'s stand-in through the registry and the playbook\'s dependency builder', async (t) => {
  const lab = await labFor(t);
  const peerKey = (JSON.parse(readFileSync(join(lab.dir, 'cdm_peers.json'), 'utf8')) as PeersJson).peers['device-002']?.publicKey ?? assert.fail('device-002 in cdm_peers.json');
  const peers = () => (JSON.parse(readFileSync(join(lab.dir, 'wireguard-host.json'), 'utf8')) as StandinState).wg0.peers.map((p) => p.publicKey);
  const script = fileURLToPath(new URL('./fixtures/lab-connect.ts', import.meta.url));
  const r = spawnSync(process.execPath, [script, lab.configPath, lab.tenant, peerKey], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { removed: { alreadyAbsent: false }, gateway: 'lab wireguard host', files: 'local' });
  assert.ok(!peers().includes(peerKey), 'the peer left the stand-in\'s state file, which the lab in this process reads too');
  assert.ok(!(await lab.wireguard.exec({ argv: ['wg', 'show', 'wg0', 'dump'] })).stdout.includes(peerKey), 'the lab\'s own executor sees it gone');
});
