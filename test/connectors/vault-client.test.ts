import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, generateKey, readMessage } from 'openpgp';
import { createVaultClient, decodeRootToken, isVaultSealed, vaultReasonOf, type GenerateRootStatus, type RekeyUpdate, type VaultClient } from '../../src/connectors/vault/vault-client.ts';
import { parseConfig } from '../../src/config/index.ts';
import { executorResolver, probeSystems } from '../../src/app/app-systems.ts';
import { createPlatform } from '../../src/playbooks/platform.ts';
import { startVaultSim, type VaultSim } from '../../src/lab/vault/vault-sim.ts';
import { createLabVaultLayout } from '../../src/lab/vault/vault-layout.ts';
import { vaultErrorMessages } from '../../src/connectors/vault/vault-http.ts';
import { FirebreakError, toErrorData } from '../../src/lib/errors.ts';
import { createLogger, silentLogger } from '../../src/lib/log.ts';
import { Secret } from '../../src/lib/secret.ts';
import { startFakeHttp, type FakeReply, type SeenRequest } from '../helpers/fake-http.ts';

const TOKEN_VALUE = 'hvs.CANARY7f3e9a1b2c4d5e6f70819a';
const token = new Secret(TOKEN_VALUE);
const SHARE_VALUE = 'c2hhcmUtY2FuYXJ5LXNlY3JldC12YWx1ZQ==';

/** A client whose every log line is captured (at debug level). */
function clientFor(url: string, extra: { namespace?: string } = {}): { client: VaultClient; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => { lines.push(s); } } });
  return { client: createVaultClient({ url, token, ...extra }, { logger }), lines };
}

