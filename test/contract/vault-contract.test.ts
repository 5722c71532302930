import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFile } from '../helpers/shared.ts';
import { OpenApiContract } from './openapi.ts';
import { fuzz, unreached, type FuzzResult } from './openapi-fuzz.ts';
import { startLabVault } from '../../src/lab/vault/vault-layout.ts';
import { startVaultSim } from '../../src/lab/vault/vault-sim.ts';

type Json = Record<string, unknown>;

/** Every operation the lab Vault implements, as the vendor document names it. */
const IMPLEMENTED: readonly (readonly [string, string])[] = [
  ['GET', '/sys/init'], ['POST', '/sys/init'], ['GET', '/sys/seal-status'], ['POST', '/sys/seal'], ['POST', '/sys/unseal'], ['GET', '/sys/health'], ['GET', '/sys/leader'],
  ['GET', '/sys/rekey/init'], ['POST', '/sys/rekey/init'], ['DELETE', '/sys/rekey/init'], ['POST', '/sys/rekey/update'], ['GET', '/sys/rekey/verify'], ['POST', '/sys/rekey/verify'], ['DELETE', '/sys/rekey/verify'],
  ['POST', '/sys/rotate'], ['GET', '/sys/key-status'], ['GET', '/sys/generate-root/attempt'], ['POST', '/sys/generate-root/attempt'], ['DELETE', '/sys/generate-root/attempt'], ['POST', '/sys/generate-root/update'],
  ['GET', '/sys/auth'], ['GET', '/sys/auth/{path}'], ['POST', '/sys/auth/{path}'], ['DELETE', '/sys/auth/{path}'], ['GET', '/sys/auth/{path}/tune'], ['POST', '/sys/auth/{path}/tune'],
  ['GET', '/sys/mounts'], ['GET', '/sys/mounts/{path}'], ['POST', '/sys/mounts/{path}'], ['DELETE', '/sys/mounts/{path}'],
  ['GET', '/sys/audit'], ['POST', '/sys/audit/{path}'], ['DELETE', '/sys/audit/{path}'], ['POST', '/sys/audit-hash/{path}'],
  ['GET', '/sys/policy'], ['GET', '/sys/policy/{name}'], ['POST', '/sys/policy/{name}'], ['DELETE', '/sys/policy/{name}'],
  ['GET', '/sys/policies/acl/'], ['GET', '/sys/policies/acl/{name}'], ['POST', '/sys/policies/acl/{name}'], ['DELETE', '/sys/policies/acl/{name}'],
  ['POST', '/sys/leases/revoke-prefix/{prefix}'], ['POST', '/sys/leases/revoke-force/{prefix}'],
  ['POST', '/auth/token/create'], ['POST', '/auth/token/create-orphan'], ['GET', '/auth/token/lookup-self'], ['POST', '/auth/token/lookup'], ['POST', '/auth/token/lookup-accessor'],
  ['POST', '/auth/token/revoke'], ['POST', '/auth/token/revoke-self'], ['POST', '/auth/token/revoke-accessor'], ['POST', '/auth/token/revoke-orphan'], ['GET', '/auth/token/accessors/'],
  ['POST', '/auth/{approle_mount_path}/login'], ['GET', '/auth/{approle_mount_path}/role/'], ['GET', '/auth/{approle_mount_path}/role/{role_name}'], ['POST', '/auth/{approle_mount_path}/role/{role_name}'],
  ['DELETE', '/auth/{approle_mount_path}/role/{role_name}'], ['GET', '/auth/{approle_mount_path}/role/{role_name}/role-id'], ['POST', '/auth/{approle_mount_path}/role/{role_name}/role-id'],
  ['POST', '/auth/{approle_mount_path}/role/{role_name}/secret-id'], ['GET', '/auth/{approle_mount_path}/role/{role_name}/secret-id/'],
  ['POST', '/auth/{userpass_mount_path}/login/{username}'], ['GET', '/auth/{userpass_mount_path}/users/'], ['GET', '/auth/{userpass_mount_path}/users/{username}'], ['POST', '/auth/{userpass_mount_path}/users/{username}'],
  ['DELETE', '/auth/{userpass_mount_path}/users/{username}'], ['POST', '/auth/{userpass_mount_path}/users/{username}/password'],
  ['GET', '/auth/{jwt_mount_path}/config'], ['POST', '/auth/{jwt_mount_path}/config'], ['GET', '/auth/{jwt_mount_path}/role/'], ['GET', '/auth/{jwt_mount_path}/role/{name}'], ['POST', '/auth/{jwt_mount_path}/role/{name}'], ['DELETE', '/auth/{jwt_mount_path}/role/{name}'],
  ['GET', '/{kv_v1_mount_path}/{path}'], ['POST', '/{kv_v1_mount_path}/{path}'], ['DELETE', '/{kv_v1_mount_path}/{path}'], ['GET', '/{kv_v1_mount_path}/{path}/'],
  ['GET', '/{kv_v2_mount_path}/config'], ['POST', '/{kv_v2_mount_path}/config'], ['GET', '/{kv_v2_mount_path}/data/{path}'], ['POST', '/{kv_v2_mount_path}/data/{path}'], ['DELETE', '/{kv_v2_mount_path}/data/{path}'],
  ['POST', '/{kv_v2_mount_path}/delete/{path}'], ['POST', '/{kv_v2_mount_path}/undelete/{path}'], ['POST', '/{kv_v2_mount_path}/destroy/{path}'],
  ['GET', '/{kv_v2_mount_path}/metadata/{path}'], ['POST', '/{kv_v2_mount_path}/metadata/{path}'], ['DELETE', '/{kv_v2_mount_path}/metadata/{path}'], ['GET', '/{kv_v2_mount_path}/metadata/{path}/'],
];

