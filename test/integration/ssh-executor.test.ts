import { test } from 'node:test';
import { getEventListeners } from 'node:events';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireComponent } from '../helpers/shared.ts';
import { startSshd, sshdProblem } from '../helpers/sshd.ts';
import { createSshExecutor, shellQuote } from '../../src/connectors/executor/ssh-executor.ts';
import { removeFromPeersJson } from '../../src/connectors/wireguard/peers-json.ts';
import { Secret } from '../../src/lib/secret.ts';

test('shell quoting survives every hostile argument', () => {
  for (const a of ["it's", '$(id)', '`id`', 'a\nb', '"; rm -rf /', '', 'ü 🚀', "'", "''"]) {
    assert.match(shellQuote(a), /^('.*'|[A-Za-z0-9_@%+=:,./-]+)$/s);
  }
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test('SSH executor against a real OpenSSH server: pinned host key, exact argv, secrets on stdin, SFTP atomic writes, locks', async (t) => {
  if (!requireComponent(t, 'OpenSSH server', sshdProblem())) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const base = { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKey: new Secret(sshd.clientKey) };
  const ex = createSshExecutor({ ...base, hostKey: sshd.hostKeyLine });
  t.after(() => ex.close());

  const hostile = ['a b', '$(id)', '`id`', "'; echo pwned #", 'ünï 🚀', 'new\nline', '*', ''];
  const r = await ex.exec({ argv: ['printf', '%s\\0', ...hostile] });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), hostile, 'every argument arrived byte for byte');

  // A run's own signal outlives thousands of commands (a step without a timeout passes it on): none leaves a listener on it.
  const runSignal = new AbortController().signal;
  for (let i = 0; i < 3; i++) assert.equal((await ex.exec({ argv: ['true'], signal: runSignal })).exitCode, 0);
  assert.equal(getEventListeners(runSignal, 'abort').length, 0, 'no abort listener left behind');

  const secret = new Secret('canary-ssh-stdin-8e2f4a');
  // The remote shell lists every command line on the host while it holds the secret read from stdin.
  const seen = await ex.exec({ argv: ['sh', '-c', 'read -r line; ps -eo args; echo "--- stdin:"; echo "$line"'], stdin: `${secret.reveal()}\n` });
  const [ps, echoed] = seen.stdout.split('--- stdin:\n');
  assert.equal(echoed?.trim(), secret.reveal(), 'the secret arrived on stdin');
  assert.ok((ps ?? '').includes('ps -eo args') && !(ps ?? '').includes(secret.reveal()), 'and no process on the host had it on its command line');

  const sha = `SHA256:${createHash('sha256').update(Buffer.from(sshd.hostKeyLine.split(' ')[1] ?? '', 'base64')).digest('base64').replace(/=+$/, '')}`;
  const byFingerprint = createSshExecutor({ ...base, hostKey: sha });
  assert.equal((await byFingerprint.exec({ argv: ['true'] })).exitCode, 0);
  await byFingerprint.close();
  const impostor = createSshExecutor({ ...base, hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMFZbRSLq3D3tQ5lQ0cW6W2rT6b1mQ3bW3v8r0l5y5pA' });
  await assert.rejects(impostor.exec({ argv: ['true'] }), (e: { code?: string; message?: string }) => e.code === 'AUTH_FAILED' && /not the pinned one: refusing to connect/.test(e.message ?? ''));
  await impostor.close();
  await assert.rejects(ex.exec({ argv: ['wg-not-installed-here', 'show'] }), /wg-not-installed-here not found on ssh root@127\.0\.0\.1/);

  const file = join(sshd.dir, 'cdm_peers.json');
  writeFileSync(file, JSON.stringify({ peers: { 'device-001': { publicKey: 'k1' }, 'device-002': { publicKey: 'k2' } }, extra: true }, null, 2) + '\n');
  chmodSync(file, 0o640);
  assert.deepEqual(await removeFromPeersJson(ex, file, 'device-001'), { removed: { publicKey: 'k1' } });
  assert.equal(statSync(file).mode & 0o777, 0o640, 'mode kept across the SFTP rename');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { peers: { 'device-002': { publicKey: 'k2' } }, extra: true });
  await assert.rejects(ex.readFile(join(sshd.dir, 'missing.json')), (e: { code?: string }) => e.code === 'NOT_FOUND');
  const order: string[] = [];
  // The second writer asks only once the first holds the lock (not after a fixed delay: ssh round trips vary under load).
  let entered!: () => void;
  const aHolds = new Promise<void>((res) => { entered = res; });
  await Promise.all([
    ex.withLock(file, async () => { order.push('a+'); entered(); await new Promise((res) => setTimeout(res, 300)); order.push('a-'); }),
    aHolds.then(() => ex.withLock(file, async () => { order.push('b+'); })),
  ]);
  assert.deepEqual(order, ['a+', 'a-', 'b+'], 'the lock directory excludes a second writer');
});
