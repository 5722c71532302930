import { writeFileSync } from 'node:fs';
import { FirebreakError } from '../lib/errors.ts';
import type { StepRecord } from '../engine/runtime-types.ts';
import type { AppContext } from './cli-context.ts';
import { approve, resume } from './run-actions.ts';
import { checkExportTarget } from './export-file.ts';
import { readHidden } from './hidden-input.ts';
import type { VaultClient } from '../connectors/vault/vault-client.ts';
import { isShareStep, SHARE_ROUNDS, submitShare, UNSEAL_SHARES, verifiedMark, type ShareStep } from '../playbooks/vault-breach/vault-share.ts';
import { plannedOf, type DeliveredShare, type RekeyShares, type RekeyStarted } from '../playbooks/vault-breach/vault-rekey.ts';

export interface ShareOptions { readonly shareFd?: string; readonly resume: boolean }

/** A completed step's own output (the journal keeps it inside the step's outcome). */
function outputOf<T>(steps: readonly StepRecord[], id: string): T | undefined {
  const s = steps.find((x) => x.stepId === id && x.status === 'completed');
  return (s?.output as { output?: T } | null | undefined)?.output;
}

async function vaultRun(c: AppContext, runRef: string): Promise<{ runId: string; steps: readonly StepRecord[] }> {
  const d = await c.app.queries.runDetail(runRef);
  if (d.run.workflow !== 'vault-breach') throw new FirebreakError('USAGE', `run ${d.run.id} is a ${d.run.workflow} run: key shares go to vault-breach runs only`);
  return { runId: d.run.id, steps: d.steps };
}

const PROMPTS: Record<ShareStep, string> = {
  'unseal-vault': 'Your CURRENT unseal share (input hidden): ',
  'rekey-update': 'Your CURRENT unseal share, to authorise the rekey (input hidden): ',
  'rekey-verify': 'Your NEW share, decrypted (input hidden): ',
};

async function providerVault(c: AppContext): Promise<VaultClient> {
  const p = c.app.settings.config;
  const settings = p.loaded.config.provider?.vault;
  if (settings === undefined) throw new FirebreakError('CONFIG_INVALID', 'provider.vault is not configured in firebreak.yaml');
  return p.connect('vault', settings, 'provider.vault');
}

