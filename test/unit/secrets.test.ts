import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Secret, REDACTED } from '../../src/lib/secret.ts';
import { redact, redactText, redactUrls, isSecretKey } from '../../src/lib/redact.ts';
import { createSealer, loadJournalKey } from '../../src/lib/sealer.ts';
import { createLogger } from '../../src/lib/log.ts';
import { FirebreakError, toErrorData } from '../../src/lib/errors.ts';

const CANARY = 'canary-Zq8xW3vT7pL2mN9k';

test('a Secret never prints: toString, template, JSON, inspect, String()', () => {
  const s = new Secret(CANARY);
  const renderings = [String(s), s.toString(), JSON.stringify({ s }), inspect(s), inspect({ nested: { s } }, { depth: 5 })];
  for (const r of renderings) assert.ok(!r.includes(CANARY), r);
  assert.equal(s.reveal(), CANARY);
  assert.equal(JSON.stringify({ s }), `{"s":"${REDACTED}"}`);
});

test('redaction by key, by URL and by registered value', () => {
  new Secret(CANARY);
  const out = redact({
    password: 'hunter2-long', adminPassword: 'x1234567', clientSecret: 'cs', apiKey: 'ak', publicKey: 'pub', keyId: 'kid', serial: '123',
    url: 'https://admin:pw123456@vault.example:8200/v1/x?token=abc&page=2',
    note: `the value ${CANARY} leaked`, header: 'Authorization: Bearer eyJhbGciOiJFZERTQSJ9.payload.sig',
    pem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
    err: new FirebreakError('AUTH_FAILED', `bad ${CANARY}`),
  }) as Record<string, unknown>;
  assert.equal(out['password'], REDACTED);
  assert.equal(out['adminPassword'], REDACTED);
  assert.equal(out['clientSecret'], REDACTED);
  assert.equal(out['apiKey'], REDACTED);
  assert.equal(out['publicKey'], 'pub');
  assert.equal(out['keyId'], 'kid');
  assert.equal(out['url'], `https://admin:${REDACTED}@vault.example:8200/v1/x?token=${REDACTED}&page=2`);
  assert.equal(out['note'], `the value ${REDACTED} leaked`);
  assert.match(String(out['header']), /Bearer \[REDACTED\]/);
  assert.ok(!String(out['pem']).includes('MIIE'));
  assert.ok(!JSON.stringify(out['err']).includes(CANARY));
  assert.equal(isSecretKey('telegraf_password'), true);
  assert.equal(isSecretKey('device'), false);
  assert.equal(redactUrls('postgres://u@h/db'), 'postgres://u@h/db');
  assert.equal(redactText('nothing here'), 'nothing here');
});

test('redaction copies only what it changes: clean plain values as they are, class instances always as plain copies, cycles cut', () => {
  const clean = { id: 'device-001', steps: [{ status: 'completed', attempt: 1 }], note: 'no credentials here' };
  assert.equal(redact(clean), clean, 'nothing to remove: the value itself');
  const dirty = { id: 'd1', nested: { list: ['ok', 'https://u:pw@example.test/x'], password: 'hunter2' }, kept: { a: 1 } };
  const out = redact(dirty) as typeof dirty;
  assert.notEqual(out, dirty);
  assert.deepEqual(out, { id: 'd1', nested: { list: ['ok', `https://u:${REDACTED}@example.test/x`], password: REDACTED }, kept: { a: 1 } });
  assert.equal(out.kept, dirty.kept, 'an unchanged branch is shared');
  assert.equal(dirty.nested.password, 'hunter2', 'the input is not modified');
  // A URL instance's toJSON would print its password: class instances are never passed through.
  const url = new URL('https://admin:s3cr3t@vault.example.test/v1');
  assert.ok(!JSON.stringify(redact({ url })).includes('s3cr3t'));
  const shared = { k: 'v' };
  const cyclic: Record<string, unknown> = { a: shared, b: shared };
  cyclic['self'] = cyclic;
  assert.deepEqual(redact(cyclic), { a: { k: 'v' }, b: { k: 'v' }, self: '[Circular]' }, 'only a cycle is cut, not a shared branch');
  assert.equal(isSecretKey('client_secret'), true);
  assert.equal(isSecretKey('client_secret'), true, 'the cached answer is the same');
  assert.equal(isSecretKey('publicKey'), false);
});

test('the logger redacts messages and data', () => {
  new Secret(CANARY);
  let written = '';
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { written += chunk.toString(); cb(); } });
  const log = createLogger({ level: 'debug', destination: sink as unknown as NodeJS.WritableStream });
  log.child({ run: 'r1' }).info(`connecting with ${CANARY}`, { password: 'p4ssw0rd-x', token: new Secret('tok-abcdefgh'), url: 'https://u:p4ss@h/' });
  assert.ok(written.includes('"run":"r1"'));
  for (const leak of [CANARY, 'p4ssw0rd-x', 'tok-abcdefgh', 'p4ss@']) assert.ok(!written.includes(leak), `${leak} leaked: ${written}`);
});

test('errors as data never carry a registered secret through their message', () => {
  new Secret(CANARY);
  const data = redact(toErrorData(new FirebreakError('AUTH_FAILED', `login with ${CANARY} failed`)));
  assert.ok(!JSON.stringify(data).includes(CANARY));
});

test('sealing: AES-256-GCM, bound to its location, refuses a wrong key', () => {
  const key = randomBytes(32);
  const sealer = createSealer(key);
  const sealed = sealer.seal(CANARY, 'run-1/step');
  assert.ok(!sealed.includes(CANARY));
  assert.equal(sealer.unseal(sealed, 'run-1/step').reveal(), CANARY);
  assert.throws(() => sealer.unseal(sealed, 'run-2/step'), (e: { code?: string }) => e.code === 'SECRET_UNAVAILABLE');
  assert.throws(() => createSealer(randomBytes(32)).unseal(sealed, 'run-1/step'), /wrong journal key/);
});

test('journal key file: created 0600, refused when readable by others, env wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-key-'));
  try {
    const file = join(dir, 'sub', 'journal.key');
    const k1 = loadJournalKey(file, {});
    assert.equal(k1.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(loadJournalKey(file, {}), k1);
    chmodSync(file, 0o644);
    assert.throws(() => loadJournalKey(file, {}), /accessible by group or others.*chmod 600/);
    const envKey = randomBytes(32);
    assert.deepEqual(loadJournalKey(file, { FIREBREAK_JOURNAL_KEY: envKey.toString('base64') }), envKey);
    writeFileSync(join(dir, 'short.key'), 'c2hvcnQ=', { mode: 0o600 });
    assert.throws(() => loadJournalKey(join(dir, 'short.key'), {}), /must be base64 of 32 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
