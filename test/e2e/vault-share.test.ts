import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { labFor, run, BIN, type CliResult } from './cli-helpers.ts';
import { repoRoot } from '../helpers/shared.ts';
import { createVaultClient } from '../../src/connectors/vault/vault-client.ts';
import { Secret } from '../../src/lib/secret.ts';
import { submitShare } from '../../src/playbooks/vault-breach/vault-share.ts';
import { newShareOf, runIdOf, shareAs, vaultCall } from './vault-breach-helpers.ts';

/** A command at a terminal (a pty from script(1)), typing `keys` once its output shows `prompt`, as a person would. */
function atTerminal(command: string, prompt: RegExp, keys: string): Promise<{ status: number | null; stdout: string }> {
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', FIREBREAK_USER: 'kh2' }, stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  let typed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!typed && prompt.test(stdout)) { typed = true; child.stdin.write(keys); }
  });
  return new Promise((resolve) => { child.on('close', (status) => { child.stdin.destroy(); resolve({ status, stdout }); }); });
}
const sealStatus = async (lab: Awaited<ReturnType<typeof labFor>>) => (await vaultCall(lab, 'GET', 'sys/seal-status')).json ?? {};

test('vault share: a share given twice, a malformed one, one when no round waits, a non-holder\'s new share and an old share at verification are each refused by name; a rekey someone else started gets no share', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const old = lab.vault.unsealKeys.slice(0, lab.vault.threshold);

  // No run waits for a share yet.
  const early = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(early.code, 9, early.stdout + early.stderr);
  const runId = runIdOf(early);

  // Malformed: refused before anything is sent.
  const bad = await shareAs(lab, runId, 'kh1', 'not-a-share!');
  assert.equal(bad.code, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /the share is neither hex nor base64 of 16–33 bytes \(12 characters read\)/);
  assert.equal((await sealStatus(lab))['progress'], 0, 'nothing reached Vault');

  // Twice: Vault's refusal with what it means.
  assert.equal((await shareAs(lab, runId, 'kh1', old[0] ?? '')).code, 0);
  const twice = await shareAs(lab, runId, 'kh2', old[0] ?? '');
  assert.equal(twice.code, 2, twice.stdout);
  assert.match(twice.stderr, /Vault did not count the share: it was given already in this unseal round \(still 1 of 3\); the next holder submits theirs/);
  assert.ok(!(twice.stdout + twice.stderr).includes(old[0] ?? '-'), 'the share is not echoed in the error');
  assert.equal((await sealStatus(lab))['progress'], 1);

  // Typed at a terminal (a pty from script(1)): the prompt shows, the share does not.
  const typed = await atTerminal(`${process.execPath} ${BIN} --config ${lab.configPath} vault share ${runId} --as kh2`, /input hidden\): /, `${old[1] ?? ''}\r`);
  assert.equal(typed.status, 0, typed.stdout);
  assert.match(typed.stdout, /Your CURRENT unseal share \(input hidden\):/);
  assert.match(typed.stdout, /unseal: accepted: 2 of 3 shares/);
  assert.ok(!typed.stdout.includes(old[1] ?? '-'), 'the typed share was not echoed');
  assert.equal((await shareAs(lab, runId, 'kh3', old[2] ?? '')).code, 9, 'the third share unsealed and the run went on to the next round');

  const nonce = String((await vaultCall(lab, 'GET', 'sys/rekey/init')).json?.['nonce']);
  for (const [i, s] of old.entries()) assert.equal((await shareAs(lab, runId, `kh${i + 1}`, s)).code, i === 2 ? 9 : 0);

  // The new shares: a non-holder gets none; an old share does not verify.
  const stranger = await run([...c, 'vault', 'new-share', runId, '--as', 'mallory']);
  assert.equal(stranger.code, 4, stranger.stdout + stranger.stderr);
  assert.match(stranger.stderr, /mallory holds no new share of run \S+ \(holders: alice, bob, carol, dave, erin\)/);
  const oldAtVerify = await shareAs(lab, runId, 'alice', old[0] ?? '');
  assert.equal(oldAtVerify.code, 0, 'one share alone is accepted (Vault combines at the threshold)');
  await shareAs(lab, runId, 'bob', old[1] ?? '');
  const third = await shareAs(lab, runId, 'carol', (await newShareOf(lab, runId, 'carol')).share);
  assert.notEqual(third.code, 0, third.stdout);
  assert.match(third.stderr, /Vault refused the share for the verify round: .*the verification round starts again and every new holder submits their NEW share again/);
  const seal = await sealStatus(lab);
  assert.deepEqual([seal['n'], seal['t']], [5, 3], 'the old seal stands: the old shares are still the valid ones');
  // The holders' real shares complete it.
  let last: CliResult | undefined;
  for (const h of ['alice', 'bob', 'carol']) last = await shareAs(lab, runId, h, (await newShareOf(lab, runId, h)).share);
  assert.equal(last?.code, 0, `${last?.stdout ?? ''}${last?.stderr ?? ''}`);
  const after = await run([...c, 'vault', 'share', runId, '--as', 'alice', '--share-fd', '0'], { input: `${old[0] ?? ''}\n` });
  assert.equal(after.code, 5, after.stdout + after.stderr);
  assert.match(after.stderr, /is not waiting for a key share: nothing was sent/);

  // A rekey somebody else started: no share of this run's rounds goes to it.
  assert.equal((await vaultCall(lab, 'POST', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 })).status, 200);
  const client = createVaultClient({ url: lab.vault.url, tls: { ca: lab.vault.caPem } });
  t.after(() => client.close());
  await assert.rejects(submitShare(client, 'rekey-update', new Secret(old[0] ?? ''), nonce), /Vault's rekey in progress \(nonce \S+\) is not the one this run started \(\S+\): the share was NOT sent/);
  assert.equal((await vaultCall(lab, 'GET', 'sys/rekey/init')).json?.['progress'], 0, 'the foreign rekey got nothing');
});
