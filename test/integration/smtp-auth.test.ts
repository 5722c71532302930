import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { awaitSmtpLogin, hashMatches, hashSmtpPassword, setPasswdFilePassword, trySmtpLogin } from '../../src/connectors/smtp/smtp-auth.ts';
import { freePort } from '../../src/lib/free-port.ts';
import { Secret } from '../../src/lib/secret.ts';
import { mailstackProblem, startMailStack, type MailStack } from '../helpers/mailstack.ts';
import { requireComponent } from '../helpers/shared.ts';

// One real Postfix + Dovecot (passwd-file passdb) for the file.
let mail: MailStack | undefined;
before(async () => { if (mailstackProblem() === undefined) mail = await startMailStack({ passdb: { kind: 'passwd-file' }, domains: ['acme.test'] }); });
after(async () => { await mail?.stop(); });
const ready = (t: Parameters<typeof requireComponent>[0]) => requireComponent(t, 'Postfix and Dovecot', mailstackProblem());
const host = createLocalExecutor();
const login = (user: string, password: Secret) => ({ host: '127.0.0.1', port: (mail as MailStack).port, user, password, security: 'none' as const });

test('an SMTP password rotated in a passwd-file: Postfix accepts the new one over AUTH and refuses the old; other lines and fields untouched', async (t) => {
  if (!ready(t)) return;
  const file = (mail as MailStack).passwdFile;
  const old = new Secret('old-smtp-password-acme-1');
  const other = `ops@acme.test:${await hashSmtpPassword(new Secret('the-ops-password'), 4)}::::::`;
  writeFileSync(file, `# acme's mailboxes\nnoreply@acme.test:${await hashSmtpPassword(old, 4)}:65534:65534::/var/mail/acme::userdb_quota_rule=*:storage=1G\n${other}\n`);
  assert.equal(await trySmtpLogin(login('noreply@acme.test', old)), 'accepted');

  const next = new Secret('new-smtp-password-acme-2');
  assert.equal(await setPasswdFilePassword(host, file, 'noreply@acme.test', next, { cost: 4 }), 'changed');
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines[0], "# acme's mailboxes");
  assert.match(lines[1] ?? '', /^noreply@acme\.test:\{BLF-CRYPT\}\$2b\$04\$[./A-Za-z0-9]{53}:65534:65534::\/var\/mail\/acme::userdb_quota_rule=\*:storage=1G$/);
  assert.equal(lines[2], other);
  assert.equal(lines.length, 4);
  assert.ok(!readFileSync(file, 'utf8').includes(next.reveal()), 'the file holds a hash, never the password');
  // Dovecot sees the new file within a second or two; the old password is refused by the same server.
  await awaitSmtpLogin(login('noreply@acme.test', next), 'accepted');
  assert.equal(await trySmtpLogin(login('noreply@acme.test', old)), 'refused');
  assert.equal(await trySmtpLogin(login('ops@acme.test', new Secret('the-ops-password'))), 'accepted');

  // Applied again (a resumed step): nothing is written.
  const mtime = statSync(file).mtimeMs;
  assert.equal(await setPasswdFilePassword(host, file, 'noreply@acme.test', next, { cost: 4 }), 'unchanged');
  assert.equal(statSync(file).mtimeMs, mtime);
});

test('two rotations of one file within a second are both seen by Dovecot (the mtime keeps rising though the size does not change)', async (t) => {
  if (!ready(t)) return;
  const file = (mail as MailStack).passwdFile;
  const a = new Secret('first-password-of-bob-1');
  const b = new Secret('second-password-of-bob-2');
  writeFileSync(file, `bob@acme.test:${await hashSmtpPassword(new Secret('bob-original-pw'), 4)}::::::\n`);
  await awaitSmtpLogin(login('bob@acme.test', new Secret('bob-original-pw')), 'accepted');
  const before = statSync(file);
  await setPasswdFilePassword(host, file, 'bob@acme.test', a, { cost: 4 });
  await setPasswdFilePassword(host, file, 'bob@acme.test', b, { cost: 4 });
  const now = statSync(file);
  assert.equal(now.size, before.size);
  assert.ok(Math.floor(now.mtimeMs / 1000) > Math.floor(before.mtimeMs / 1000) || now.ino !== before.ino);
  await awaitSmtpLogin(login('bob@acme.test', b), 'accepted');
  assert.equal(await trySmtpLogin(login('bob@acme.test', a)), 'refused');
});

test('a user the passwd-file does not hold is NOT_FOUND and nothing is written; a hostile login name is refused before any I/O', async (t) => {
  if (!ready(t)) return;
  const file = (mail as MailStack).passwdFile;
  writeFileSync(file, 'carol@acme.test:{BLF-CRYPT}$2b$04$abcdefghijklmnopqrstuuVGmD0YHbIpF5EJlqBcFkqgtV7i5I6Ky::::::\n');
  const text = readFileSync(file, 'utf8');
  await assert.rejects(setPasswdFilePassword(host, file, 'dave@acme.test', new Secret('whatever-password')), (e: { code?: string; message?: string }) => e.code === 'NOT_FOUND' && /no line for dave@acme\.test/.test(e.message ?? ''));
  for (const user of ['eve:x', 'eve\nroot', 'eve acme', '']) {
    await assert.rejects(setPasswdFilePassword(host, file, user, new Secret('whatever-password')), (e: { code?: string }) => e.code === 'INVALID_INPUT');
  }
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('hashes: bcrypt in Dovecot\'s BLF-CRYPT form, matched only by their password; other schemes never match', async () => {
  const pw = new Secret('correct-horse-battery');
  const h = await hashSmtpPassword(pw, 4);
  assert.match(h, /^\{BLF-CRYPT\}\$2b\$04\$/);
  assert.equal(await hashMatches(h, pw), true);
  assert.equal(await hashMatches(h.slice('{BLF-CRYPT}'.length), pw), true);
  assert.equal(await hashMatches(h, new Secret('wrong-horse-battery')), false);
  assert.equal(await hashMatches('{SHA512-CRYPT}$6$abc$def', pw), false);
  await assert.rejects(hashSmtpPassword(pw, 3), (e: { code?: string }) => e.code === 'INVALID_INPUT');
});

test('an SMTP server that is not there is an outage, never a refusal', async () => {
  const port = await freePort();
  await assert.rejects(trySmtpLogin({ host: '127.0.0.1', port, user: 'x@acme.test', password: new Secret('some-password'), security: 'none', timeoutMs: 2000 }), (e: { code?: string }) => e.code === 'UNAVAILABLE');
});
