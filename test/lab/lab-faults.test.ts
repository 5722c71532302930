import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultController } from '../../src/lab/lab-faults.ts';
import { startHawkbitSim } from '../../src/lab/hawkbit/hawkbit-sim.ts';
import { createHawkbitClient } from '../../src/connectors/hawkbit/hawkbit-client.ts';
import { Secret } from '../../src/lib/secret.ts';

test('fault decisions are deterministic for a seed and honour rates, rules and their counts', () => {
  const decide = (seed: number) => { const f = new FaultController({ errorRate: 0.3 }, seed); return Array.from({ length: 200 }, () => f.decide('GET', '/x').kind); };
  assert.deepEqual(decide(7), decide(7), 'same seed, same faults');
  assert.notDeepEqual(decide(7), decide(8));
  const errors = decide(7).filter((k) => k === 'status').length;
  assert.ok(errors > 35 && errors < 90, `≈30% of 200 (${errors})`);
  const f = new FaultController({ rules: [{ method: 'DELETE', path: '^/rest/v1/targets/', status: 500, times: 2 }] });
  assert.equal(f.decide('GET', '/rest/v1/targets/a').kind, 'pass');
  assert.deepEqual([1, 2, 3].map(() => f.decide('DELETE', '/rest/v1/targets/a').kind), ['status', 'status', 'pass']);
  const lat = new FaultController({ latencyMs: 20, jitterMs: 5 }, 3);
  for (let i = 0; i < 50; i++) {
    const d = lat.decide('GET', '/');
    assert.ok(d.kind === 'pass' && d.delayMs >= 15 && d.delayMs <= 25);
  }
});

test('a simulator applies injected latency, vendor error bodies, hangs (the client times out) and records calls', async (t) => {
  const sim = await startHawkbitSim({ username: 'u', password: 'p-secret-1', targets: [{ controllerId: 'd1' }], faults: { latencyMs: 30 } });
  t.after(() => sim.stop());
  const client = createHawkbitClient({ url: sim.url, username: 'u', password: new Secret('p-secret-1'), timeoutMs: 300 });
  t.after(() => client.close());
  const started = performance.now();
  assert.equal((await client.getTarget('d1'))?.['controllerId'], 'd1');
  assert.ok(performance.now() - started >= 25, 'latency applied');
  sim.faults.add({ path: '^/rest/v1/targets/d1$', status: 503, times: 1 });
  await assert.rejects(client.getTarget('d1'), (e: { code?: string; retryable?: boolean; message?: string }) => e.code === 'UNAVAILABLE' && e.retryable === true && /hawkbit.server.error.internal/.test(e.message ?? ''));
  sim.faults.add({ path: '^/rest/v1/targets/d1$', hang: true, times: 1 });
  await assert.rejects(client.getTarget('d1'), (e: { code?: string }) => e.code === 'TIMEOUT');
  assert.equal((await client.getTarget('d1'))?.['controllerId'], 'd1', 'back to normal');
  const admin = await fetch(`${sim.url}/__lab/calls`);
  const calls = await admin.json() as { status: number; injected: boolean }[];
  assert.deepEqual(calls.filter((c) => c.injected).map((c) => c.status).slice(0, 1), [503]);
  const wrong = createHawkbitClient({ url: sim.url, username: 'u', password: new Secret('wrong-pass-1'), timeoutMs: 1000 });
  await assert.rejects(wrong.getTarget('d1'), /refused the credentials of u \(HTTP 401\)/);
  await wrong.close();
});