async function caught(p: Promise<unknown>): Promise<FirebreakError> {
  try { await p; } catch (err) {
    assert.ok(err instanceof FirebreakError, `a FirebreakError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected a rejection');
}

/** No captured text may hold the token or the share. */
function assertClean(texts: readonly string[]): void {
  for (const t of texts) {
    assert.ok(!t.includes(TOKEN_VALUE), `token leaked: ${t}`);
    assert.ok(!t.includes(SHARE_VALUE), `share leaked: ${t}`);
  }
}

test('the token travels only in X-Vault-Token (with X-Vault-Request and the namespace); unauthenticated sys endpoints get none', async () => {
  const fake = await startFakeHttp((r) => r.url.startsWith('/v1/sys/seal-status')
    ? { status: 200, json: { type: 'shamir', initialized: true, sealed: true, t: 3, n: 5, progress: 2, nonce: '', version: '1.19.0' } }
    : { status: 204 });
  const { client, lines } = clientFor(fake.url, { namespace: 'ops/' });
  try {
    await client.sys.seal();
    const status = await client.sys.sealStatus();
    assert.deepEqual([status.sealed, status.t, status.n, status.progress], [true, 3, 5, 2]);
    const [seal, sealStatus] = fake.requests;
    assert.equal(seal?.method, 'POST');
    assert.equal(seal?.url, '/v1/sys/seal');
    assert.equal(seal?.headers['x-vault-token'], TOKEN_VALUE);
    assert.equal(seal?.headers['x-vault-request'], 'true');
    assert.equal(seal?.headers['x-vault-namespace'], 'ops/');
    assert.equal(sealStatus?.headers['x-vault-token'], undefined, 'seal-status is unauthenticated: no token sent');
    for (const r of fake.requests) assert.ok(!r.url.includes(TOKEN_VALUE) && !r.body.includes(TOKEN_VALUE));
    assert.ok(lines.length >= 2, 'the http client logged its calls');
    assertClean(lines);
  } finally { await client.close(); await fake.close(); }
});

/** Recorded Vault answers (CONTRACTS.md §2.0–2.8), by request path. */
const RECORDED: Readonly<Record<string, FakeReply>> = {
  '/v1/sys/auth': { status: 503, json: { errors: ['Vault is sealed'] } },
  '/v1/sys/rotate': { status: 403, json: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } },
  '/v1/sys/rekey/init': { status: 400, json: { errors: ['rekey already in progress'] } },
  '/v1/sys/mounts': { status: 429, json: { errors: ['request path "sys/mounts": rate limit quota exceeded'] }, headers: { 'retry-after': '7' } },
  '/v1/sys/key-status': { status: 472, json: { errors: [] } },
  '/v1/sys/audit': { status: 473, json: { errors: [] } },
  '/v1/auth/token/lookup-self': { status: 500, json: { errors: ['1 error occurred:\n\t* internal error\n\n'] } },
  '/v1/sys/seal': { status: 405, json: { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] } },
  '/v1/sys/auth/approle/tune': { status: 404, json: { errors: ['1 error occurred:\n\t* unsupported path\n\n'] } },
};

test('Vault\'s error bodies map to the catalogue with Vault\'s message: sealed (not retryable), 403, 400, 429/472/473 and 5xx (retryable), 404, 405', async () => {
  const fake = await startFakeHttp((r) => RECORDED[r.url.split('?')[0] ?? ''] ?? { status: 599 });
  const { client, lines } = clientFor(fake.url);
  try {
    const sealed = await caught(client.auth.listAuthMethods());
    assert.deepEqual([sealed.code, sealed.retryable, isVaultSealed(sealed), sealed.details?.['status']], ['UNAVAILABLE', false, true, 503]);
    assert.match(sealed.message, /^vault at http:\/\/127\.0\.0\.1:\d+ answered 503 to GET \/v1\/sys\/auth: Vault is sealed — Vault is sealed: unseal it/);
    assert.equal(isVaultSealed(toErrorData(sealed)), true, 'the flag survives as stored data');

    const denied = await caught(client.sys.rotate());
    assert.deepEqual([denied.code, denied.retryable, vaultReasonOf(denied)], ['AUTH_FAILED', false, 'permission-denied']);
    assert.match(denied.message, /answered 403 to POST \/v1\/sys\/rotate: permission denied$/, 'the multierror wrapping is removed');

    const busy = await caught(client.rekey.init({ secretShares: 5, secretThreshold: 3 }));
    assert.deepEqual([busy.code, busy.retryable, vaultReasonOf(busy)], ['UPSTREAM_REJECTED', false, 'bad-request']);
    assert.match(busy.message, /: rekey already in progress$/);

    const limited = await caught(client.sys.listMounts());
    assert.deepEqual([limited.code, limited.retryable, vaultReasonOf(limited), limited.retryAfterMs], ['UNAVAILABLE', true, 'rate-limited', 7000]);

    const dr = await caught(client.sys.keyStatus());
    assert.deepEqual([dr.code, dr.retryable, vaultReasonOf(dr)], ['UNAVAILABLE', true, 'dr-secondary']);
    assert.match(dr.message, /DR secondary/);
    const perf = await caught(client.sys.listAuditDevices());
    assert.deepEqual([perf.retryable, vaultReasonOf(perf)], [true, 'performance-standby']);

    const internal = await caught(client.auth.lookupSelf());
    assert.deepEqual([internal.code, internal.retryable, vaultReasonOf(internal)], ['UNAVAILABLE', true, 'server-error']);
    assert.match(internal.message, /: internal error$/);

    const method = await caught(client.sys.seal());
    assert.deepEqual([method.code, vaultReasonOf(method)], ['UPSTREAM_REJECTED', 'unsupported-operation']);
    const path = await caught(client.auth.readAuthTune('approle'));
    assert.deepEqual([path.code, vaultReasonOf(path)], ['NOT_FOUND', 'not-found']);
    assert.match(path.message, /unsupported path/);
    assertClean([sealed, denied, busy, limited, dr, perf, internal, method, path].map((e) => `${e.message} ${JSON.stringify(toErrorData(e))}`).concat(lines));
  } finally { await client.close(); await fake.close(); }
});

test('a 503 without "Vault is sealed" (a proxy in front of Vault) is a retryable server error, not "sealed"', async () => {
  const fake = await startFakeHttp(() => ({ status: 503, text: '<html>no healthy upstream</html>' }));
  const { client } = clientFor(fake.url);
  try {
    const err = await caught(client.sys.listMounts());
    assert.deepEqual([err.code, err.retryable, isVaultSealed(err)], ['UNAVAILABLE', true, false]);
    assert.match(err.message, /no healthy upstream/);
  } finally { await client.close(); await fake.close(); }
});

test('a standby\'s redirect is not followed: the token is never sent to the address it names', async () => {
  const other = await startFakeHttp(() => ({ status: 204 }));
  const fake = await startFakeHttp(() => ({ status: 307, headers: { location: `${other.url}/v1/sys/seal` } }));
  const { client } = clientFor(fake.url);
  try {
    const err = await caught(client.sys.seal());
    assert.deepEqual([err.code, err.retryable, vaultReasonOf(err)], ['UNAVAILABLE', true, 'standby']);
    assert.match(err.message, new RegExp(`answered 307 to POST /v1/sys/seal \\(redirected to ${other.url.replace(/\./g, '\\.')}\\).*standby`));
    assert.equal(other.requests.length, 0);
  } finally { await client.close(); await fake.close(); await other.close(); }
});

test('health: 200, 429, 472, 473, 501 and 503 are states (the body read as well), anything else an error', async () => {
  let status = 200;
  const fake = await startFakeHttp(() => ({ status, json: { initialized: status !== 501, sealed: status === 503, standby: status === 429, performance_standby: status === 473, version: '1.19.0', cluster_name: 'vault-cluster-1' } }));
  const { client } = clientFor(fake.url);
  try {
    const seen: Record<number, string> = {};
    for (const s of [200, 429, 472, 473, 501, 503]) {
      status = s;
      const h = await client.sys.health();
      seen[s] = h.state;
      assert.equal(h.httpStatus, s);
      assert.equal(h.sealed, s === 503);
      assert.equal(h.version, '1.19.0');
    }
    assert.deepEqual(seen, { 200: 'active', 429: 'standby', 472: 'dr-secondary', 473: 'performance-standby', 501: 'not-initialized', 503: 'sealed' });
    status = 500;
    const broken = await caught(client.sys.health());
    assert.deepEqual([broken.code, broken.retryable, vaultReasonOf(broken)], ['UNAVAILABLE', true, 'server-error']);
    assert.equal(fake.requests.every((r) => r.headers['x-vault-token'] === undefined), true, 'health is unauthenticated');
  } finally { await client.close(); await fake.close(); }
});

test('a hostile mount, path or name cannot reach another route: refused with INVALID_INPUT naming its role, before any request', async () => {
  const fake = await startFakeHttp(() => ({ status: 204 }));
  const { client } = clientFor(fake.url);
  try {
    const cases: [Promise<unknown>, RegExp][] = [
      [client.auth.disableAuthMethod('../sys/seal'), /^vault: the auth mount "\.\.\/sys\/seal" is not usable: "\.\." segments are not allowed$/],
      [client.kv.v2.read('secret', 'app/../../sys/rotate'), /^vault: the KV path "app\/\.\.\/\.\.\/sys\/rotate" is not usable: "\.\." segments/],
      [client.kv.v2.write('secret', 'a//b', { k: 'v' }), /^vault: the KV path "a\/\/b" is not usable: it has an empty segment/],
      [client.kv.v1.read('', 'x'), /^vault: the KV mount "" is not usable: it is empty$/],
      [client.auth.readRole('approle', 'approle', 'web/../../x'), /^vault: the role name "web\/\.\.\/\.\.\/x" is not usable: it must be a single name/],
      [client.sys.auditHash('file\nx', 'v'), /^vault: the audit device "file\\nx" is not usable: it contains a control character$/],
      [client.auth.revokePrefix('auth/./approle/'), /^vault: the revoke prefix "auth\/\.\/approle\/" is not usable: "\." segments/],
      [client.kv.v2.destroy('secret', 'x', []), /versions must be positive integers/],
    ];
    for (const [p, re] of cases) {
      const err = await caught(p);
      assert.equal(err.code, 'INVALID_INPUT');
      assert.match(err.message, re);
    }
    assert.equal(fake.requests.length, 0, 'nothing was sent');
    // Characters that would end the path (?, #) or be taken for an encoding (%) are encoded, not interpreted.
    await client.kv.v2.delete('secret', 'a?b#c%2F');
    assert.equal(fake.requests[0]?.url, '/v1/secret/data/a%3Fb%23c%252F');
    await client.auth.revokePrefix('auth/approle/');
    assert.equal(fake.requests[1]?.url, '/v1/sys/leases/revoke-prefix/auth/approle/');
    assert.equal(fake.requests[1]?.method, 'PUT');
    assert.deepEqual(JSON.parse(fake.requests[1]?.body ?? ''), { sync: true });
    assert.throws(() => createVaultClient({ url: fake.url, namespace: 'a/../b' }), /the namespace "a\/\.\.\/b" is not usable/);
  } finally { await client.close(); await fake.close(); }
});

const meta = (version: number, extra: Record<string, unknown> = {}) => ({ created_time: '2025-01-02T03:04:05.000000Z', custom_metadata: null, deletion_time: '', destroyed: false, version, ...extra });
const envelope = (data: unknown) => ({ request_id: 'f00d', lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, mount_type: 'kv' });

/** KV answers as CONTRACTS.md §2.8 records them, for a v2 mount `secret/` and a v1 mount `legacy/`. */
function kvHandler(r: SeenRequest): FakeReply {
  const path = r.url.split('?')[0] ?? '';
  if (path.startsWith('/v1/sys/internal/ui/mounts/')) {
    const p = path.slice('/v1/sys/internal/ui/mounts/'.length);
    if (/^secret(\/|$)/.test(p)) return { status: 200, json: envelope({ path: 'secret/', type: 'kv', options: { version: '2' }, description: '' }) };
    if (p.startsWith('team/kv/')) return { status: 200, json: envelope({ path: 'team/kv/', type: 'kv', options: { version: '2' } }) };
    if (p.startsWith('legacy/')) return { status: 200, json: envelope({ path: 'legacy/', type: 'kv', options: null }) };
    if (p.startsWith('pki/')) return { status: 200, json: envelope({ path: 'pki/', type: 'pki', options: null }) };
    return { status: 403, json: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } };
  }
  switch (path) {
    case '/v1/secret/data/tb': return { status: 200, json: envelope({ data: { password: 'tb-password-value-1', user: 'admin', port: 5432 }, metadata: meta(3) }) };
    case '/v1/team/kv/data/app/db': return { status: 200, json: envelope({ data: { password: 'team-db-password-2' }, metadata: meta(1) }) };
    case '/v1/secret/data/gone': return { status: 404, json: envelope({ data: null, metadata: meta(2, { deletion_time: '2025-03-04T05:06:07.123456Z' }) }) };
    case '/v1/secret/data/burnt': return { status: 404, json: envelope({ data: null, metadata: meta(4, { destroyed: true }) }) };
    case '/v1/secret/data/empty': return { status: 200, json: envelope({ data: { password: '' }, metadata: meta(1) }) };
    case '/v1/legacy/svc': return { status: 200, json: envelope({ token: 'legacy-service-token-3' }) };
    case '/v1/secret/metadata/tb': return r.url.endsWith('?list=true') ? { status: 404, json: { errors: [] } }
      : { status: 200, json: envelope({ cas_required: false, created_time: 't0', current_version: 3, delete_version_after: '0s', max_versions: 0, oldest_version: 1, updated_time: 't3', custom_metadata: { owner: 'ops' }, versions: { 1: { created_time: 't1', deletion_time: '', destroyed: true }, 3: { created_time: 't3', deletion_time: '', destroyed: false } } }) };
    case '/v1/secret/metadata/apps/': return { status: 200, json: envelope({ keys: ['db', 'web/'] }) };
    default: return { status: 404, json: { errors: [] } };
  }
}

test('KV v2 reads: data as Secrets; absent is null; a soft-deleted version is "deleted" with its deletion time, a destroyed one "destroyed"', async () => {
  const fake = await startFakeHttp(kvHandler);
  const { client } = clientFor(fake.url);
  try {
    const tb = await client.kv.v2.read('secret', 'tb');
    assert.equal(tb?.state, 'present');
    assert.ok(tb?.state === 'present');
    assert.equal(tb.data['password']?.reveal(), 'tb-password-value-1');
    assert.equal(tb.data['port']?.reveal(), '5432', 'a non-string value is its JSON text');
    assert.equal(JSON.stringify(tb.data), '{"password":"[REDACTED]","user":"[REDACTED]","port":"[REDACTED]"}');
    assert.equal(tb.metadata.version, 3);
    assert.equal(await client.kv.v2.read('secret', 'nothing'), null);
    assert.deepEqual(await client.kv.v2.read('secret', 'gone'), { state: 'deleted', deletionTime: '2025-03-04T05:06:07.123456Z', metadata: { version: 2, createdTime: '2025-01-02T03:04:05.000000Z', deletionTime: '2025-03-04T05:06:07.123456Z', destroyed: false, customMetadata: null } });
    assert.equal((await client.kv.v2.read('secret', 'burnt'))?.state, 'destroyed');
    await client.kv.v2.read('secret', 'tb', { version: 2 });
    assert.equal(fake.requests.at(-1)?.url, '/v1/secret/data/tb?version=2');
    const m = await client.kv.v2.readMetadata('secret', 'tb');
    assert.deepEqual([m?.currentVersion, m?.versions['1']?.destroyed, m?.customMetadata], [3, true, { owner: 'ops' }]);
    assert.equal(await client.kv.v2.readMetadata('secret', 'nothing'), null);
    assert.deepEqual(await client.kv.v2.list('secret', 'apps'), ['db', 'web/']);
    assert.equal(fake.requests.at(-1)?.url, '/v1/secret/metadata/apps/?list=true');
    assert.deepEqual(await client.kv.v2.list('secret', 'tb'), [], 'an empty list (404 {"errors":[]}) is []');
  } finally { await client.close(); await fake.close(); }
});

test('a vault: reference: the mount and KV version come from sys/internal/ui/mounts, as the CLI finds them; errors name the reference, never a value', async () => {
  const fake = await startFakeHttp(kvHandler);
  const { client, lines } = clientFor(fake.url);
  try {
    assert.equal((await client.readReference('secret/tb', 'password')).reveal(), 'tb-password-value-1');
    assert.equal(fake.requests[0]?.url, '/v1/sys/internal/ui/mounts/secret/tb');
    assert.equal(fake.requests[1]?.url, '/v1/secret/data/tb');
    assert.equal((await client.readReference('team/kv/app/db', 'password')).reveal(), 'team-db-password-2', 'a mount of two segments');
    assert.equal((await client.readReference('legacy/svc', 'token')).reveal(), 'legacy-service-token-3', 'KV v1: no options.version');
    assert.deepEqual(await client.kv.locate('team/kv/app/db'), { mount: 'team/kv/', path: 'app/db', version: 2 });

    const failures: [string, string, RegExp, string][] = [
      ['secret/tb', 'nope', /^vault:secret\/tb#nope: tb in secret\/ has no key "nope" \(its keys: password, user, port\)$/, 'SECRET_UNAVAILABLE'],
      ['secret/nothing', 'password', /^vault:secret\/nothing#password: there is no secret nothing in the KV v2 mount secret\/$/, 'SECRET_UNAVAILABLE'],
      ['secret/gone', 'password', /^vault:secret\/gone#password: the latest version \(2\) of gone in secret\/ was deleted at 2025-03-04T05:06:07\.123456Z$/, 'SECRET_UNAVAILABLE'],
      ['secret/burnt', 'password', /was destroyed$/, 'SECRET_UNAVAILABLE'],
      ['secret/empty', 'password', /the key "password" of empty in secret\/ is empty$/, 'SECRET_UNAVAILABLE'],
      ['secret', 'password', /names the mount secret\/ itself/, 'SECRET_UNAVAILABLE'],
      ['pki/issue', 'x', /^vault:pki\/issue#x: vault: pki\/issue is under the pki engine mounted at pki\/, not a KV engine$/, 'INVALID_INPUT'],
      ['private/x', 'password', /^vault:private\/x#password: vault at .* answered 403 to GET \/v1\/sys\/internal\/ui\/mounts\/private\/x: permission denied$/, 'AUTH_FAILED'],
      ['secret/../sys', 'k', /^vault:secret\/\.\.\/sys#k: vault: the KV path "secret\/\.\.\/sys" is not usable/, 'INVALID_INPUT'],
    ];
    const messages: string[] = [];
    for (const [path, key, re, code] of failures) {
      const err = await caught(client.readReference(path, key));
      messages.push(err.message);
      assert.match(err.message, re);
      assert.equal(err.code, code);
    }
    for (const m of messages) assert.ok(!/tb-password-value-1|team-db-password-2|legacy-service-token-3/.test(m), m);
    assertClean([...messages, ...lines]);
  } finally { await client.close(); await fake.close(); }
});

test('a server without sys/internal/ui/mounts (404): the mount table, and without that (403) KV v1 under the first segment, as the CLI assumes', async () => {
  let mounts: FakeReply = { status: 200, json: envelope({ 'kv/': { type: 'kv', options: { version: '2' } }, 'kv/team/': { type: 'kv', options: null }, 'pki/': { type: 'pki' } }) };
  const fake = await startFakeHttp((r) => r.url === '/v1/sys/mounts' ? mounts
    : r.url === '/v1/kv/app/db' ? { status: 200, json: envelope({ password: 'old-vault-password' }) }
      : { status: 404, json: { errors: [] } });
  const { client } = clientFor(fake.url);
  try {
    assert.deepEqual(await client.kv.locate('kv/app/db'), { mount: 'kv/', path: 'app/db', version: 2 });
    assert.deepEqual(await client.kv.locate('kv/team/x'), { mount: 'kv/team/', path: 'x', version: 1 }, 'the longest mount wins');
    await assert.rejects(client.kv.locate('pki/x'), /under the pki engine mounted at pki\//);
    await assert.rejects(client.kv.locate('nothing/x'), /no secrets engine is mounted at nothing\/x/);
    mounts = { status: 403, json: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } };
    assert.deepEqual(await client.kv.locate('kv/app/db'), { mount: 'kv/', path: 'app/db', version: 1 });
    assert.equal((await client.readReference('kv/app/db', 'password')).reveal(), 'old-vault-password');
  } finally { await client.close(); await fake.close(); }
});

test('what Vault echoes back is redacted: the token and a submitted share never reach an error message or a log line', async () => {
  // A hostile or buggy server that repeats the request (headers and body) in its error.
  const fake = await startFakeHttp((r) => ({ status: 400, json: { errors: [`given key has already been provided: ${r.body} token=${String(r.headers['x-vault-token'])}`] } }));
  const { client, lines } = clientFor(fake.url);
  try {
    const share = new Secret(SHARE_VALUE);
    const errs = [
      await caught(client.sys.unseal(share)),
      await caught(client.rekey.update(share, 'nonce-1')),
      await caught(client.rekey.verify(share, 'nonce-2')),
      await caught(client.generateRoot.update(share, 'nonce-3')),
      await caught(client.auth.revokeToken(new Secret('hvs.ANOTHERtokenTOrevoke42'))),
      await caught(client.kv.v2.write('secret', 'x', { password: new Secret(SHARE_VALUE) })),
    ];
    assert.ok(fake.requests.some((r) => r.body.includes(SHARE_VALUE)), 'the share did go to Vault, in the body');
    for (const e of errs) assert.match(e.message, /given key has already been provided: .*\[REDACTED\]/);
    assert.ok(!errs.some((e) => e.message.includes('hvs.ANOTHERtokenTOrevoke42')));
    assertClean([...errs.map((e) => `${e.message} ${JSON.stringify(toErrorData(e))}`), ...lines]);
  } finally { await client.close(); await fake.close(); }
});

test('Vault\'s multierror text is unwrapped; an empty or foreign body gives no messages', () => {
  assert.deepEqual(vaultErrorMessages('{"errors":["1 error occurred:\\n\\t* permission denied\\n\\n"]}'), ['permission denied']);
  assert.deepEqual(vaultErrorMessages('{"errors":["2 errors occurred:\\n\\t* one\\n\\t* two\\n\\n"]}'), ['one', 'two']);
  assert.deepEqual(vaultErrorMessages('{"errors":[]}'), []);
  assert.deepEqual(vaultErrorMessages('<html>'), []);
});

test('generate-root: the encoded token XOR the OTP is the root token (current form), and the legacy UUID form', () => {
  // A published decode example (encoded token, OTP, otp_length 28).
  assert.equal(decodeRootToken('PzVHSRMXERYIFCl9IhIMKwUoMz8OJBEgXAIIdQ', new Secret('WC4gXgKrEUZIRDxHRNTiiUIf9GO8'), 28).reveal(), 'hvs.KpZdMAs4pVtcWfgVgqXFeEGM');
  // Round trip of the encoding Vault applies (base64 without padding of token XOR otp).
  const rootToken = 'hvs.rootTOKENfromTHEquorum00';
  const otp = 'abcdefghijklmnopqrstuvwxyz01';
  const encoded = Buffer.from([...Buffer.from(rootToken)].map((b, i) => b ^ otp.charCodeAt(i))).toString('base64').replace(/=+$/, '');
  assert.equal(decodeRootToken(encoded, new Secret(otp), otp.length).reveal(), rootToken);
  // Legacy: a base64 OTP of 16 bytes over a UUID's 16 bytes.
  const uuid = Buffer.from('5b1fd4a2e3c64e8f9a0b1c2d3e4f5a6b', 'hex');
  const pad = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const legacy = Buffer.from(uuid.map((b, i) => b ^ (pad[i] ?? 0))).toString('base64');
  assert.equal(decodeRootToken(legacy, new Secret(pad.toString('base64')), 0).reveal(), '5b1fd4a2-e3c6-4e8f-9a0b-1c2d3e4f5a6b');
  assert.throws(() => decodeRootToken(encoded, new Secret('short'), 5), /does not match the OTP/);
});

test('rekey and generate-root requests carry what CONTRACTS.md §2.4 and §2.9 name; the new shares and the OTP come back as Secrets', async () => {
  const fake = await startFakeHttp((r) => {
    if (r.url === '/v1/sys/rekey/init' && r.method === 'POST') return { status: 200, json: { started: true, nonce: 'n-1', t: 3, n: 5, progress: 0, required: 3, pgp_fingerprints: ['fp1', 'fp2'], backup: false, verification_required: true } };
    if (r.url === '/v1/sys/rekey/update') return { status: 200, json: { complete: true, nonce: 'n-1', keys: ['aa', 'bb'], keys_base64: ['qq==', 'uw=='], pgp_fingerprints: ['fp1', 'fp2'], backup: false, verification_required: true, verification_nonce: 'v-1' } };
    if (r.url === '/v1/sys/generate-root/attempt' && r.method === 'POST') return { status: 200, json: { started: true, nonce: 'g-1', progress: 0, required: 3, complete: false, encoded_token: '', otp: 'otp-value-of-28-characters00', otp_length: 28, pgp_fingerprint: '' } };
    return { status: 204 };
  });
  const { client } = clientFor(fake.url);
  try {
    const started = await client.rekey.init({ secretShares: 2, secretThreshold: 2, pgpKeys: ['a2V5MQ==', 'a2V5Mg=='], requireVerification: true });
    assert.deepEqual([started.nonce, started.verificationRequired, started.pgpFingerprints], ['n-1', true, ['fp1', 'fp2']]);
    assert.deepEqual(JSON.parse(fake.requests[0]?.body ?? ''), { secret_shares: 2, secret_threshold: 2, pgp_keys: ['a2V5MQ==', 'a2V5Mg=='], backup: false, require_verification: true });
    const done = await client.rekey.update(new Secret('old-share-value-1'), 'n-1');
    assert.ok(done.complete);
    assert.deepEqual([done.keys.map((k) => k.reveal()), done.verificationNonce], [['aa', 'bb'], 'v-1']);
    assert.deepEqual(JSON.parse(fake.requests[1]?.body ?? ''), { key: 'old-share-value-1', nonce: 'n-1' });
    await client.rekey.cancel('n-1');
    assert.deepEqual([fake.requests[2]?.method, fake.requests[2]?.url, JSON.parse(fake.requests[2]?.body ?? '')], ['DELETE', '/v1/sys/rekey/init', { nonce: 'n-1' }]);
    await assert.rejects(client.rekey.init({ secretShares: 3, secretThreshold: 2, pgpKeys: ['a2V5MQ=='] }), /1 PGP keys for 3 shares/);
    const attempt = await client.generateRoot.init();
    assert.equal(attempt.otp?.reveal(), 'otp-value-of-28-characters00');
    assert.equal(String(attempt.otp), '[REDACTED]');
  } finally { await client.close(); await fake.close(); }
});

// ---------------------------------------------------------------------------
// End to end against the lab Vault (src/lab/vault/), the same client as production.

async function login(sim: VaultSim, path: string, body: unknown): Promise<{ token: string; accessor: string }> {
  const res = await fetch(`${sim.url}/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const auth = ((await res.json()) as { auth?: { client_token?: string; accessor?: string } }).auth;
  assert.equal(res.status, 200, `login at ${path}`);
  return { token: auth?.client_token ?? '', accessor: auth?.accessor ?? '' };
}

async function simClient(sim: VaultSim, tokenValue = sim.rootToken): Promise<{ client: VaultClient; lines: string[] }> {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => { lines.push(s); } } });
  return { client: createVaultClient({ url: sim.url, token: new Secret(tokenValue) }, { logger }), lines };
}