/** `firebreak vault share <run>`: one holder's share, to the round the run waits for. */
export async function share(c: AppContext, runRef: string, o: ShareOptions): Promise<number> {
  const who = c.actor();
  const { runId, steps } = await vaultRun(c, runRef);
  const waiting = steps.find((s) => s.kind === 'signal' && s.status !== 'completed' && s.stepId.startsWith('approve-') && isShareStep(s.stepId.slice('approve-'.length)));
  // A round whose step was confirmed but failed for want of shares (confirmed early, or a new rekey after a cancel) still takes them.
  const failed = steps.find((s) => s.kind === 'step' && s.status === 'failed' && isShareStep(s.stepId) && steps.some((g) => g.stepId === `approve-${s.stepId}` && g.status === 'completed'));
  const gate = waiting ?? (failed === undefined ? undefined : { stepId: `approve-${failed.stepId}` });
  if (gate === undefined) {
    const waiting = steps.filter((s) => s.kind === 'signal' && s.status !== 'completed').map((s) => s.stepId.replace(/^approve-/, ''));
    throw new FirebreakError('CONFLICT', `run ${runId} is not waiting for a key share${waiting.length > 0 ? ` (it waits at ${waiting.join(', ')})` : ''}: nothing was sent. Shares are taken at unseal-vault, rekey-update and rekey-verify`);
  }
  const step = gate.stepId.slice('approve-'.length) as ShareStep;
  const started = outputOf<RekeyStarted>(steps, 'rekey-init');
  // The verification is of the rekey the quorum authorised (the run's first, or the new one it started after a cancel).
  const nonce = step === 'rekey-verify' ? outputOf<RekeyShares>(steps, 'rekey-update')?.rekeyNonce ?? started?.rekeyNonce : started?.rekeyNonce;
  const secret = await readHidden({ prompt: PROMPTS[step], fd: o.shareFd, fdFlag: '--share-fd', what: 'share' });
  const vault = await providerVault(c);
  let result;
  try {
    result = await submitShare(vault, step, secret, nonce, AbortSignal.timeout(60_000), started === undefined ? undefined : plannedOf(started));
  } catch (err) {
    // The run's rekey was cancelled outside Firebreak: the way forward is the incident lead's.
    if (step === 'rekey-update' && err instanceof FirebreakError && err.details?.['rekey'] === 'none') {
      const next = waiting === undefined
        ? `The incident lead starts a new rekey to the run's plan (the same new holders) with \`firebreak resume ${runId}\``
        : `To start a new rekey to the run's plan (the same new holders), the incident lead confirms with \`firebreak approve ${runId} --step rekey-update\``;
      throw new FirebreakError('CONFLICT', `Vault has no rekey in progress: the rekey this run started (nonce ${nonce ?? 'none'}) was cancelled outside Firebreak (or Vault was sealed or restarted, which discards a rekey) before the current key holders authorised it. Your share was NOT sent, and the old shares are still the valid ones. ${next}; the current key holders then submit their shares again`, { cause: err, details: err.details });
    }
    throw err;
  } finally {
    await vault.close();
  }
  if (c.g.json && !result.complete) c.out.data({ runId, step, round: SHARE_ROUNDS[step], complete: false, progress: result.progress, threshold: result.threshold });
  else if (!c.g.json) c.out.line(`${SHARE_ROUNDS[step]}: ${result.detail}`);
  if (!result.complete) return 0;
  // Vault reported the verification complete: recorded now, as nothing in Vault's API shows it afterwards.
  if (step === 'rekey-verify' && nonce !== undefined) await c.app.labelCredential({ runRef: runId, ref: UNSEAL_SHARES, fingerprint: verifiedMark(nonce), actor: who, note: `${who}'s share completed the verification of rekey ${nonce}` });
  return confirmRound(c, runId, step, waiting !== undefined, `${who}'s share completed the ${SHARE_ROUNDS[step]} round`, o.resume);
}

/** A round complete in Vault: the run's step confirmed (or, confirmed already, the run continued). */
async function confirmRound(c: AppContext, runId: string, step: ShareStep, waiting: boolean, note: string, resumeRun: boolean): Promise<number> {
  const who = c.actor();
  if (!waiting) {
    // The step was confirmed already: the run goes on from it.
    if (!resumeRun) { c.out.line(`Round complete: continue the run with \`firebreak resume ${runId}\``); return 0; }
    return resume(c, runId, { yes: false, detach: true });
  }
  try {
    return await approve(c, runId, { step, reject: false, note, resume: resumeRun });
  } catch (err) {
    if (err instanceof FirebreakError && err.code === 'APPROVAL_INVALID') {
      throw new FirebreakError('APPROVAL_INVALID', `the ${SHARE_ROUNDS[step]} round is complete in Vault, but step ${step} could not be confirmed as ${who}: ${err.message}. Someone else confirms it: \`firebreak approve ${runId} --step ${step}\``, { cause: err });
    }
    throw err;
  }
}

/**
 * `firebreak vault verified <run> --nonce N`: the incident lead records that the new holders completed the run's
 * verification outside Firebreak (`vault operator rekey -verify`), which Vault's API cannot show once it is over.
 */
