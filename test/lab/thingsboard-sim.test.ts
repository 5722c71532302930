import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startThingsboardSim, type ThingsboardSim } from '../../src/lab/thingsboard/thingsboard-sim.ts';

interface Answer { readonly status: number; readonly type: string; readonly json: Record<string, unknown> & unknown[] }

async function call(sim: ThingsboardSim, method: string, path: string, o: { token?: string; body?: string; contentType?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(o.token === undefined ? {} : { 'x-authorization': `Bearer ${o.token}` }), ...(o.body === undefined ? {} : { 'content-type': o.contentType ?? 'application/json' }) };
  const res = await fetch(`${sim.url}${path}`, { method, headers, ...(o.body === undefined ? {} : { body: o.body }) });
  const text = await res.text();
  let json: unknown = text;
  try { json = text === '' ? undefined : JSON.parse(text); } catch { /* plain text */ }
  return { status: res.status, type: res.headers.get('content-type') ?? '', json: json as Answer['json'] };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { iat: number; exp: number; scopes: string[]; sub: string };
const error = (a: Answer) => [a.status, a.json['message'], a.json['errorCode']];

async function started(t: { after(fn: () => Promise<void>): void }, extra: Partial<Parameters<typeof startThingsboardSim>[0]> = {}) {
  const sim = await startThingsboardSim({ username: 'u@lab', password: 'pw-123456', devices: [{ name: 'b-sensor', type: 'sensor' }, { name: 'a-gateway', type: 'gateway' }, { name: 'c-sensor', type: 'sensor' }], ...extra });
  t.after(() => sim.stop());
  const login = await call(sim, 'POST', '/api/auth/login', { body: JSON.stringify({ username: 'u@lab', password: 'pw-123456' }) });
  return { sim, token: String(login.json['token']), refreshToken: String(login.json['refreshToken']) };
}

test('ThingsBoard JWTs carry ThingsBoard\'s lifetimes, and POST /api/auth/token refreshes them as ThingsBoard does', async (t) => {
  const { sim, token, refreshToken } = await started(t);
  const access = claims(token);
  const refresh = claims(refreshToken);
  assert.deepEqual([access.exp - access.iat, access.scopes, access.sub], [9000, ['TENANT_ADMIN'], 'u@lab'], 'jwt.tokenExpirationTime 9000 s');
  assert.deepEqual([refresh.exp - refresh.iat, refresh.scopes], [604800, ['REFRESH_TOKEN']], 'jwt.refreshTokenExpTime 604800 s');

  const renewed = await call(sim, 'POST', '/api/auth/token', { body: JSON.stringify({ refreshToken }) });
  assert.equal(renewed.status, 200);
  assert.deepEqual(Object.keys(renewed.json).sort(), ['refreshToken', 'token']);
  assert.equal((await call(sim, 'GET', '/api/tenant/devices?pageSize=10&page=0', { token: String(renewed.json['token']) })).status, 200, 'the refreshed token works');
  assert.deepEqual(error(await call(sim, 'POST', '/api/auth/token', { body: JSON.stringify({ refreshToken: 'garbage' }) })), [401, 'Invalid username or password', 10]);
  assert.deepEqual(error(await call(sim, 'POST', '/api/auth/token', { body: JSON.stringify({ refreshToken: token }) })), [401, 'Authentication failed', 10], 'an access token is no refresh token');
  assert.equal((await call(sim, 'GET', '/api/tenant/devices?pageSize=10&page=0', { token: refreshToken })).status, 401, 'a refresh token is no access token');
  assert.deepEqual(error(await call(sim, 'GET', '/api/auth/token')), [401, 'Authentication method not supported', 10]);
});

test('an expired ThingsBoard refresh token answers "Token has expired" (errorCode 11); a client refreshing before expiry keeps its session', async (t) => {
  // The simulator's clock is moved, not waited for: no test here depends on how fast the machine is.
  let now = Date.now();
  const { sim, token, refreshToken } = await started(t, { tokenTtlMs: 9_000_000, refreshTtlMs: 604_800_000, clock: () => now });
  const devices = '/api/tenant/devices?pageSize=1&page=0';
  now += 8_999_000;
  assert.equal((await call(sim, 'GET', devices, { token })).status, 200, 'a second before exp the token still works');
  const renewed = await call(sim, 'POST', '/api/auth/token', { body: JSON.stringify({ refreshToken }) });
  assert.equal(renewed.status, 200, 'refreshed before expiry');
  now += 1_000;
  assert.deepEqual(error(await call(sim, 'GET', devices, { token })), [401, 'Token has expired', 11]);
  assert.equal((await call(sim, 'GET', devices, { token: String(renewed.json['token']) })).status, 200, 'the session goes on with the refreshed token');
  now += 604_800_000;
  assert.deepEqual(error(await call(sim, 'POST', '/api/auth/token', { body: JSON.stringify({ refreshToken }) })), [401, 'Token has expired', 11]);
});

test('ThingsBoard login answers its own 401s for malformed bodies and other methods, never the framework\'s', async (t) => {
  const { sim } = await started(t);
  assert.deepEqual(error(await call(sim, 'POST', '/api/auth/login', { body: '{"username": ' })), [401, 'Authentication failed', 10]);
  assert.deepEqual(error(await call(sim, 'POST', '/api/auth/login', { body: '{}' })), [401, 'Authentication failed', 10]);
  for (const m of ['GET', 'PUT', 'DELETE']) assert.deepEqual(error(await call(sim, m, '/api/auth/login')), [401, 'Authentication method not supported', 10], m);
  const asText = await call(sim, 'POST', '/api/auth/login', { body: JSON.stringify({ username: 'u@lab', password: 'pw-123456' }), contentType: 'text/plain' });
  assert.equal(asText.status, 200, 'the login filter reads JSON whatever the content type (no 415)');
});

test('ThingsBoard device routes: credentials of a bad UUID is 400; the list honours type, sortProperty and sortOrder and refuses pages outside int32', async (t) => {
  const { sim, token } = await started(t);
  assert.deepEqual(error(await call(sim, 'GET', '/api/device/not-a-uuid/credentials', { token })), [400, 'Invalid UUID string: not-a-uuid', 31]);
  assert.deepEqual(error(await call(sim, 'GET', '/api/device/not-a-uuid', { token })), [400, 'Invalid UUID string: not-a-uuid', 31]);
  const names = async (q: string) => ((await call(sim, 'GET', `/api/tenant/devices?pageSize=10&page=0&${q}`, { token })).json['data'] as { name: string }[]).map((d) => d.name);
  assert.deepEqual(await names('type=sensor&sortProperty=name&sortOrder=ASC'), ['b-sensor', 'c-sensor']);
  assert.deepEqual(await names('sortProperty=name&sortOrder=DESC'), ['c-sensor', 'b-sensor', 'a-gateway']);
  assert.deepEqual(await names('type=nope'), []);
  const bad = async (q: string) => error(await call(sim, 'GET', `/api/tenant/devices?${q}`, { token }));
  assert.deepEqual(await bad('pageSize=2147483648&page=0'), [400, 'Method parameter \'pageSize\': Failed to convert value of type \'java.lang.String\' to required type \'int\'; For input string: "2147483648"', 31]);
  assert.deepEqual(await bad('pageSize=10&page=1.2e17'), [400, 'Method parameter \'page\': Failed to convert value of type \'java.lang.String\' to required type \'int\'; For input string: "1.2e17"', 31]);
  assert.deepEqual(await bad('pageSize=10&page=0&sortOrder=UP'), [400, 'Unsupported sort order \'UP\'! Only \'ASC\' or \'DESC\' types are allowed.', 31]);
  assert.deepEqual(await bad('pageSize=10&page=0&sortProperty=password'), [400, 'Invalid page link sort property: password', 31]);
  assert.deepEqual(await bad('page=0'), [400, 'Required request parameter \'pageSize\' for method parameter type int is not present', 31]);
});

test('ThingsBoard: all-scope attributes, and the audit-log route refuses unknown entity types and pages that are not int32', async (t) => {
  const { sim, token } = await started(t);
  const id = [...sim.devices.keys()][0] ?? '';
  assert.equal((await call(sim, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: JSON.stringify({ s: 1 }) })).status, 200);
  assert.equal((await call(sim, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SERVER_SCOPE`, { token, body: JSON.stringify({ v: 'x' }) })).status, 200);
  const all = await call(sim, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes`, { token });
  assert.equal(all.status, 200);
  assert.deepEqual((all.json as unknown as { key: string; value: unknown }[]).map((a) => [a.key, a.value]).sort(), [['s', 1], ['v', 'x']]);
  assert.deepEqual((await call(sim, 'GET', `/api/plugins/telemetry/DEVICE/${id}/values/attributes?keys=v`, { token })).json.map((a) => (a as { key: string }).key), ['v']);
  assert.deepEqual(error(await call(sim, 'GET', `/api/audit/logs/entity/BOGUS/${id}?pageSize=10&page=0`, { token })), [400, 'No enum constant org.thingsboard.server.common.data.EntityType.BOGUS', 31]);
  assert.equal((await call(sim, 'GET', `/api/audit/logs/entity/DEVICE/${id}?pageSize=10&page=1.2e17`, { token })).status, 400);
  assert.equal((await call(sim, 'GET', `/api/audit/logs/entity/DEVICE/${id}?pageSize=10&page=0&startTime=abc`, { token })).status, 400);
  const page = await call(sim, 'GET', `/api/audit/logs/entity/DEVICE/${id}?pageSize=10&page=0&actionTypes=ATTRIBUTES_UPDATED&sortProperty=createdTime&sortOrder=DESC`, { token });
  assert.deepEqual([page.status, page.json['totalElements']], [200, 2]);
});

test('ThingsBoard: unknown routes, other methods, malformed and mistyped bodies get ThingsBoard\'s error JSON, never fastify\'s', async (t) => {
  const { sim, token } = await started(t);
  const id = [...sim.devices.keys()][0] ?? '';
  assert.deepEqual(error(await call(sim, 'GET', '/api/nope')), [401, 'Authentication failed', 10], 'the security filter comes first');
  assert.deepEqual(error(await call(sim, 'GET', '/api/nope', { token })), [404, 'No static resource api/nope.', 32]);
  assert.deepEqual(error(await call(sim, 'PUT', `/api/device/${id}`, { token })), [405, 'Request method \'PUT\' is not supported', 31]);
  const malformed = await call(sim, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: '{"a":' });
  assert.deepEqual([malformed.status, malformed.json, malformed.type.startsWith('text/plain')], [400, 'Invalid request body', true]);
  const asText = await call(sim, 'POST', `/api/plugins/telemetry/DEVICE/${id}/attributes/SHARED_SCOPE`, { token, body: '{"a":1}', contentType: 'text/plain' });
  assert.equal(asText.status, 200, 'the attributes body is read whatever the content type (the spec documents text/plain)');
  const long = await call(sim, 'GET', `/api/device/${'x'.repeat(150)}`, { token });
  assert.deepEqual([long.status, long.json['errorCode']], [400, 31], 'a long path segment reaches the route (no framework 414)');
  assert.deepEqual(error(await call(sim, 'GET', '/api/device/%E0%A4%A', { token })), [400, 'Invalid URL', 31], 'a path that does not decode');
  for (const a of [await call(sim, 'GET', '/api/nope', { token }), await call(sim, 'PUT', `/api/device/${id}`, { token })]) {
    assert.deepEqual(Object.keys(a.json).sort(), ['errorCode', 'message', 'status', 'timestamp']);
  }
});