/** Nothing captured holds the root token. */
function assertNoToken(sim: VaultSim, texts: readonly string[]): void {
  for (const t of texts) assert.ok(!t.includes(sim.rootToken), `root token leaked: ${t}`);
}

test('lab Vault: seal, then every logical path is "sealed" (503, not retryable); unseal with progress, reset, threshold; health follows', async () => {
  const sim = await startVaultSim({});
  const { client, lines } = await simClient(sim);
  try {
    assert.equal((await client.sys.health()).state, 'active');
    await client.sys.seal();
    await client.sys.seal(); // sealing a sealed Vault succeeds
    const status = await client.sys.sealStatus();
    assert.deepEqual([status.sealed, status.t, status.n, status.progress], [true, 3, 5, 0]);
    assert.equal((await client.sys.health()).state, 'sealed');
    const sealed = await caught(client.auth.listAuthMethods());
    assert.ok(isVaultSealed(sealed), sealed.message);
    assert.equal(sealed.retryable, false);
    const revoke = await caught(client.auth.revokePrefix('auth/'));
    assert.ok(isVaultSealed(revoke), 'revoke after seal cannot work: the reason the playbook seals last');
    const [k1, k2, k3] = sim.unsealKeys.map((k) => new Secret(k));
    assert.equal((await client.sys.unseal(k1!)).progress, 1);
    const reset = await client.sys.unsealReset();
    assert.deepEqual([reset.sealed, reset.progress], [true, 0]);
    await client.sys.unseal(k1!);
    // Vault ignores a share it already holds (core.unsealFragment): no error, no progress.
    assert.equal((await client.sys.unseal(k1!)).progress, 1);
    const bad = await caught(client.sys.unseal(new Secret('not base64 or hex!')));
    assert.equal(bad.code, 'UPSTREAM_REJECTED');
    assert.match(bad.message, /must be a valid hex or base64 string/);
    await client.sys.unseal(k2!);
    const open = await client.sys.unseal(k3!);
    assert.equal(open.sealed, false);
    assert.equal((await client.sys.health()).state, 'active');
    assert.ok('approle/' in await client.auth.listAuthMethods() || 'token/' in await client.auth.listAuthMethods());
    assertNoToken(sim, [sealed.message, revoke.message, bad.message, ...lines]);
    for (const k of sim.unsealKeys) assert.ok(!lines.some((l) => l.includes(k)) && !bad.message.includes(k), 'a share never reaches a log line or a message');
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: rekey to PGP-encrypted shares with verification; the holders decrypt theirs, verify, and only the new shares unseal', async () => {
  const sim = await startVaultSim({});
  const { client, lines } = await simClient(sim);
  try {
    const holders = await Promise.all([1, 2, 3].map((i) => generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: `holder ${i}`, email: `h${i}@lab.example` }], format: 'object' })));
    const pgpKeys = holders.map((h) => Buffer.from(h.publicKey.write()).toString('base64'));
    const started = await client.rekey.init({ secretShares: 3, secretThreshold: 2, pgpKeys, requireVerification: true });
    assert.equal(started.started, true);
    assert.deepEqual(started.pgpFingerprints, holders.map((h) => h.publicKey.getFingerprint()));
    const old = sim.unsealKeys.map((k) => new Secret(k));
    const wrongNonce = await caught(client.rekey.update(old[0]!, 'not-the-nonce'));
    assert.match(wrongNonce.message, /nonce/);
    let done: RekeyUpdate | undefined;
    for (const k of old.slice(0, 3)) done = await client.rekey.update(k, started.nonce);
    assert.ok(done?.complete === true, 'the threshold of old shares completes the rekey');
    assert.equal(done.keysBase64.length, 3);
    assert.equal(done.verificationRequired, true);
    // Each holder decrypts their own share with their private key.
    const shares: Secret[] = [];
    for (const [i, h] of holders.entries()) {
      const message = await readMessage({ binaryMessage: Buffer.from(done.keysBase64[i]!.reveal(), 'base64') });
      // openpgp's return type names DOM stream types this project's lib (es2024, no DOM) lacks; for a non-streamed message `data` is a string.
      const { data } = await decrypt({ message, decryptionKeys: h.privateKey }) as unknown as { data: string };
      shares.push(new Secret(data));
    }
    assert.ok(shares.every((s) => /^[0-9a-f]+$/.test(s.reveal())), 'a decrypted share is the hex of the share');
    const v1 = await client.rekey.verify(shares[0]!, done.verificationNonce);
    assert.equal(v1.complete, false);
    const v2 = await client.rekey.verify(shares[1]!, done.verificationNonce);
    assert.equal(v2.complete, true);
    await client.sys.seal();
    // A single share cannot be judged; the threshold of old ones is refused when Vault combines them.
    assert.equal((await client.sys.unseal(old[0]!)).progress, 1);
    const stale = await caught(client.sys.unseal(old[1]!));
    assert.equal(stale.code, 'UPSTREAM_REJECTED', `old shares no longer unseal: ${stale.message}`);
    assert.equal((await client.sys.sealStatus()).progress, 0, 'a failed combination discards the progress');
    await client.sys.unseal(shares[2]!);
    assert.equal((await client.sys.unseal(shares[0]!)).sealed, false, 'two new shares unseal');
    const term = (await client.sys.keyStatus()).term;
    await client.sys.rotate();
    assert.equal((await client.sys.keyStatus()).term, term + 1);
    assertNoToken(sim, [wrongNonce.message, stale.message, ...lines]);
    for (const s of shares) assert.ok(!lines.some((l) => l.includes(s.reveal())));
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: auth methods listed and their roles read back (approle with role_id, jwt with config, userpass); disabling approle revokes its tokens', async () => {
  const sim = await startVaultSim({});
  const { client } = await simClient(sim);
  try {
    const layout = await createLabVaultLayout(sim);
    const methods = await client.auth.listAuthMethods();
    assert.deepEqual(['approle/', 'jwt/', 'userpass/'].map((p) => methods[p]?.type), ['approle', 'jwt', 'userpass']);
    assert.equal(methods['approle/']?.description, 'tenant services');
    assert.deepEqual((await client.auth.listRoles('approle', 'approle')).sort(), ['acme-app', 'globex-app', 'initech-app']);
    const role = await client.auth.readRole('approle', 'approle', 'acme-app');
    assert.deepEqual(role?.['token_policies'], ['tenant-acme']);
    assert.equal(await client.auth.readAppRoleId('approle', 'acme-app'), layout.roleIds['acme-app']);
    assert.equal(await client.auth.readRole('approle', 'approle', 'no-such-role'), null);
    assert.deepEqual((await client.auth.listRoles('jwt', 'jwt')).sort(), ['acme-ci', 'globex-ci', 'initech-ci']);
    assert.equal((await client.auth.readRole('jwt', 'jwt', 'acme-ci'))?.['user_claim'], 'sub');
    assert.equal((await client.auth.readJwtConfig('jwt'))?.['bound_issuer'], 'https://ci.lab.example');
    assert.deepEqual(await client.auth.listRoles('userpass', 'userpass'), ['operator']);
    const operator = await client.auth.readRole('userpass', 'userpass', 'operator');
    assert.ok(operator !== null && !('password' in operator), 'userpass never returns the password');

    const secretId = await fetch(`${sim.url}/v1/auth/approle/role/acme-app/secret-id`, { method: 'POST', headers: { 'x-vault-token': sim.rootToken } }).then(async (r) => ((await r.json()) as { data: { secret_id: string } }).data.secret_id);
    const app = await login(sim, 'auth/approle/login', { role_id: layout.roleIds['acme-app'], secret_id: secretId });
    const { client: appClient } = await simClient(sim, app.token);
    try {
      const self = await appClient.auth.lookupSelf();
      assert.deepEqual([self.path, self.accessor], ['auth/approle/login', app.accessor]);
      assert.ok(!JSON.stringify(self).includes(app.token), 'lookup-self drops the token itself');
      await client.auth.disableAuthMethod('approle');
      assert.equal('approle/' in await client.auth.listAuthMethods(), false);
      const gone = await caught(appClient.auth.lookupSelf());
      assert.equal(gone.code, 'AUTH_FAILED', 'the AppRole token died with its mount');
      assert.ok(!gone.message.includes(app.token));
    } finally { await appClient.close(); }
    await client.auth.disableAuthMethod('approle'); // disabling what is not mounted also succeeds
    await client.auth.enableAuthMethod('approle', { type: methods['approle/']?.type ?? '', description: methods['approle/']?.description ?? '' });
    assert.equal((await client.auth.readAuthMethod('approle'))?.type, 'approle');
    const inUse = await caught(client.auth.enableAuthMethod('approle', { type: 'approle' }));
    assert.match(inUse.message, /path is already in use/);
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: revoke-prefix auth/userpass/ revokes the tokens issued there, children too; accessor revocation; others untouched', async () => {
  const sim = await startVaultSim({});
  const { client } = await simClient(sim);
  try {
    const layout = await createLabVaultLayout(sim);
    const a = await login(sim, `auth/userpass/login/${layout.operator.username}`, { password: layout.operator.password });
    const b = await login(sim, `auth/userpass/login/${layout.operator.username}`, { password: layout.operator.password });
    const c = await login(sim, `auth/userpass/login/${layout.operator.username}`, { password: layout.operator.password });
    await client.auth.revokeAccessor(c.accessor);
    const { client: ca } = await simClient(sim, c.token);
    assert.equal((await caught(ca.auth.lookupSelf())).code, 'AUTH_FAILED');
    await ca.close();
    const { client: aa } = await simClient(sim, a.token);
    const { client: bb } = await simClient(sim, b.token);
    try {
      assert.equal((await aa.auth.lookupSelf()).path, `auth/userpass/login/${layout.operator.username}`);
      await client.auth.revokePrefix('auth/userpass/');
      for (const x of [aa, bb]) assert.equal((await caught(x.auth.lookupSelf())).code, 'AUTH_FAILED');
      assert.ok((await client.auth.lookupSelf()).policies.includes('root'), 'the root token is untouched');
    } finally { await aa.close(); await bb.close(); }
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: KV v2 write, read, soft delete (deleted, with its time), undelete, destroy, metadata; KV v1 beside it', async () => {
  const sim = await startVaultSim({ kvMounts: [{ path: 'secret', version: 2 }, { path: 'legacy', version: 1 }] });
  const { client, lines } = await simClient(sim);
  try {
    assert.equal((await client.kv.v2.write('secret', 'apps/web', { password: new Secret('web-password-v1') })).version, 1);
    assert.equal((await client.kv.v2.write('secret', 'apps/web', { password: 'web-password-v2' }, { cas: 1 })).version, 2);
    const cas = await caught(client.kv.v2.write('secret', 'apps/web', { password: 'x' }, { cas: 1 }));
    assert.equal(cas.code, 'UPSTREAM_REJECTED');
    const read = await client.kv.v2.read('secret', 'apps/web');
    assert.ok(read?.state === 'present');
    assert.deepEqual([read.data['password']?.reveal(), read.metadata.version], ['web-password-v2', 2]);
    assert.deepEqual(await client.kv.v2.list('secret', 'apps'), ['web']);
    await client.kv.v2.delete('secret', 'apps/web');
    const deleted = await client.kv.v2.read('secret', 'apps/web');
    assert.equal(deleted?.state, 'deleted', 'a soft-deleted version is not "absent"');
    assert.ok(deleted?.state === 'deleted' && !Number.isNaN(Date.parse(deleted.deletionTime)));
    await assert.rejects(client.readReference('secret/apps/web', 'password'), /was deleted at /);
    await client.kv.v2.undelete('secret', 'apps/web', [2]);
    assert.equal((await client.kv.v2.read('secret', 'apps/web'))?.state, 'present');
    await client.kv.v2.destroy('secret', 'apps/web', [2]);
    assert.equal((await client.kv.v2.read('secret', 'apps/web'))?.state, 'destroyed');
    const v1 = await client.kv.v2.read('secret', 'apps/web', { version: 1 });
    assert.ok(v1?.state === 'present' && v1.data['password']?.reveal() === 'web-password-v1');
    const meta = await client.kv.v2.readMetadata('secret', 'apps/web');
    assert.deepEqual([meta?.currentVersion, meta?.versions['2']?.destroyed, meta?.versions['1']?.destroyed], [2, true, false]);
    await client.kv.v2.deleteVersions('secret', 'apps/web', [1]);
    assert.equal((await client.kv.v2.read('secret', 'apps/web', { version: 1 }))?.state, 'deleted');
    await client.kv.v2.deleteMetadata('secret', 'apps/web');
    assert.equal(await client.kv.v2.read('secret', 'apps/web'), null);
    assert.equal(await client.kv.v2.readMetadata('secret', 'apps/web'), null);

    await client.kv.v1.write('legacy', 'svc/api', { key: new Secret('legacy-api-key-1') });
    assert.equal((await client.kv.v1.read('legacy', 'svc/api'))?.['key']?.reveal(), 'legacy-api-key-1');
    assert.deepEqual(await client.kv.v1.list('legacy', 'svc'), ['api']);
    assert.deepEqual(await client.kv.locate('legacy/svc/api'), { mount: 'legacy/', path: 'svc/api', version: 1 });
    assert.deepEqual(await client.kv.locate('secret/apps/web'), { mount: 'secret/', path: 'apps/web', version: 2 });
    await client.kv.v1.delete('legacy', 'svc/api');
    assert.equal(await client.kv.v1.read('legacy', 'svc/api'), null);
    assertNoToken(sim, [cas.message, ...lines]);
    assert.ok(!lines.some((l) => /web-password|legacy-api-key/.test(l)), 'no KV value in a log line');
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: sys/audit lists the file device; audit-hash gives the HMAC its log lines carry for our token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-vault-audit-'));
  const file = join(dir, 'audit.log');
  const sim = await startVaultSim({ auditFile: file });
  const { client } = await simClient(sim);
  try {
    await client.sys.listMounts();
    const devices = await client.sys.listAuditDevices();
    assert.equal(devices['file/']?.type, 'file');
    assert.equal(devices['file/']?.options['file_path'], file);
    const hash = await client.sys.auditHash('file', new Secret(sim.rootToken));
    assert.match(hash, /^hmac-sha256:[0-9a-f]{64}$/);
    const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { request?: { path?: string }; auth?: { client_token?: string } });
    const mountsRead = entries.find((e) => e.request?.path === 'sys/mounts');
    assert.equal(mountsRead?.auth?.client_token, hash, 'the device hashes our token as audit-hash says');
    assert.ok(!readFileSync(file, 'utf8').includes(sim.rootToken), 'the log holds no plaintext token');
    const unknown = await caught(client.sys.auditHash('nope', 'x'));
    assert.ok(['UPSTREAM_REJECTED', 'NOT_FOUND'].includes(unknown.code), unknown.message);
  } finally { await client.close(); await sim.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('lab Vault: generate-root with an OTP; the decoded token is a working root token, then revoked', async () => {
  const sim = await startVaultSim({});
  const { client } = await simClient(sim);
  try {
    const attempt = await client.generateRoot.init();
    assert.ok(attempt.otp !== undefined && attempt.otpLength > 0);
    let status = attempt as GenerateRootStatus;
    for (const k of sim.unsealKeys.slice(0, 3)) status = await client.generateRoot.update(new Secret(k), attempt.nonce);
    assert.equal(status.complete, true);
    const root = decodeRootToken(status.encodedToken, attempt.otp, attempt.otpLength);
    assert.notEqual(root.reveal(), sim.rootToken);
    const { client: rootClient } = await simClient(sim, root.reveal());
    try {
      assert.ok((await rootClient.auth.lookupSelf()).policies.includes('root'));
      await client.auth.revokeToken(root);
      assert.equal((await caught(rootClient.auth.lookupSelf())).code, 'AUTH_FAILED');
    } finally { await rootClient.close(); }
    await client.generateRoot.init();
    await client.generateRoot.cancel();
    assert.equal((await client.generateRoot.status()).started, false);
  } finally { await client.close(); await sim.close(); }
});

test('lab Vault: vault: references in firebreak.yaml resolve through provider.vault (KV v2 and v1); check says so; errors name the reference', async () => {
  const sim = await startVaultSim({});
  const dir = mkdtempSync(join(tmpdir(), 'fb-vault-ref-'));
  try {
    await createLabVaultLayout(sim);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${sim.rootToken}\n`, { mode: 0o600 });
    const loaded = parseConfig(`version: 1
provider:
  vault: { url: "${sim.url}", insecure: true, token: "file:${tokenFile}" }
tenants:
  acme:
    thingsboard: { url: "https://tb.example.net", username: u, password: "vault:secret/tenants/acme/database#password" }
    hawkbit: { url: "https://hb.example.net", username: u, password: "vault:api_keys/acme/payments#key" }
`, join(dir, 'firebreak.yaml'));
    const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
    assert.equal((await platform.credential('vault:secret/tenants/acme/database#password', 'tenants.acme.thingsboard.password')).reveal(), 'acme-db-lab-password');
    assert.equal((await platform.credential('vault:api_keys/acme/payments#key', 'tenants.acme.hawkbit.password')).reveal(), 'acme-payments-lab-key');
    const rows = await probeSystems(loaded, silentLogger, 5000);
    assert.deepEqual(rows.filter((r) => r.system.endsWith('credential')).map((r) => [r.system, r.ok, r.detail]), [
      ['vault credential', true, 'resolves'], ['thingsboard credential', true, 'resolves'], ['hawkbit credential', true, 'resolves'],
    ]);
    const missing = await caught(platform.credential('vault:secret/tenants/acme/nothing#password', 'tenants.acme.thingsboard.password'));
    assert.equal(missing.message, 'tenants.acme.thingsboard.password: vault:secret/tenants/acme/nothing#password: there is no secret tenants/acme/nothing in the KV v2 mount secret/');
    const vault = await platform.connect('vault', loaded.config.provider?.vault ?? assert.fail(), 'provider.vault');
    try { assert.equal((await vault.sys.health()).state, 'active'); } finally { await vault.close(); }
    assertNoToken(sim, [missing.message, JSON.stringify(rows)]);
  } finally { await sim.close(); rmSync(dir, { recursive: true, force: true }); }
});
