import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, run } from './cli-helpers.ts';
import { loginsBefore, runIdOf, shareAs, vaultCall } from './vault-breach-helpers.ts';
import { vaultOfLab } from '../../src/cli/drill-run.ts';
import { verifyRekeyAsNewHolders } from '../../src/playbooks/vault-breach/vault-drill.ts';
import type { Lab } from '../../src/lab/lab.ts';

/**
 * The end of the rekey, when the plan keeps the seal's shares and threshold (the lab's 5 / 3, as most clusters):
 * Vault's API then shows the same thing after a completed verification and after a rekey cancelled during it
 * (no rekey in progress, the backup of the new shares, the same seal-status). Only what someone saw Vault report
 * tells them apart: a share given through `firebreak vault share` records it; otherwise the lead must say so.
 */

const statusOf = async (lab: Lab, runId: string): Promise<string> => (JSON.parse((await run(['--config', lab.configPath, 'runs', 'show', runId, '--json'])).stdout) as { run: { status: string } }).run.status;
const calledAfter = (lab: Lab, since: number, method: string, path: string): number => lab.vault.sim.calls().slice(since).filter((x) => !x.injected && x.status < 300 && x.method === method && x.path.split('?')[0] === path).length;

/** A run at its verification: unsealed, the rekey authorised by the current holders through the CLI. */
async function atVerification(t: TestContext): Promise<{ lab: Lab; c: string[]; runId: string }> {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  await loginsBefore(lab);
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  const runId = runIdOf(first);
  const old = lab.vault.unsealKeys.slice(0, lab.vault.threshold);
  for (let round = 0; round < 2; round++) {
    for (const [i, s] of old.entries()) {
      const r = await shareAs(lab, runId, `kh${i + 1}`, s);
      assert.equal(r.code, i === 2 ? 9 : 0, r.stdout + r.stderr);
    }
  }
  const seal = (await vaultCall(lab, 'GET', 'sys/seal-status')).json ?? {};
  assert.deepEqual([seal['n'], seal['t']], [5, 3], 'the plan keeps the seal\'s 5 shares / threshold 3');
  assert.equal((await vaultCall(lab, 'GET', 'sys/rekey/verify')).json?.['started'], true, 'the run waits at the verification');
  return { lab, c, runId };
}

const CANNOT_TELL = /rekey \S+ is no longer in progress, and Vault's seal takes 3 of 5 shares as it did before the rekey, so Vault cannot tell a completed verification from one cancelled after the quorum authorised it; Firebreak saw no share complete it .*Nothing after this step ran: Vault's backup of the new shares is kept and the encryption key is not rotated\. If the new holders completed the verification with `vault operator rekey -verify`, the incident lead records it: `firebreak vault verified run-\S+ --nonce <the verification's nonce>`\. If it was cancelled, the OLD shares are still the valid ones/;

