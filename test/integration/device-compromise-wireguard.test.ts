import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireComponent } from '../helpers/shared.ts';
import { startRealInterface, wireguardProblem } from '../helpers/wireguard.ts';
import { labFor } from '../e2e/cli-helpers.ts';
import { openApp } from '../../src/app/app-open.ts';
import { loadConfig } from '../../src/config/index.ts';
import { parseDump } from '../../src/connectors/wireguard/wg-dump.ts';

test('device-compromise removes the device\'s peer from a real WireGuard interface and persists it with wg-quick save', async (t) => {
  if (!requireComponent(t, 'WireGuard (wireguard-go, wireguard-tools, netns)', wireguardProblem())) return;
  const real = await startRealInterface(3);
  t.after(() => real.stop());
  const lab = await labFor(t);
  // Point the lab tenant's gateway at the real interface: its peers become the devices' peers.
  const peersPath = join(lab.dir, 'cdm_peers.json');
  const peers = JSON.parse(readFileSync(peersPath, 'utf8')) as { peers: Record<string, { publicKey: string }> };
  lab.devices.forEach((d, i) => { const p = peers.peers[d]; if (p !== undefined) p.publicKey = real.peers[i]?.publicKey ?? ''; });
  writeFileSync(peersPath, JSON.stringify(peers, null, 2));
  writeFileSync(lab.configPath, readFileSync(lab.configPath, 'utf8').replace('interface: wg0', `interface: ${real.iface}`).replace(/configFile: .*wg0\.conf/, `configFile: ${real.confFile}`));

  const app = await openApp({ loaded: loadConfig(lab.configPath), executors: { 'lab-wireguard': real.executor } });
  try {
    const started = await app.start({ playbook: 'device-compromise', input: { tenant: 'acme', device: 'device-002' }, initiator: 'alice', yes: true });
    const outcome = await started.outcome;
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome.error));
    const dump = parseDump((await real.executor.exec({ argv: ['wg', 'show', real.iface, 'dump'] })).stdout);
    assert.deepEqual(dump.peers.map((p) => p.publicKey).sort(), [real.peers[0]?.publicKey, real.peers[2]?.publicKey].sort());
    const conf = readFileSync(real.confFile, 'utf8');
    assert.ok(!conf.includes(real.peers[1]?.publicKey ?? '-'), 'saved configuration lacks the removed peer');
    assert.ok(conf.includes(real.peers[0]?.publicKey ?? '-'), conf);
    assert.ok(started.incidentId !== null);
    const peerEvidence = (await app.queries.evidence(started.incidentId)).find((e) => e.name === 'wireguard-peer');
    assert.ok(peerEvidence !== undefined, 'the live peer entry was captured before removal');
    assert.equal(peerEvidence.path, join(lab.dir, 'state', peerEvidence.ref));
    const file = JSON.parse(readFileSync(peerEvidence.path, 'utf8')) as { data: { publicKey: string; allowedIps: string[] } };
    assert.equal(file.data.publicKey, real.peers[1]?.publicKey);
    assert.deepEqual(file.data.allowedIps, ['10.77.1.3/32']);
  } finally {
    await app.close();
  }
});
