import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSshExecutor } from '../../src/connectors/executor/ssh-executor.ts';
import { authorizedKeys, changeAuthorizedKeys, generateSshKey, keyId, trySshLogin } from '../../src/connectors/ssh-keys/ssh-keys.ts';
import { Secret } from '../../src/lib/secret.ts';
import { requireComponent } from '../helpers/shared.ts';
import { sshdProblem, startSshd } from '../helpers/sshd.ts';

test('an SSH key rotated on a real sshd: the new key installed and logging in, then the old one removed and refused, other lines untouched', async (t) => {
  if (!requireComponent(t, 'OpenSSH server', sshdProblem())) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const file = join(sshd.dir, 'authorized_keys');
  // The executor's own key (Firebreak's), another person's key with options, and a comment: none of them is the tenant's.
  const other = await generateSshKey('ops@bastion');
  writeFileSync(file, `${readFileSync(file, 'utf8').trim()}\n# keys of acme\nfrom="10.0.0.0/8",no-pty ${other.publicKey}\n`, { mode: 0o600 });
  const host = createSshExecutor({ host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKey: new Secret(sshd.clientKey), hostKey: sshd.hostKeyLine });
  t.after(() => host.close());
  const login = (privateKey: Secret) => trySshLogin({ host: '127.0.0.1', port: sshd.port, user: sshd.user, hostKey: sshd.hostKeyLine, privateKey });

  const old = await generateSshKey('tenant-acme');
  assert.match(old.publicKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA[A-Za-z0-9+/]{44} tenant-acme$/);
  assert.match(old.privateKey.reveal(), /^-----BEGIN OPENSSH PRIVATE KEY-----/);
  assert.deepEqual(await changeAuthorizedKeys(host, file, { add: old.publicKey }), { added: 1, removed: 0 });
  assert.equal(await login(old.privateKey), 'accepted');

  const next = await generateSshKey('tenant-acme');
  assert.notEqual(keyId(next.publicKey), keyId(old.publicKey));
  assert.equal(await login(next.privateKey), 'refused', 'not installed yet');
  assert.deepEqual(await changeAuthorizedKeys(host, file, { add: next.publicKey }), { added: 1, removed: 0 });
  // Applied again (a resumed step): nothing changes.
  assert.deepEqual(await changeAuthorizedKeys(host, file, { add: next.publicKey }), { added: 0, removed: 0 });
  assert.equal(await login(next.privateKey), 'accepted');
  // Only once the new key logs in is the old one removed.
  assert.deepEqual(await changeAuthorizedKeys(host, file, { remove: [old.publicKey] }), { added: 0, removed: 1 });
  assert.deepEqual(await changeAuthorizedKeys(host, file, { remove: [old.publicKey] }), { added: 0, removed: 0 });
  assert.equal(await login(old.privateKey), 'refused');
  assert.equal(await login(next.privateKey), 'accepted');

  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(`# keys of acme\nfrom="10.0.0.0/8",no-pty ${other.publicKey}\n`), 'the other lines are as they were');
  assert.equal(text.split('\n').filter((l) => l.includes('tenant-acme')).length, 1);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual((await authorizedKeys(host, file)).sort(), [keyId(sshd.clientKeyPublic), keyId(other.publicKey), keyId(next.publicKey)].sort());
  assert.equal(await login(new Secret(sshd.clientKey)), 'accepted', "Firebreak's own key still logs in");

  // A new file gets mode 0600; a missing one lists no keys.
  const fresh = join(sshd.dir, 'fresh_keys');
  assert.deepEqual(await authorizedKeys(host, fresh), []);
  await changeAuthorizedKeys(host, fresh, { add: next.publicKey });
  assert.equal(statSync(fresh).mode & 0o777, 0o600);
});

test('bad keys, comments and paths are refused before the host is touched', async () => {
  await assert.rejects(generateSshKey('two words'), /comment must be 1–100 printable characters/);
  assert.throws(() => keyId('ssh-ed25519 notbase64!'), /not an OpenSSH public key/);
  assert.throws(() => keyId('-----BEGIN OPENSSH PRIVATE KEY-----'), /not an OpenSSH public key/);
  const k = await generateSshKey('x');
  // The executor is never called: these fail on their input.
  const untouchable = new Proxy({}, { get: () => { throw new Error('the host was touched'); } }) as never;
  await assert.rejects(changeAuthorizedKeys(untouchable, 'relative/authorized_keys', { add: k.publicKey }), /must be absolute/);
  await assert.rejects(changeAuthorizedKeys(untouchable, '/root/.ssh/authorized_keys', { add: k.publicKey, remove: [k.publicKey] }), /also a key to remove/);
  await assert.rejects(changeAuthorizedKeys(untouchable, '/root/.ssh/authorized_keys', { add: 'ssh-rsa AAAA' }), /not an OpenSSH public key/);
});