/** CONTRACTS.md §2.0: every status ≥ 400 answers `{"errors":[string…]}` as JSON and nothing else. */
function vaultErrorShape(status: number, body: unknown, contentType = 'application/json'): string[] {
  if (status < 400) return [];
  if (!contentType.includes('application/json')) return [`content-type ${contentType}`];
  const b = body as Json | undefined;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return [`not a JSON object: ${JSON.stringify(body)}`];
  if (JSON.stringify(Object.keys(b)) !== '["errors"]') return [`keys ${Object.keys(b).join(',')}`];
  return Array.isArray(b['errors']) && (b['errors'] as unknown[]).every((e) => typeof e === 'string') ? [] : ['errors is not an array of strings'];
}

test('every implemented Vault operation is in the vendor OpenAPI document with its method', (t) => {
  const path = sharedFile(t, 'specs/vault/openapi.vault-client-go.json');
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  const missing = IMPLEMENTED.filter(([m, p]) => !spec.hasOperation(m, p)).map(([m, p]) => `${m} ${p}`);
  assert.deepEqual(missing, []);
});

test('Vault error shapes: unknown routes, wrong methods, malformed and non-object JSON, oversized bodies, sealed, denied: always {"errors":[…]} with Vault\'s status', async (t) => {
  const sim = await startVaultSim({ shares: 1, threshold: 1, kvMounts: [{ path: 'secret', version: 2 }] });
  t.after(() => sim.close());
  const call = async (method: string, p: string, body?: string, token = sim.rootToken) => {
    const res = await fetch(`${sim.url}${p}`, { method, headers: { 'x-vault-token': token, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    const json = text === '' ? undefined : JSON.parse(text) as unknown;
    assert.deepEqual(vaultErrorShape(res.status, json, res.headers.get('content-type') ?? ''), [], `${method} ${p}`);
    return { status: res.status, json };
  };
  assert.deepEqual(await call('GET', '/v1/nope/x'), { status: 404, json: { errors: ['no handler for route "nope/x". route entry not found.'] } });
  assert.deepEqual(await call('GET', '/v1/sys/nope'), { status: 404, json: { errors: ['1 error occurred:\n\t* unsupported path\n\n'] } });
  assert.deepEqual(await call('DELETE', '/v1/sys/auth'), { status: 405, json: { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] } });
  assert.deepEqual(await call('DELETE', '/v1/sys/seal-status'), { status: 405, json: { errors: [] } });
  assert.deepEqual(await call('OPTIONS', '/v1/sys/mounts'), { status: 405, json: { errors: [] } });
  assert.deepEqual(await call('GET', '/nowhere'), { status: 404, json: { errors: [] } });
  // The one 404 that is not the errors shape (vault-plugin-secrets-kv pathInvalid: RespondWithStatusCode of a warning).
  const v1Style = await fetch(`${sim.url}/v1/secret/foo`, { headers: { 'x-vault-token': sim.rootToken } });
  const v1Body = await v1Style.json() as Json;
  assert.deepEqual([v1Style.status, v1Body['data'], (v1Body['warnings'] as string[])[0]?.startsWith('Invalid path for a versioned K/V secrets engine.')], [404, null, true]);
  assert.deepEqual(await call('POST', '/v1/secret/data/a', '{"data": '), { status: 400, json: { errors: ['failed to parse JSON input: unexpected EOF'] } });
  assert.deepEqual(await call('POST', '/v1/secret/data/a', 'nope'), { status: 400, json: { errors: ['failed to parse JSON input: invalid character \'n\' looking for beginning of value'] } });
  assert.deepEqual(await call('POST', '/v1/secret/data/a', '[1]'), { status: 400, json: { errors: ['failed to parse JSON input: json: cannot unmarshal array into Go value of type map[string]interface {}'] } });
  assert.deepEqual(await call('PUT', '/v1/sys/unseal', '{'), { status: 400, json: { errors: ['failed to parse JSON input: unexpected EOF'] } });
  assert.equal((await call('POST', '/v1/secret/data/big', JSON.stringify({ data: { v: 'x'.repeat(33 * 1024 * 1024) } }))).status, 413);
  assert.equal((await call('GET', '/v1/secret/data/a?list=maybe')).status, 400);
  assert.equal((await call('GET', '/v1/sys/mounts', undefined, 'hvs.unknown')).status, 403);
  await call('PUT', '/v1/sys/seal');
  assert.deepEqual(await call('GET', '/v1/secret/data/a'), { status: 503, json: { errors: ['Vault is sealed'] } });
  sim.faults.add({ path: '^/v1/sys/seal-status', status: 429, times: 1 });
  assert.equal((await call('GET', '/v1/sys/seal-status')).status, 429, 'injected faults answer the errors shape too');
});

/** The set of key paths of a JSON value, arrays folded (`a.b[].c`). */
function keyPaths(v: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(v)) { for (const x of v) for (const k of keyPaths(x, `${prefix}[]`)) out.add(k); return out; }
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.add(p);
    for (const s of keyPaths(x, p)) out.add(s);
  }
  return out;
}

