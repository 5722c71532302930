import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { sharedFile } from '../helpers/shared.ts';
import { OpenApiContract } from './openapi.ts';
import { fuzz } from './openapi-fuzz.ts';

test('the OpenAPI fuzzer catches a server that strays from the document (it can fail), and is deterministic for a seed', async (t) => {
  const path = sharedFile(t, 'specs/hawkbit/mgmt-openapi.json');
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  // A careless stand-in: ignores parameters and credentials, a body off the schema, the framework's own 404s.
  const app = Fastify({ logger: false });
  app.get('/rest/v1/targets', async () => ({ content: [{ controllerId: 5 }], total: 1, size: 'one' }));
  app.get('/rest/v1/targets/:id', async () => ({ controllerId: 'x', name: 'x' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const run = () => fuzz({
    spec, baseUrl: url, seed: 7, requests: 120,
    operations: [{ method: 'GET', template: '/rest/v1/targets' }, { method: 'GET', template: '/rest/v1/targets/{targetId}' }],
    values: { targetId: ['x'] }, invalidValues: { q: ['name=='] },
    auth: () => ({ authorization: 'Basic eDp5' }), badAuth: { authorization: 'Basic bm86bm8=' },
    errorShape: (status, body) => ((body as { status?: unknown } | undefined)?.status === status && !('statusCode' in (body as object)) ? [] : ['not Spring\'s error body']),
    unknownPath: () => '/rest/v1/nope',
  });
  const report = await run();
  const kinds = new Set(report.failures.map((f) => /\[([a-z ]+)\]$/.exec(f)?.[1]));
  for (const k of ['schema', 'negative data', 'auth', 'wrong method', 'unknown route']) assert.ok(kinds.has(k), `${k} failures found (${[...kinds].join(', ')})`);
  assert.deepEqual((await run()).failures, report.failures, 'same seed, same requests, same findings');
});