test('vault-breach: a verification cancelled outside Firebreak, then the lead\'s confirmation, does not pass for a rekey: the run stops at rekey-verify, keeps the backup, rotates nothing, and the old shares still unseal', async (t) => {
  const { lab, c, runId } = await atVerification(t);
  const since = lab.vault.sim.calls().length;
  assert.equal((await vaultCall(lab, 'DELETE', 'sys/rekey/init')).status, 204, 'someone cancels the rekey during its verification');
  assert.equal((await vaultCall(lab, 'GET', 'sys/rekey/backup')).status, 200, 'Vault keeps the backup of the new shares it made');

  const confirmed = await run([...c, 'approve', runId, '--step', 'rekey-verify', '--as', 'carol']);
  assert.equal(confirmed.code, 8, confirmed.stdout + confirmed.stderr);
  assert.match(confirmed.stdout, CANNOT_TELL);
  assert.equal(await statusOf(lab, runId), 'failed');
  assert.equal(calledAfter(lab, since, 'DELETE', '/v1/sys/rekey/backup'), 0, 'the backup is kept');
  assert.equal(calledAfter(lab, since, 'POST', '/v1/sys/rotate'), 0, 'the key is not rotated');

  // Resuming changes nothing: the same stop, the same reason.
  const resumed = await run([...c, 'resume', runId, '--as', 'carol']);
  assert.equal(resumed.code, 8, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, CANNOT_TELL);

  // The lead cannot record a verification whose nonce they do not have; nothing is recorded.
  const guessed = await run([...c, 'vault', 'verified', runId, '--nonce', 'not-the-nonce', '--as', 'carol']);
  assert.equal(guessed.code, 2, guessed.stdout + guessed.stderr);
  assert.match(guessed.stderr, /--nonce "not-the-nonce" is not the nonce of run \S+'s verification \(of rekey \S+\): give the one `vault operator rekey -verify -status` showed the new holders\. Nothing was recorded/);
  const audit = JSON.parse((await run([...c, 'audit', 'tail', '--lines', '200', '--json'])).stdout) as { kind: string }[];
  assert.ok(!audit.some((e) => e.kind === 'credential.labelled'), 'nothing recorded');

  // The old shares are the valid ones: sealed, they unseal Vault (the rekey never took effect).
  assert.equal((await vaultCall(lab, 'PUT', 'sys/seal')).status, 204);
  let sealed = true;
  for (const key of lab.vault.unsealKeys.slice(0, 3)) sealed = (await vaultCall(lab, 'PUT', 'sys/unseal', { key })).json?.['sealed'] === true;
  assert.equal(sealed, false, 'the old shares unseal');
});

test('vault-breach: new holders who verify with Vault directly leave no trace Vault shows; the lead records it with the verification\'s nonce (`vault verified`), audited, and the run completes with one rotation', async (t) => {
  const { lab, c, runId } = await atVerification(t);
  const since = lab.vault.sim.calls().length;
  const nonce = String((await vaultCall(lab, 'GET', 'sys/rekey/verify')).json?.['nonce']);
  // Not yet verified: `vault verified` is refused while the verification is in progress.
  const early = await run([...c, 'vault', 'verified', runId, '--nonce', nonce, '--as', 'carol']);
  assert.equal(early.code, 5, early.stdout + early.stderr);
  assert.match(early.stderr, /the verification of rekey \S+ is still in progress \(0 of 3 new shares\): it has not completed\. The new holders submit theirs with `firebreak vault share run-\S+ --as <name>`\. Nothing was recorded/);

  await verifyRekeyAsNewHolders({ vault: vaultOfLab(lab) }, AbortSignal.timeout(60_000)); // `vault operator rekey -verify`, three times
  const approved = await run([...c, 'approve', runId, '--step', 'rekey-verify', '--as', 'carol']);
  assert.equal(approved.code, 8, approved.stdout + approved.stderr);
  assert.match(approved.stdout, CANNOT_TELL);

  const recorded = await run([...c, 'vault', 'verified', runId, '--nonce', nonce, '--as', 'carol']);
  assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
  assert.match(recorded.stdout, /Recorded: the new shares of rekey \S+ took effect \(verification \S+ completed outside Firebreak\), as stated by carol/);
  assert.equal(await statusOf(lab, runId), 'completed');
  assert.equal(calledAfter(lab, since, 'DELETE', '/v1/sys/rekey/backup'), 1);
  assert.equal(calledAfter(lab, since, 'POST', '/v1/sys/rotate'), 1);
  const audit = JSON.parse((await run([...c, 'audit', 'tail', '--lines', '500', '--json'])).stdout) as { kind: string; actor: string; data: { note?: string } }[];
  const labelled = audit.filter((e) => e.kind === 'credential.labelled');
  assert.equal(labelled.length, 1);
  assert.equal(labelled[0]?.actor, 'carol');
  assert.match(labelled[0]?.data.note ?? '', /carol states that the new holders completed verification \S+ of rekey \S+ outside Firebreak/);
  // Once the rekey took effect there is nothing left to state.
  const again = await run([...c, 'vault', 'verified', runId, '--nonce', nonce, '--as', 'carol']);
  assert.equal(again.code, 5, again.stdout + again.stderr);
  assert.match(again.stderr, /the rekey took effect already/);
  assert.equal((await run([...c, 'audit', 'verify'])).code, 0);
});