test('audit lines have the keys, at every depth, of real Vault 1.17/1.18 lines for the same operations (shared/data/vault-audit)', async (t) => {
  const samples = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (samples === undefined) return;
  const real = readFileSync(samples, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json);
  const find = (type: string, path: string, year: string) => real.find((l) => l['type'] === type && (l['request'] as Json | undefined)?.['path'] === path && String(l['time']).startsWith(year));
  const realKvRead = find('response', 'secret/data/mysimplesecret', '2025'); // Vault 1.18, root token (FORMAT.md S15)
  const realLookup = find('response', 'auth/token/lookup-self', '2024-08'); // Vault 1.17, a login token (S14)
  assert.ok(realKvRead !== undefined && realLookup !== undefined);

  const file = join(mkdtempSync(join(tmpdir(), 'vault-audit-')), 'audit.log');
  const { sim, layout } = await startLabVault({ shares: 1, threshold: 1, auditFile: file });
  t.after(() => sim.close());
  const v = async (method: string, p: string, body?: unknown, token = sim.rootToken) => {
    const res = await fetch(`${sim.url}/v1/${p}`, { method, headers: { 'x-vault-token': token }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return text === '' ? undefined : JSON.parse(text) as Json;
  };
  await v('POST', 'secret/data/mysimplesecret', { data: { password: 'p', username: 'u' } });
  await v('GET', 'secret/data/mysimplesecret');
  const sid = ((await v('POST', 'auth/approle/role/acme-app/secret-id'))?.['data'] as Json)['secret_id'];
  const login = (await v('POST', 'auth/approle/login', { role_id: layout.roleIds['acme-app'], secret_id: sid }, ''))?.['auth'] as Json;
  await v('GET', 'auth/token/lookup-self', undefined, String(login['client_token']));
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Json);
  const mine = (type: string, p: string, op: string) => lines.find((l) => l['type'] === type && (l['request'] as Json)['path'] === p && (l['request'] as Json)['operation'] === op);

  const diff = (a: Set<string>, b: Set<string>) => ({ onlyReal: [...a].filter((k) => !b.has(k)).sort(), onlyLab: [...b].filter((k) => !a.has(k)).sort() });
  assert.deepEqual(diff(keyPaths(realKvRead), keyPaths(mine('response', 'secret/data/mysimplesecret', 'read'))), { onlyReal: [], onlyLab: [] }, 'KV v2 read with the root token, response entry');
  const realRequest = { ...realKvRead, type: 'request', response: undefined };
  assert.deepEqual(diff(keyPaths(JSON.parse(JSON.stringify(realRequest))), keyPaths(mine('request', 'secret/data/mysimplesecret', 'read'))), { onlyReal: [], onlyLab: [] }, 'its request entry: the same without response');
  // The lab has no identity store (no entity ids) and the real token had been renewed once (last_renewal*).
  // Metadata keys are the auth method's own (jwt: role, approle: role_name), so only the metadata maps themselves are compared.
  const noIdentity = (s: Set<string>) => new Set([...s].filter((k) => !['auth.entity_id', 'response.data.last_renewal', 'response.data.last_renewal_time'].includes(k) && !/(^auth\.metadata|^response\.data\.meta)\./.test(k)));
  assert.deepEqual(diff(noIdentity(keyPaths(realLookup)), noIdentity(keyPaths(mine('response', 'auth/token/lookup-self', 'read')))), { onlyReal: [], onlyLab: [] }, 'lookup-self with a login token');
});

/**
 * The vendor document's view of a body where Vault's code and its
 * generated schemas disagree (code wins): maps Vault sends as null
 * (`custom_metadata`, `options`: real audit lines show `custom_metadata:null`)
 * are typed non-nullable objects, and duration fields Vault answers in
 * seconds (`int64(d.Seconds())` in tokenutil and approle) are typed strings.
 */
function specView(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(specView);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => {
    if (x === null && (k === 'custom_metadata' || k === 'options')) return [k, {}];
    if (typeof x === 'number' && /(^|_)(ttl|period)$/.test(k) && !/lease_ttl$/.test(k)) return [k, String(x)];
    return [k, specView(x)];
  }));
}

