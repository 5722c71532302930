import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { decrypt, generateKey, readMessage, readPrivateKey, readKey } from 'openpgp';
import { startVaultSim, type VaultSim } from '../../src/lab/vault/vault-sim.ts';
import { startLabVault } from '../../src/lab/vault/vault-layout.ts';

type Json = Record<string, unknown>;

function client(sim: VaultSim) {
  /** `token` '' sends none; omitted, the root token. */
  return async (method: string, path: string, body?: unknown, token: string = sim.rootToken): Promise<{ status: number; json: Json | undefined; text: string }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== '') headers['x-vault-token'] = token;
    const res = await fetch(`${sim.url}/v1/${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) as Json, text };
  };
}

test('init splits a real Shamir key: any threshold of shares combine to the same key, unseal counts progress, ignores a repeated share and refuses a foreign one with Vault\'s 400', async (t) => {
  const sim = await startVaultSim({ initialized: false });
  t.after(() => sim.close());
  const v = client(sim);
  assert.deepEqual((await v('GET', 'sys/init')).json, { initialized: false });
  assert.deepEqual((await v('POST', 'sys/init', { secret_shares: 3, secret_threshold: 5 })).json, { errors: ['threshold cannot be larger than shares'] });
  const init = await v('POST', 'sys/init', { secret_shares: 5, secret_threshold: 3 });
  assert.equal(init.status, 200);
  const keys = init.json?.['keys_base64'] as string[];
  assert.equal(keys.length, 5);
  assert.match(String(init.json?.['root_token']), /^hvs\.[A-Za-z0-9]{24}$/);
  assert.deepEqual((init.json?.['keys'] as string[]).map((h) => Buffer.from(h, 'hex').toString('base64')), keys, 'keys is the hex of keys_base64');
  const raw = keys.map((k) => new Uint8Array(Buffer.from(k, 'base64')));
  assert.ok(raw.every((k) => k.length === 33), 'Vault\'s share format: 32 key bytes + the x-coordinate');
  const a = Buffer.from(await combine([raw[0]!, raw[1]!, raw[2]!]));
  const b = Buffer.from(await combine([raw[4]!, raw[2]!, raw[3]!]));
  assert.deepEqual(a, b, 'any 3 of 5 shares reconstruct the same unseal key');
  assert.equal((await v('POST', 'sys/init', { secret_shares: 1, secret_threshold: 1 })).json?.['errors']?.toString(), 'Vault is already initialized');

  assert.deepEqual((await v('GET', 'secret/data/x')).json, { errors: ['Vault is sealed'] });
  assert.equal((await v('GET', 'sys/mounts')).status, 503);
  const first = await v('PUT', 'sys/unseal', { key: keys[0] });
  assert.deepEqual([first.json?.['sealed'], first.json?.['progress'], first.json?.['t'], first.json?.['n']], [true, 1, 3, 5]);
  const nonce = first.json?.['nonce'];
  assert.match(String(nonce), /^[0-9a-f-]{36}$/);
  assert.equal((await v('PUT', 'sys/unseal', { key: keys[0] })).json?.['progress'], 1, 'a repeated share is ignored, as Vault does');
  const foreign = await startVaultSim({ shares: 5, threshold: 3, unsealed: false });
  t.after(() => foreign.close());
  // Two foreign shares whose x-coordinates (the last byte) differ from keys[0]'s: the same x would be Shamir's "duplicate part detected" instead.
  const xOf = (k: string) => Buffer.from(k, 'base64').at(-1);
  const [f1, f2] = foreign.unsealKeys.filter((k) => xOf(k) !== xOf(keys[0] ?? ''));
  await v('PUT', 'sys/unseal', { key: f1 });
  const wrong = await v('PUT', 'sys/unseal', { key: f2 });
  assert.equal(wrong.status, 400);
  assert.deepEqual(wrong.json, { errors: ['unable to retrieve stored keys: invalid key: failed to decrypt keys from storage: cipher: message authentication failed'] });
  assert.equal((await v('GET', 'sys/seal-status')).json?.['progress'], 0, 'a failed attempt resets the progress');
  assert.deepEqual((await v('PUT', 'sys/unseal', { key: 'not base64!' })).json, { errors: ['\'key\' must be a valid hex or base64 string'] });
  assert.deepEqual((await v('PUT', 'sys/unseal', {})).json, { errors: ['\'key\' must be specified in request body as JSON, or \'reset\' set to true'] });
  await v('PUT', 'sys/unseal', { key: keys[1] });
  assert.equal((await v('PUT', 'sys/unseal', { reset: true })).json?.['progress'], 0);
  for (const k of [keys[4], keys[0]]) await v('PUT', 'sys/unseal', { key: k });
  const done = await v('PUT', 'sys/unseal', { key: (init.json?.['keys'] as string[])[2] });
  assert.equal(done.json?.['sealed'], false, 'hex shares are accepted too');
  assert.equal(sim.sealed, false);
  assert.deepEqual((await v('PUT', 'sys/unseal', { reset: true })).json, { errors: ['vault is unsealed'] });
});

test('sealed: 503 everywhere but seal-status, health, unseal, init, leader; seal needs a privileged token; health codes and flags', async (t) => {
  const sim = await startVaultSim({ shares: 3, threshold: 2, kvMounts: [{ path: 'secret', version: 2 }] });
  t.after(() => sim.close());
  const v = client(sim);
  const limited = (await v('POST', 'auth/token/create', { policies: ['default'] })).json?.['auth'] as Json;
  const denied = await v('PUT', 'sys/seal', undefined, String(limited['client_token']));
  assert.deepEqual([denied.status, denied.json], [403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] }]);
  assert.deepEqual((await v('GET', 'sys/mounts', undefined, String(limited['client_token']))).json, { errors: ['1 error occurred:\n\t* permission denied\n\n'] });
  assert.deepEqual((await v('GET', 'sys/mounts', undefined, 'hvs.nope')).json, { errors: ['permission denied'] });
  assert.deepEqual((await v('GET', 'sys/mounts', undefined, '')).json, { errors: ['missing client token'] });
  assert.equal((await v('GET', 'sys/health')).status, 200);
  assert.equal((await v('PUT', 'sys/seal')).status, 204);
  assert.equal(sim.sealed, true);
  for (const [m, p] of [['GET', 'sys/mounts'], ['GET', 'secret/data/a'], ['POST', 'auth/token/create'], ['GET', 'sys/rekey/init'], ['PUT', 'sys/generate-root/attempt'], ['POST', 'sys/rotate'], ['PUT', 'sys/leases/revoke-prefix/auth/']] as const) {
    const r = await v(m, p, m === 'GET' ? undefined : {});
    assert.deepEqual([r.status, r.json], [503, { errors: ['Vault is sealed'] }], `${m} ${p}`);
  }
  const health = await v('GET', 'sys/health');
  assert.deepEqual([health.status, health.json?.['sealed'], health.json?.['initialized']], [503, true, true], 'health answers its own body, not the errors shape');
  assert.equal((await v('GET', 'sys/health?sealedcode=299')).status, 299);
  assert.equal((await fetch(`${sim.url}/v1/sys/health`, { method: 'HEAD' })).status, 503);
  assert.equal((await v('GET', 'sys/seal-status')).json?.['sealed'], true);
  assert.equal((await v('GET', 'sys/leader')).status, 200);
  assert.equal((await v('PUT', 'sys/seal')).status, 204, 'sealing a sealed Vault is a no-op');
  assert.equal((await v('GET', 'sys/seal-status', undefined)).status, 200);
  const uninit = await startVaultSim({ initialized: false });
  t.after(() => uninit.close());
  assert.equal((await fetch(`${uninit.url}/v1/sys/health`)).status, 501);
  assert.equal((await fetch(`${uninit.url}/v1/sys/health?uninitcode=200`)).status, 200);
});

test('rekey with PGP keys and verification: old shares rekey, each holder decrypts only their share, verification with the new shares, the old ones then fail; rotate bumps the term', async (t) => {
  const sim = await startVaultSim({ shares: 3, threshold: 2 });
  t.after(() => sim.close());
  const v = client(sim);
  const holders = await Promise.all([1, 2, 3].map((i) => generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: `holder ${i}` }], format: 'armored' })));
  const pubs = await Promise.all(holders.map(async (h) => Buffer.from((await readKey({ armoredKey: h.publicKey })).write()).toString('base64')));
  assert.deepEqual((await v('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: pubs.slice(0, 2) })).json, { errors: ['incorrect number of PGP keys for rekey'] });
  const init = await v('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys: pubs, require_verification: true });
  assert.equal(init.status, 200);
  assert.deepEqual([init.json?.['started'], init.json?.['t'], init.json?.['n'], init.json?.['required'], init.json?.['verification_required']], [true, 2, 3, 2, true]);
  assert.equal((init.json?.['pgp_fingerprints'] as string[]).length, 3);
  assert.deepEqual((await v('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 })).json, { errors: ['rekey already in progress'] });
  const nonce = String(init.json?.['nonce']);
  const old = sim.unsealKeys;
  const badNonce = await v('PUT', 'sys/rekey/update', { key: old[0], nonce: 'x' });
  assert.deepEqual(badNonce.json, { errors: [`incorrect nonce supplied; nonce for this rekey operation is "${nonce}"`] });
  assert.equal((await v('PUT', 'sys/rekey/update', { key: old[0], nonce })).json?.['progress'], 1);
  assert.deepEqual((await v('PUT', 'sys/rekey/update', { key: old[0], nonce })).json, { errors: ['given key has already been provided during this generation operation'] });
  const done = await v('PUT', 'sys/rekey/update', { key: old[1], nonce });
  assert.equal(done.json?.['complete'], true);
  const verificationNonce = String(done.json?.['verification_nonce']);
  const encrypted = done.json?.['keys_base64'] as string[];
  const newShares: string[] = [];
  for (const [i, h] of holders.entries()) {
    const privateKey = await readPrivateKey({ armoredKey: h.privateKey });
    const message = await readMessage({ binaryMessage: Buffer.from(encrypted[i] ?? '', 'base64') });
    // openpgp's result type names DOM stream types this project's lib lacks; for format 'binary' it is a Uint8Array.
    const { data } = await decrypt({ message, decryptionKeys: privateKey, format: 'binary' }) as unknown as { data: Uint8Array };
    newShares.push(Buffer.from(Buffer.from(data).toString(), 'hex').toString('base64'));
    const other = await readPrivateKey({ armoredKey: holders[(i + 1) % 3]?.privateKey ?? '' });
    await assert.rejects(decrypt({ message: await readMessage({ binaryMessage: Buffer.from(encrypted[i] ?? '', 'base64') }), decryptionKeys: other }), 'another holder cannot read this share');
  }
  assert.ok(newShares.every((s) => Buffer.from(s, 'base64').length === 33));
  // Until verified, the old shares still unseal.
  assert.equal((await v('PUT', 'sys/rekey/verify', { key: old[0], nonce: verificationNonce })).json?.['progress'], 1);
  const failed = await v('PUT', 'sys/rekey/verify', { key: old[1], nonce: verificationNonce });
  assert.deepEqual(failed.json, { errors: ['rekey verification failed; incorrect key shares supplied'] });
  const vn = String((await v('GET', 'sys/rekey/verify')).json?.['nonce']);
  assert.notEqual(vn, verificationNonce, 'a failed verification rotates the nonce');
  await v('PUT', 'sys/rekey/verify', { key: newShares[2], nonce: vn });
  const verified = await v('PUT', 'sys/rekey/verify', { key: newShares[0], nonce: vn });
  assert.deepEqual(verified.json, { nonce: vn, complete: true });
  assert.equal((await v('GET', 'sys/rekey/init')).json?.['started'], false);

  const before = (await v('GET', 'sys/key-status')).json?.['data'] as Json;
  assert.equal((await v('POST', 'sys/rotate')).status, 204);
  assert.equal(((await v('GET', 'sys/key-status')).json?.['data'] as Json)['term'], Number(before['term']) + 1);

  await v('PUT', 'sys/seal');
  await v('PUT', 'sys/unseal', { key: old[0] });
  assert.equal((await v('PUT', 'sys/unseal', { key: old[1] })).status, 400, 'the old shares no longer unseal');
  await v('PUT', 'sys/unseal', { key: newShares[1] });
  assert.equal((await v('PUT', 'sys/unseal', { key: newShares[2] })).json?.['sealed'], false, 'the new shares do');
});

test('generate-root: OTP from the attempt, progress with the shares, encoded token XOR the OTP is a working root token', async (t) => {
  const sim = await startVaultSim({ shares: 3, threshold: 2 });
  t.after(() => sim.close());
  const v = client(sim);
  const attempt = await v('PUT', 'sys/generate-root/attempt', {});
  const otp = String(attempt.json?.['otp']);
  assert.equal(otp.length, 28);
  assert.deepEqual((await v('PUT', 'sys/generate-root/attempt', {})).json, { errors: ['root generation already in progress'] });
  const nonce = String(attempt.json?.['nonce']);
  assert.equal((await v('PUT', 'sys/generate-root/update', { key: sim.unsealKeys[2], nonce })).json?.['progress'], 1);
  const done = await v('PUT', 'sys/generate-root/update', { key: sim.unsealKeys[0], nonce });
  assert.equal(done.json?.['complete'], true);
  const encoded = Buffer.from(String(done.json?.['encoded_token']), 'base64');
  const token = Buffer.from(encoded.map((b, i) => b ^ otp.charCodeAt(i))).toString();
  assert.match(token, /^hvs\./);
  const self = await v('GET', 'auth/token/lookup-self', undefined, token);
  assert.deepEqual((self.json?.['data'] as Json)['policies'], ['root']);
  assert.equal((await v('GET', 'sys/generate-root/attempt')).json?.['started'], false);
});

test('auth mounts: roles, logins, tokens by path; revoke-prefix and disabling a mount revoke its tokens and drop its roles', async (t) => {
  const { sim, layout } = await startLabVault({ shares: 1, threshold: 1 });
  t.after(() => sim.close());
  const v = client(sim);
  const list = (await v('GET', 'sys/auth')).json as Json;
  assert.deepEqual(Object.keys(list['data'] as Json).sort(), ['approle/', 'jwt/', 'token/', 'userpass/']);
  assert.equal(((list['data'] as Json)['approle/'] as Json)['type'], 'approle');
  const role = 'acme-app';
  const secret = (await v('POST', `auth/approle/role/${role}/secret-id`)).json?.['data'] as Json;
  const login = await v('POST', 'auth/approle/login', { role_id: layout.roleIds[role], secret_id: secret['secret_id'] }, '');
  const auth = login.json?.['auth'] as Json;
  assert.deepEqual(auth['policies'], ['default', 'tenant-acme']);
  assert.equal(auth['lease_duration'], 3600);
  assert.deepEqual((await v('POST', 'auth/approle/login', { role_id: layout.roleIds[role], secret_id: 'nope' }, '')).json, { errors: ['invalid role or secret ID'] });
  const appToken = String(auth['client_token']);
  const looked = (await v('GET', 'auth/token/lookup-self', undefined, appToken)).json?.['data'] as Json;
  assert.equal(looked['path'], 'auth/approle/login');
  const read = await v('GET', 'secret/data/tenants/acme/database', undefined, appToken);
  assert.equal(((read.json?.['data'] as Json)['data'] as Json)['username'], 'acme_app', 'the tenant policy grants its own secrets');
  assert.equal((await v('GET', 'secret/data/tenants/globex/database', undefined, appToken)).status, 403);
  await v('PUT', 'sys/policies/acl/operator', { policy: 'path "auth/token/create" {\n  capabilities = ["update"]\n}\n' });
  await v('POST', 'auth/userpass/users/operator', { token_policies: ['operator'] });
  const user = (await v('POST', 'auth/userpass/login/operator', { password: layout.operator.password }, '')).json?.['auth'] as Json;
  const child = (await v('POST', 'auth/token/create', { policies: ['default'] }, String(user['client_token']))).json?.['auth'] as Json;
  const other = (await v('POST', 'auth/token/create', { policies: ['default'], ttl: '10m' })).json?.['auth'] as Json;
  assert.equal(other['lease_duration'], 600);

  assert.equal((await v('PUT', 'sys/leases/revoke-prefix/auth/userpass/')).status, 204);
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, String(user['client_token']))).status, 403);
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, String(child['client_token']))).status, 403, 'children go with their parent');
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, appToken)).status, 200, 'other mounts are untouched');

  const jwtRole = (await v('GET', 'auth/jwt/role/acme-ci')).json?.['data'] as Json;
  assert.deepEqual([jwtRole['user_claim'], jwtRole['bound_audiences']], ['sub', ['vault.acme.lab']]);
  assert.equal((await v('DELETE', 'sys/auth/approle')).status, 204);
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, appToken)).status, 403, 'disabling the mount revoked its token');
  assert.equal((await v('DELETE', 'sys/auth/approle')).status, 204, 'disabling an absent mount is 204 too');
  assert.equal((await v('POST', 'sys/auth/approle', { type: 'approle' })).status, 204);
  assert.equal((await v('GET', `auth/approle/role/${role}`)).status, 404, 'the roles went with the mount');
  await v('POST', `auth/approle/role/${role}`, { token_policies: ['tenant-acme'] });
  await v('POST', `auth/approle/role/${role}/role-id`, { role_id: layout.roleIds[role] });
  assert.equal(((await v('GET', `auth/approle/role/${role}/role-id`)).json?.['data'] as Json)['role_id'], layout.roleIds[role], 'a re-created role keeps its role_id');
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, String(other['client_token']))).status, 200);
  assert.equal((await v('POST', 'auth/token/revoke-accessor', { accessor: other['accessor'] })).status, 204);
  assert.equal((await v('GET', 'auth/token/lookup-self', undefined, String(other['client_token']))).status, 403);
  assert.deepEqual((await v('POST', 'sys/auth/jwt', { type: 'jwt' })).json, { errors: ['path is already in use at jwt/'] });
});

test('KV v2: versions, soft delete answers 404 with data null and metadata, undelete, destroy, cas, max_versions, list; KV v1', async (t) => {
  const sim = await startVaultSim({ shares: 1, threshold: 1, kvMounts: [{ path: 'secret', version: 2 }, { path: 'api_keys', version: 1 }] });
  t.after(() => sim.close());
  const v = client(sim);
  for (const n of [1, 2, 3]) assert.equal(((await v('POST', 'secret/data/tenants/acme/db', { data: { password: `p${n}` } })).json?.['data'] as Json)['version'], n);
  assert.deepEqual((await v('POST', 'secret/data/tenants/acme/db', { data: { password: 'x' }, options: { cas: 1 } })).json, { errors: ['check-and-set parameter did not match the current version'] });
  assert.equal(((await v('GET', 'secret/data/tenants/acme/db?version=2')).json?.['data'] as Json)['data'] !== null, true);
  assert.equal((await v('DELETE', 'secret/data/tenants/acme/db')).status, 204);
  const gone = await v('GET', 'secret/data/tenants/acme/db');
  assert.equal(gone.status, 404);
  const goneData = gone.json?.['data'] as Json;
  assert.equal(goneData['data'], null);
  assert.notEqual((goneData['metadata'] as Json)['deletion_time'], '');
  assert.equal((goneData['metadata'] as Json)['version'], 3);
  assert.equal((await v('POST', 'secret/undelete/tenants/acme/db', { versions: [3] })).status, 204);
  assert.equal((((await v('GET', 'secret/data/tenants/acme/db')).json?.['data'] as Json)['data'] as Json)['password'], 'p3');
  await v('POST', 'secret/destroy/tenants/acme/db', { versions: [2] });
  const destroyed = await v('GET', 'secret/data/tenants/acme/db?version=2');
  assert.deepEqual([destroyed.status, ((destroyed.json?.['data'] as Json)['metadata'] as Json)['destroyed']], [404, true]);
  const meta = (await v('GET', 'secret/metadata/tenants/acme/db')).json?.['data'] as Json;
  assert.equal(meta['current_version'], 3);
  assert.deepEqual(Object.keys(meta['versions'] as Json), ['1', '2', '3']);
  await v('POST', 'secret/metadata/tenants/acme/db', { max_versions: 2 });
  await v('POST', 'secret/data/tenants/acme/db', { data: { password: 'p4' } });
  assert.deepEqual(Object.keys(((await v('GET', 'secret/metadata/tenants/acme/db')).json?.['data'] as Json)['versions'] as Json), ['3', '4']);
  await v('POST', 'secret/data/tenants/globex/db', { data: { password: 'g' } });
  assert.deepEqual(((await v('GET', 'secret/metadata/tenants?list=true')).json?.['data'] as Json)['keys'], ['acme/', 'globex/']);
  assert.deepEqual((await v('GET', 'secret/metadata/nothing?list=true')).json, { errors: [] });
  assert.deepEqual((await v('GET', 'secret/data/none')).json, { errors: [] });
  assert.equal((await v('POST', 'api_keys/acme/payments', { key: 'k1' })).status, 204);
  assert.equal(((await v('GET', 'api_keys/acme/payments')).json?.['data'] as Json)['key'], 'k1');
  assert.deepEqual(((await v('GET', 'api_keys?list=true')).json?.['data'] as Json)['keys'], ['acme/']);
  assert.equal((await v('DELETE', 'secret/metadata/tenants/acme/db')).status, 204);
  assert.equal((await v('GET', 'secret/data/tenants/acme/db')).status, 404);
});

test('file audit device: request and response lines with HMACed tokens and data, audit-hash equals an HMAC computed here with the device salt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vault-audit-'));
  const file = join(dir, 'audit.log');
  const sim = await startVaultSim({ shares: 1, threshold: 1, kvMounts: [{ path: 'secret', version: 2 }] });
  t.after(() => sim.close());
  const v = client(sim);
  assert.equal((await v('PUT', 'sys/audit/file', { type: 'file', options: { file_path: file } })).status, 204);
  const listed = (await v('GET', 'sys/audit')).json?.['data'] as Json;
  assert.equal(((listed['file/'] as Json)['options'] as Json)['file_path'], file);
  await v('POST', 'secret/data/tenants/acme/db', { data: { password: 'hunter2' } });
  await v('GET', 'secret/data/tenants/acme/db');
  const salt = sim.state.audit.devices.get('file/')?.salt ?? '';
  const mine = (s: string) => `hmac-sha256:${createHmac('sha256', salt).update(s).digest('hex')}`;
  const hashed = await v('POST', 'sys/audit-hash/file', { input: 'hunter2' });
  assert.equal((hashed.json?.['data'] as Json)['hash'], mine('hunter2'));
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Json);
  assert.equal((lines[0]?.['request'] as Json)['path'], 'sys/audit/test', 'the probe Vault writes through a new device');
  const write = lines.find((l) => l['type'] === 'request' && (l['request'] as Json)['path'] === 'secret/data/tenants/acme/db');
  assert.equal((write?.['request'] as Json)['operation'], 'create');
  assert.deepEqual((write?.['request'] as Json)['data'], { data: { password: mine('hunter2') } });
  assert.equal((write?.['auth'] as Json)['client_token'], mine(sim.rootToken));
  const readResp = lines.find((l) => l['type'] === 'response' && (l['request'] as Json)['operation'] === 'read' && (l['request'] as Json)['path'] === 'secret/data/tenants/acme/db');
  const respData = (readResp?.['response'] as Json)['data'] as Json;
  assert.equal((respData['data'] as Json)['password'], mine('hunter2'));
  assert.equal((respData['metadata'] as Json)['version'], 1, 'numbers stay plain');
  assert.ok(!readFileSync(file, 'utf8').includes('hunter2') && !readFileSync(file, 'utf8').includes(sim.rootToken), 'no secret or token in clear');
  assert.ok(lines.every((l) => JSON.stringify(Object.keys(l)) === JSON.stringify(Object.keys(l).sort())), 'keys are sorted, time and type last');
  assert.ok(!lines.some((l) => (l['request'] as Json)['path'] === 'sys/seal-status'), 'unaudited endpoints never appear');
});
