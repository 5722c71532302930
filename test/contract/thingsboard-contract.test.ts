import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.ts';
import { OpenApiContract } from './openapi.ts';
import { startThingsboardSim } from '../../src/lab/thingsboard/thingsboard-sim.ts';
import { createThingsboardClient } from '../../src/connectors/thingsboard/thingsboard-client.ts';
import { Secret } from '../../src/lib/secret.ts';

const SPEC = 'specs/thingsboard/ce-openapi-4.3.1.2-SNAPSHOT.json';

test('ThingsBoard simulator: every operation it serves is in the vendor spec and its bodies validate against it', async (t) => {
  const path = sharedFile(t, SPEC);
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  const sim = await startThingsboardSim({ username: 'tenant@acme.lab', password: 'pw-123456', devices: [{ name: 'device-001', telemetry: { temperature: '21.5' } }, { name: 'device-002' }] });
  t.after(() => sim.stop());
  const call = async (method: string, p: string, body?: unknown, token?: string) => {
    const res = await fetch(`${sim.url}${p}`, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { 'x-authorization': `Bearer ${token}` }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let json: unknown = text;
    try { json = text === '' ? undefined : JSON.parse(text); } catch { /* plain text */ }
    return { status: res.status, json, type: res.headers.get('content-type') ?? '' };
  };
  const ok = (method: string, template: string, r: { status: number; json: unknown }) => {
    assert.ok(spec.hasOperation(method, template), `${method} ${template} is in the spec`);
    assert.deepEqual(spec.check(method, template, r.status, r.json), [], `${method} ${template} ${r.status}`);
  };

  const login = await call('POST', '/api/auth/login', { username: 'tenant@acme.lab', password: 'pw-123456' });
  ok('POST', '/api/auth/login', login);
  const token = (login.json as { token: string }).token;
  const bad = await call('POST', '/api/auth/login', { username: 'tenant@acme.lab', password: 'nope' });
  ok('POST', '/api/auth/login', bad);
  assert.deepEqual([bad.status, (bad.json as { errorCode: number; message: string }).errorCode, (bad.json as { message: string }).message], [401, 10, 'Invalid username or password']);

  const page = await call('GET', '/api/tenant/devices?pageSize=10&page=0', undefined, token);
  ok('GET', '/api/tenant/devices', page);
  const byName = await call('GET', '/api/tenant/devices?deviceName=device-001', undefined, token);
  assert.equal(byName.status, 200);
  assert.deepEqual(spec.check('GET', '/api/device/{deviceId}', 200, byName.json), [], 'the deviceName form answers a single Device (CONTRACTS.md §4.2)');
  const id = (byName.json as { id: { id: string } }).id.id;
  ok('GET', '/api/device/{deviceId}', await call('GET', `/api/device/${id}`, undefined, token));
  // The spec types credentialsValue as a string; the server sends null for access tokens (CONTRACTS.md §4.5, from the source).
  const creds = await call('GET', `/api/device/${id}/credentials`, undefined, token);
  assert.equal((creds.json as { credentialsValue: unknown }).credentialsValue, null);
  ok('GET', '/api/device/{deviceId}/credentials', { ...creds, json: { ...(creds.json as object), credentialsValue: undefined } });
  ok('GET', '/api/plugins/telemetry/{entityType}/{entityId}/values/timeseries', await call('GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries`, undefined, token));
  // Attributes (subca-compromise's channel to the devices): save shared, read back by scope, a wrong scope refused.
  const saved = await call('POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { enrollment: { token: 'x', caUrl: 'https://ca' } }, token);
  assert.equal(saved.status, 200);
  assert.ok(spec.hasOperation('POST', '/api/plugins/telemetry/{entityType}/{entityId}/attributes/{scope}'));
  const shared = await call('GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/SHARED_SCOPE?keys=enrollment`, undefined, token);
  ok('GET', '/api/plugins/telemetry/{entityType}/{entityId}/values/attributes/{scope}', shared);
  assert.deepEqual((shared.json as { key: string; value: unknown }[]).map((a) => [a.key, a.value]), [['enrollment', { token: 'x', caUrl: 'https://ca' }]]);
  ok('GET', '/api/plugins/telemetry/{entityType}/{entityId}/values/attributes/{scope}', await call('GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes/CLIENT_SCOPE`, undefined, token));
  const wrongScope = await call('POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/CLIENT_SCOPE`, { a: 1 }, token);
  assert.equal(wrongScope.status, 400, 'clients cannot write client attributes (the spec\'s scope enum: SERVER_SCOPE, SHARED_SCOPE)');
  const missingName = await call('GET', '/api/tenant/devices?deviceName=nope', undefined, token);
  ok('GET', '/api/tenant/devices', missingName);
  assert.equal((missingName.json as { errorCode: number }).errorCode, 32);
  const deleted = await call('DELETE', `/api/device/${id}`, undefined, token);
  ok('DELETE', '/api/device/{deviceId}', deleted);
  assert.equal(deleted.status, 200);
  const gone = await call('DELETE', `/api/device/${id}`, undefined, token);
  ok('DELETE', '/api/device/{deviceId}', gone);
  assert.equal((gone.json as { message: string }).message, `Device with id [${id}] is not found`);
  ok('GET', '/api/audit/logs/entity/{entityType}/{entityId}', await call('GET', `/api/audit/logs/entity/DEVICE/${id}?pageSize=10&page=0`, undefined, token));
  ok('DELETE', '/api/device/{deviceId}', await call('DELETE', '/api/device/not-a-uuid', undefined, token));
  ok('GET', '/api/device/{deviceId}', await call('GET', `/api/device/${id}`));

  // Telemetry errors are plain text (CONTRACTS.md §4.0), unlike every other endpoint.
  const telemetryGone = await call('GET', `/api/plugins/telemetry/DEVICE/${id}/values/timeseries`, undefined, token);
  assert.deepEqual([telemetryGone.status, telemetryGone.json, telemetryGone.type.startsWith('text/plain')], [404, 'Device with requested id wasn\'t found!', true]);
});

test('ThingsBoard connector against the simulator: 404 as already absent, re-login after expiry, login refused as AUTH_FAILED, names as one query value', async (t) => {
  const sim = await startThingsboardSim({ username: 'u@lab', password: 'pw-123456', devices: [{ name: 'a/b ..?x=1' }, { name: 'device-002' }], tokenTtlMs: 200 });
  t.after(() => sim.stop());
  const tb = createThingsboardClient({ url: sim.url, username: 'u@lab', password: new Secret('pw-123456') });
  t.after(() => tb.close());
  const d = await tb.findDeviceByName('a/b ..?x=1');
  assert.equal(d?.name, 'a/b ..?x=1');
  assert.equal(await tb.findDeviceByName('a'), null);
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(await tb.deleteDevice(d?.id ?? ''), { alreadyAbsent: false }, 'an expired token is renewed once');
  assert.deepEqual(await tb.deleteDevice(d?.id ?? ''), { alreadyAbsent: true });
  assert.ok(sim.calls().filter((c) => c.path === '/api/auth/login').length >= 2);
  const wrong = createThingsboardClient({ url: sim.url, username: 'u@lab', password: new Secret('wrong-pw-1') });
  await assert.rejects(wrong.findDeviceByName('device-002'), (e: { code?: string; message?: string }) => e.code === 'AUTH_FAILED' && /refused the login of u@lab: Invalid username or password/.test(e.message ?? ''));
  await wrong.close();
  sim.faults.add({ path: '^/api/plugins/telemetry/', status: 500, times: 1 });
  const id = (await tb.findDeviceByName('device-002'))?.id ?? '';
  await assert.rejects(tb.latestTelemetry(id), (e: { code?: string; retryable?: boolean }) => e.code === 'UNAVAILABLE' && e.retryable === true);
  assert.deepEqual(await tb.latestTelemetry(id), {});
});