test('the lab Vault under the OpenAPI-driven fuzzer: documented statuses, data validating against the vendor schemas, errors always {"errors":[…]}', async (t) => {
  const path = sharedFile(t, 'specs/vault/openapi.vault-client-go.json');
  if (path === undefined) return;
  const spec = new OpenApiContract(path);
  const { sim } = await startLabVault({ shares: 1, threshold: 1, auditFile: join(mkdtempSync(join(tmpdir(), 'vault-fuzz-')), 'audit.log') });
  t.after(() => sim.close());
  const ops = ([
    ['GET', '/sys/seal-status'], ['GET', '/sys/health'], ['GET', '/sys/leader'], ['GET', '/sys/auth'], ['GET', '/sys/auth/{path}'], ['GET', '/sys/auth/{path}/tune'], ['GET', '/sys/mounts'],
    ['GET', '/sys/key-status'], ['GET', '/sys/rekey/init'], ['GET', '/sys/generate-root/attempt'], ['GET', '/sys/policies/acl/{name}'], ['POST', '/sys/audit-hash/{path}'],
    ['GET', '/auth/token/lookup-self'], ['GET', '/auth/{approle_mount_path}/role/{role_name}'], ['GET', '/auth/{approle_mount_path}/role/{role_name}/role-id'],
    ['POST', '/auth/{approle_mount_path}/role/{role_name}/secret-id'], ['GET', '/auth/{jwt_mount_path}/role/{name}'], ['GET', '/auth/{userpass_mount_path}/users/{username}'],
    ['GET', '/{kv_v2_mount_path}/data/{path}'], ['POST', '/{kv_v2_mount_path}/data/{path}'], ['GET', '/{kv_v2_mount_path}/metadata/{path}'], ['GET', '/{kv_v1_mount_path}/{path}'],
  ] as const).map(([method, template]) => ({ method, template, ...(method === 'POST' && template.includes('data') ? { body: () => ({ json: { data: { password: 'fuzz' } } }) } : {}) }));
  const errorProblems: string[] = [];
  const report = await fuzz({
    spec, baseUrl: `${sim.url}/v1`, seed: 20261210, requests: 600, operations: ops,
    values: {
      path: ['approle', 'jwt', 'userpass', 'tenants/acme/database', 'tenants/globex/smtp', 'acme/payments', 'globex/payments', 'initech/payments', 'acme/payments', 'globex/payments', 'file'], kv_v2_mount_path: ['secret'], kv_v1_mount_path: ['api_keys'],
      approle_mount_path: ['approle'], jwt_mount_path: ['jwt'], userpass_mount_path: ['userpass'], role_name: ['acme-app', 'globex-app'], name: ['acme-ci', 'tenant-acme', 'default'], username: ['operator'],
    },
    // Vault refuses a missing or bad token with 400/403, not 401: every operation is marked open here and the token checks live in the tests above.
    publicTemplates: new Set(ops.map((o) => o.template)),
    auth: () => ({ 'x-vault-token': sim.rootToken }), badAuth: { 'x-vault-token': 'hvs.bad' },
    errorShape: (status, body) => vaultErrorShape(status, body),
    equivalentMethods: { PUT: 'POST' },
    // (Not under secret/: a KV v1-style path on a v2 mount is Vault's 404 envelope with a warning, asserted in the error-shape test.)
    unknownPath: (n) => [`/nope/${n}`, '/sys/nope', `/auth/approle/nope/${n}`][n % 3] ?? '/nope',
    divergence: (r: FuzzResult) => {
      // Errors: the spec documents none; CONTRACTS.md §2.0 gives their shape.
      if (r.status >= 400 && !(r.template === '/sys/health' && r.status === 503)) { for (const e of vaultErrorShape(r.status, r.body, r.contentType)) errorProblems.push(`${r.method} ${r.url} ${r.status}: ${e}`); return 'skip'; }
      if (r.status === 204) return 'skip'; // respondOk(nil): clients accept 204 where the spec says 200 (CONTRACTS.md §2.0)
      if (r.template === '/sys/rekey/init') return 'status-only'; // the spec types "started" as a string; Vault answers a bool
      if (r.template !== undefined && spec.mediaTypes(r.method, r.template, r.status).length === 0) return 'status-only'; // documented without a body
      const b = r.body as Json | undefined;
      return b !== undefined && 'request_id' in b ? { body: specView(b['data']) } : undefined; // logical responses: the schema is that of `data`
    },
  });
  t.diagnostic(`${report.sent} requests; statuses: ${JSON.stringify(report.statuses)}`);
  assert.deepEqual(report.failures, []);
  assert.deepEqual(errorProblems, []);
  assert.deepEqual(unreached(report, ops), [], 'every operation answered 2xx at least once');
});
