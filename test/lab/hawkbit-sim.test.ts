import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHawkbitSim } from '../../src/lab/hawkbit/hawkbit-sim.ts';

test('hawkBit target list: q (FIQL/RSQL) and sort as hawkBit reads them, hawkBit\'s 400 bodies for a bad q, sort, offset or limit, 406 for XML', async (t) => {
  const sim = await startHawkbitSim({
    username: 'admin', password: 'admin-pw',
    targets: [{ controllerId: 'dev-1', name: 'Kitchen sensor' }, { controllerId: 'dev-2', name: 'Garage gateway', ipAddress: '10.9.0.7' }, { controllerId: 'dev-3', name: 'Attic sensor' }],
  });
  t.after(() => sim.stop());
  const auth = { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` };
  const get = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${sim.url}/rest/v1/targets${query}`, { headers: { ...auth, ...headers } });
    const text = await res.text();
    return { status: res.status, json: (text === '' ? undefined : JSON.parse(text)) as { content: { controllerId: string }[]; total: number; size: number; errorCode?: string; exceptionClass?: string } | undefined };
  };
  const ids = async (query: string) => (await get(query)).json?.content.map((c) => c.controllerId);
  const q = (s: string) => `?q=${encodeURIComponent(s)}`;
  assert.deepEqual(await ids(q('name==*sensor')), ['dev-1', 'dev-3'], '== with a wildcard, case-insensitive');
  assert.deepEqual(await ids(q('name=="kitchen SENSOR"')), ['dev-1']);
  assert.equal((await get(q('name==kitchen sensor'))).status, 400, 'a space must be quoted');
  assert.deepEqual(await ids(q('controllerId!=dev-1')), ['dev-2', 'dev-3']);
  assert.deepEqual(await ids(q('name==*sensor;controllerId!=dev-1')), ['dev-3'], '; is and');
  assert.deepEqual(await ids(q('controllerId==dev-1,ipAddress==*10.9.0.7*')), ['dev-1', 'dev-2'], ', is or');
  assert.deepEqual(await ids(q('(id==dev-1,id==dev-2);name==G*')), ['dev-2']);
  assert.deepEqual(await ids(q('controllerid=in=(dev-3,dev-1)')), ['dev-1', 'dev-3'], 'field names are case-insensitive');
  assert.deepEqual(await ids(q('name=="Attic sensor"')), ['dev-3'], 'quoted values');
  assert.deepEqual(await ids(q('tag==prod')), [], 'the lab\'s targets have no tags');
  assert.deepEqual(await ids('?sort=name:ASC'), ['dev-3', 'dev-2', 'dev-1']);
  assert.deepEqual(await ids('?sort=controllerId:DESC'), ['dev-3', 'dev-2', 'dev-1']);
  const paged = await get(`${q('name==*sensor')}&offset=1&limit=1`);
  assert.deepEqual([paged.json?.total, paged.json?.size, paged.json?.content.map((c) => c.controllerId)], [2, 1, ['dev-3']], 'total counts what q selects');

  const bad = async (query: string) => { const r = await get(query); return [r.status, r.json?.errorCode, r.json?.exceptionClass]; };
  assert.deepEqual(await bad(q('name==')), [400, 'hawkbit.server.error.rest.param.rsqlParamSyntax', 'org.eclipse.hawkbit.repository.exception.RSQLParameterSyntaxException']);
  assert.deepEqual(await bad(q('(name==a')), [400, 'hawkbit.server.error.rest.param.rsqlParamSyntax', 'org.eclipse.hawkbit.repository.exception.RSQLParameterSyntaxException']);
  assert.deepEqual(await bad(q('password==x')), [400, 'hawkbit.server.error.rest.param.rsqlInvalidField', 'org.eclipse.hawkbit.repository.exception.RSQLParameterUnsupportedFieldException']);
  assert.deepEqual((await bad('?sort=name'))[1], 'hawkbit.server.error.rest.param.sortParamSyntax');
  assert.deepEqual((await bad('?sort=name:UP'))[1], 'hawkbit.server.error.rest.param.invalidDirection');
  assert.deepEqual((await bad('?sort=secret:ASC'))[1], 'hawkbit.server.error.rest.param.invalidField');
  // Built-in object properties are not fields either.
  assert.deepEqual((await bad(q('constructor==x')))[1], 'hawkbit.server.error.rest.param.rsqlInvalidField');
  assert.deepEqual((await bad('?sort=constructor:ASC'))[1], 'hawkbit.server.error.rest.param.invalidField');
  for (const p of ['?offset=abc', '?limit=0.5', '?limit=2147483648', '?offset=1e3']) {
    assert.deepEqual(await bad(p), [400, 'hawkbit.server.error.rest.body.notReadable', 'org.eclipse.hawkbit.rest.exception.MessageNotReadableException'], p);
  }
  assert.deepEqual((await get('?offset=-5&limit=9999')).json?.size, 3, 'a negative offset is 0 and the limit is capped, as PagingUtility does');

  const xml = await get('', { accept: 'application/xml' });
  assert.deepEqual([xml.status, xml.json], [406, undefined]);
  const xmlOne = await fetch(`${sim.url}/rest/v1/targets/dev-1`, { headers: { ...auth, accept: 'application/xml' } });
  assert.equal(xmlOne.status, 406);
  assert.equal((await get('', { accept: 'application/hal+json, application/xml;q=0.5' })).status, 200);
});

test('hawkBit: unknown routes and other methods answer Spring\'s error body as hawkBit sends it, never fastify\'s', async (t) => {
  const sim = await startHawkbitSim({ username: 'admin', password: 'admin-pw', targets: [{ controllerId: 'dev-1' }] });
  t.after(() => sim.stop());
  const auth = { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` };
  const call = async (method: string, path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${sim.url}${path}`, { method, headers });
    return { status: res.status, allow: res.headers.get('allow'), json: await res.json() as Record<string, unknown> };
  };
  const shape = (r: { json: Record<string, unknown> }) => [Object.keys(r.json).sort(), r.json['status'], r.json['error'], r.json['path']];
  assert.deepEqual(shape(await call('GET', '/rest/v1/nope')), [['error', 'path', 'status', 'timestamp'], 404, 'Not Found', '/rest/v1/nope']);
  assert.deepEqual(shape(await call('GET', '/rest/v1/nope', {})), [['error', 'path', 'status', 'timestamp'], 401, 'Unauthorized', '/rest/v1/nope'], 'credentials first');
  const patch = await call('PATCH', '/rest/v1/targets/dev-1');
  assert.deepEqual([...shape(patch), patch.allow], [['error', 'path', 'status', 'timestamp'], 405, 'Method Not Allowed', '/rest/v1/targets/dev-1', 'GET, DELETE']);
  const del = await call('DELETE', '/rest/v1/targets');
  assert.deepEqual([del.status, del.json['error']], [405, 'Method Not Allowed']);
  assert.deepEqual(shape(await call('GET', '/rest/v1/targets/%E0%A4%A')), [['error', 'path', 'status', 'timestamp'], 400, 'Bad Request', '/rest/v1/targets/%E0%A4%A'], 'a path that does not decode');
  const body = await fetch(`${sim.url}/rest/v1/targets/dev-1`, { method: 'DELETE', headers: { ...auth, 'content-type': 'application/json' }, body: '{"x":' });
  assert.deepEqual([body.status, ((await body.json()) as { errorCode: string }).errorCode], [400, 'hawkbit.server.error.rest.body.notReadable']);
});
