import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.ts';
import { OpenApiContract } from './openapi.ts';
import { startHawkbitSim } from '../../src/lab/hawkbit/hawkbit-sim.ts';
import { createHawkbitClient } from '../../src/connectors/hawkbit/hawkbit-client.ts';
import { Secret } from '../../src/lib/secret.ts';

test('hawkBit simulator: target operations are in the vendor spec and their bodies validate against it', async (t) => {
  const path = sharedFile(t, 'specs/hawkbit/mgmt-openapi.json');
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  const sim = await startHawkbitSim({ username: 'admin', password: 'admin-pw', targets: [{ controllerId: 'dev-1' }, { controllerId: 'dev-2' }] });
  t.after(() => sim.stop());
  const auth = { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` };
  const call = async (method: string, p: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${sim.url}${p}`, { method, headers });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) as unknown, headers: res.headers };
  };
  const ok = (method: string, template: string, r: { status: number; json: unknown }) => {
    assert.ok(spec.hasOperation(method, template));
    assert.deepEqual(spec.check(method, template, r.status, r.json), [], `${method} ${template} ${r.status}`);
  };
  const got = await call('GET', '/rest/v1/targets/dev-1');
  ok('GET', '/rest/v1/targets/{targetId}', got);
  assert.match(got.headers.get('content-type') ?? '', /^application\/hal\+json/);
  ok('GET', '/rest/v1/targets', await call('GET', '/rest/v1/targets?offset=0&limit=10'));
  const missing = await call('GET', '/rest/v1/targets/nope');
  ok('GET', '/rest/v1/targets/{targetId}', missing);
  assert.deepEqual(missing.json, { exceptionClass: 'org.eclipse.hawkbit.repository.exception.EntityNotFoundException', errorCode: 'hawkbit.server.error.repo.entityNotFound', message: 'Target with given identifier {nope} does not exist.', info: { type: 'Target', entityId: 'nope' } });
  const del = await call('DELETE', '/rest/v1/targets/dev-1');
  assert.equal(del.status, 204, 'hawkBit 0.10+ answers 204 (the spec still documents 200: CONTRACTS.md §5)');
  ok('DELETE', '/rest/v1/targets/{targetId}', await call('DELETE', '/rest/v1/targets/dev-1'));
  const unauth = await call('GET', '/rest/v1/targets/dev-2', {});
  assert.equal(unauth.status, 401);
  assert.equal(unauth.headers.get('www-authenticate'), 'Basic realm="hawkBit"');
});

test('hawkBit connector: 200 and 204 are both success, 404 is already absent, 500 then 200 surfaces a retryable error first', async (t) => {
  for (const deleteStatus of [200, 204] as const) {
    const sim = await startHawkbitSim({ username: 'admin', password: 'admin-pw', targets: [{ controllerId: 'dev/1' }], deleteStatus });
    const hb = createHawkbitClient({ url: sim.url, username: 'admin', password: new Secret('admin-pw') });
    sim.faults.add({ method: 'DELETE', path: '^/rest/v1/targets/', status: 500, times: 1 });
    await assert.rejects(hb.deleteTarget('dev/1'), (e: { code?: string; retryable?: boolean }) => e.code === 'UNAVAILABLE' && e.retryable === true);
    assert.deepEqual(await hb.deleteTarget('dev/1'), { alreadyAbsent: false }, `delete answering ${deleteStatus}`);
    assert.deepEqual(await hb.deleteTarget('dev/1'), { alreadyAbsent: true });
    assert.equal(await hb.getTarget('dev/1'), null);
    assert.ok(sim.calls().every((c) => c.path === '/rest/v1/targets/dev%2F1'), 'the id stays one path segment');
    await hb.close();
    await sim.stop();
  }
  t.diagnostic('both hawkBit delete status conventions accepted');
});