export async function verified(c: AppContext, runRef: string, o: { nonce: string; resume: boolean }): Promise<number> {
  const who = c.actor();
  const { runId, steps } = await vaultRun(c, runRef);
  const shares = outputOf<RekeyShares>(steps, 'rekey-update');
  if (shares === undefined) throw new FirebreakError('CONFLICT', `run ${runId} has not reached the verification: the current key holders authorise the rekey first (\`firebreak vault share ${runId}\` at rekey-update). Nothing was recorded`);
  if (steps.some((s) => s.kind === 'step' && s.stepId === 'rekey-verify' && s.status === 'completed')) throw new FirebreakError('CONFLICT', `run ${runId}: the rekey took effect already (step rekey-verify completed). Nothing was recorded`);
  if (o.nonce.trim() !== shares.verificationNonce) {
    throw new FirebreakError('INVALID_INPUT', `--nonce ${JSON.stringify(o.nonce)} is not the nonce of run ${runId}'s verification (of rekey ${shares.rekeyNonce}): give the one \`vault operator rekey -verify -status\` showed the new holders. Nothing was recorded`);
  }
  const vault = await providerVault(c);
  try {
    const s = await vault.rekey.status(AbortSignal.timeout(60_000));
    if (s.started && s.nonce === shares.rekeyNonce) {
      const v = await vault.rekey.verifyStatus(AbortSignal.timeout(60_000));
      throw new FirebreakError('CONFLICT', `the verification of rekey ${s.nonce} is still in progress (${v.progress} of ${v.t} new shares): it has not completed. The new holders submit theirs with \`firebreak vault share ${runId} --as <name>\`. Nothing was recorded`);
    }
    if (s.started) throw new FirebreakError('CONFLICT', `Vault has a rekey in progress (nonce ${s.nonce}) that is not this run's: find out who started it before recording anything. Nothing was recorded`);
    const seal = await vault.sys.sealStatus(AbortSignal.timeout(60_000));
    const planned = outputOf<RekeyStarted>(steps, 'rekey-init');
    if (planned !== undefined && (seal.n !== planned.shares || seal.t !== planned.threshold)) {
      throw new FirebreakError('CONFLICT', `Vault's seal takes ${seal.t} of ${seal.n} shares, not the ${planned.threshold} of ${planned.shares} of this run's rekey: its verification did not complete (it was cancelled, and the OLD shares are still valid). Nothing was recorded`);
    }
  } finally {
    await vault.close();
  }
  await c.app.labelCredential({ runRef: runId, ref: UNSEAL_SHARES, fingerprint: verifiedMark(shares.rekeyNonce), actor: who, note: `${who} states that the new holders completed verification ${shares.verificationNonce} of rekey ${shares.rekeyNonce} outside Firebreak` });
  if (!c.g.json) c.out.line(`Recorded: the new shares of rekey ${shares.rekeyNonce} took effect (verification ${shares.verificationNonce} completed outside Firebreak), as stated by ${who}`);
  const waiting = steps.some((s) => s.kind === 'signal' && s.status !== 'completed' && s.stepId === 'approve-rekey-verify');
  return confirmRound(c, runId, 'rekey-verify', waiting, `${who} stated that the verification completed outside Firebreak`, o.resume);
}

/** `firebreak vault new-share <run>`: the holder's own new share, as Vault encrypted it to their key. */
export async function newShare(c: AppContext, runRef: string, o: { out?: string }): Promise<number> {
  const who = c.actor();
  const { runId, steps } = await vaultRun(c, runRef);
  const shares = outputOf<{ delivered: readonly DeliveredShare[] }>(steps, 'rekey-update')?.delivered;
  if (shares === undefined) throw new FirebreakError('CONFLICT', `run ${runId} has no new shares yet: the current key holders authorise the rekey first (\`firebreak vault share ${runId}\` at rekey-update)`);
  const mine = shares.find((s) => s.holder === who);
  if (mine === undefined) throw new FirebreakError('NOT_FOUND', `${who} holds no new share of run ${runId} (holders: ${shares.map((s) => s.holder).join(', ')}); give your holder name with --as`);
  if (o.out !== undefined) {
    checkExportTarget(o.out);
    writeFileSync(o.out, mine.message, { mode: 0o600, flag: 'wx' });
    if (!c.g.json) c.out.line(`Wrote ${who}'s new share (encrypted to key ${mine.fingerprint.toUpperCase()}) to ${o.out}: decrypt it with \`gpg --decrypt ${o.out}\``);
  } else if (c.g.json) {
    c.out.data({ runId, holder: who, fingerprint: mine.fingerprint, message: mine.message });
  } else {
    process.stdout.write(mine.message);
  }
  return 0;
}
