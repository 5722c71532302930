import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFile } from '../helpers/shared.ts';
import { OpenApiContract } from './openapi.ts';
import { fuzz, unreached } from './openapi-fuzz.ts';
import { startHawkbitSim } from '../../src/lab/hawkbit/hawkbit-sim.ts';

const OPERATIONS = [['GET', '/rest/v1/targets'], ['GET', '/rest/v1/targets/{targetId}'], ['DELETE', '/rest/v1/targets/{targetId}']] as const;

/** Spring Boot's error body, which hawkBit sends for 401, 404 and 405 (its spec gives those no schema). */
function springErrorShape(status: number, body: unknown): string[] {
  if (status === 406) return body === undefined ? [] : ['406 carries a body'];
  const b = body as Record<string, unknown> | undefined;
  if (typeof b !== 'object' || b === null) return [`not a JSON object: ${JSON.stringify(body)}`];
  if ('exceptionClass' in b) return typeof b['errorCode'] === 'string' && typeof b['message'] === 'string' ? [] : ['an ExceptionInfo without errorCode/message'];
  const problems = [];
  if (b['status'] !== status) problems.push(`status field is not ${status}`);
  for (const k of ['timestamp', 'error', 'path']) if (typeof b[k] !== 'string') problems.push(`no string ${k}`);
  return problems;
}

test('hawkBit simulator under an OpenAPI-driven fuzzer: documented statuses, schemas, invalid input refused, hawkBit\'s error shapes everywhere', async (t) => {
  const path = sharedFile(t, 'specs/hawkbit/mgmt-openapi.json');
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  const ids = Array.from({ length: 60 }, (_, i) => `dev-${i}`);
  const sim = await startHawkbitSim({ username: 'admin', password: 'admin-pw', targets: ids.map((controllerId, i) => ({ controllerId, name: `Device ${i}`, ipAddress: `10.0.${i}.2` })) });
  t.after(() => sim.stop());
  const report = await fuzz({
    spec, baseUrl: sim.url, seed: 20261203, requests: 300,
    operations: OPERATIONS.map(([method, template]) => ({ method, template })),
    values: {
      targetId: ids,
      q: ['name==Device*', 'controllerId==dev-1', 'controllerId!=dev-2', 'name==*1*,name==*2*', 'name==Device*;updateStatus==in_sync', '(controllerId==dev-1,controllerId==dev-3);ipAddress==*10.*', 'createdAt=gt=0', 'id=in=(dev-1,dev-3)', 'tag==x', 'name=="Device 4"'],
      sort: ['name:ASC', 'controllerId:DESC,name:ASC', 'createdAt:asc', 'ipAddress:DESC'],
    },
    invalidValues: { q: ['name==', 'bogus==1', '(name==a', 'name=foo=x', ';', 'name==a;;', 'name=='], sort: ['name', 'name:UP', 'nofield:ASC', 'name:ASC:DESC'] },
    auth: () => ({ authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` }),
    badAuth: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    headerVariants: [{ headers: { accept: 'application/xml' }, expect: [406] }, { headers: { accept: 'application/hal+json' }, expect: [] }, { headers: { accept: '*/*' }, expect: [] }],
    errorShape: springErrorShape,
    unknownPath: (n) => ['/rest/v1/nope', `/rest/v1/targets/dev-${n}/nope`, '/rest/v2/targets'][n % 3] ?? '/rest/v1/nope',
    // CONTRACTS.md §5: hawkBit 0.10+ deletes with 204 though the spec still documents 200.
    divergence: (r) => (r.method === 'DELETE' && r.status === 204 ? 'skip' : undefined),
  });
  t.diagnostic(`${report.sent} requests; statuses: ${JSON.stringify(report.statuses)}`);
  assert.deepEqual(report.failures, []);
  assert.deepEqual(unreached(report, OPERATIONS.map(([method, template]) => ({ method, template }))).filter((o) => !o.startsWith('DELETE')), [], 'every read answered 2xx at least once');
  assert.ok(Object.keys(report.statuses).some((k) => k.startsWith('DELETE /rest/v1/targets/{targetId} 204')), 'deletes went through');
});
