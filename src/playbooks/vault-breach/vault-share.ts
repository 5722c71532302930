import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { vaultReasonOf, type RekeyStatus, type VaultClient } from '../../connectors/vault/vault-client.ts';

/**
 * One key holder's share, from their terminal straight to Vault: the part
 * of `firebreak vault share` (and of the drill's key holders) that talks to
 * Vault. The share is passed as a Secret to one request and is never
 * returned, logged or stored; what comes back is only the round's progress.
 */

/** The manual steps of vault-breach that wait for key shares, and the Vault round each feeds. */
export const SHARE_ROUNDS = { 'unseal-vault': 'unseal', 'rekey-update': 'rekey', 'rekey-verify': 'verify' } as const;
export type ShareStep = keyof typeof SHARE_ROUNDS;
export const isShareStep = (s: string): s is ShareStep => Object.hasOwn(SHARE_ROUNDS, s);

export interface ShareResult {
  /** The round reached its threshold with this share (or had already). */
  readonly complete: boolean;
  readonly progress: number;
  readonly threshold: number;
  /** What happened, in words, for the holder. */
  readonly detail: string;
}

/** Hex or base64, as Vault's unseal and rekey handlers decode a key (checked here so that a typo is named before anything is sent). */
export function checkShareFormat(share: Secret): void {
  const k = share.reveal();
  if (k === '') throw new FirebreakError('INVALID_INPUT', 'the share is empty');
  const hex = /^([0-9a-fA-F]{2})+$/.test(k) && k.length / 2 >= 16 && k.length / 2 <= 33;
  const b64 = k.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(k) && Buffer.from(k, 'base64').length >= 16;
  if (!hex && !b64) throw new FirebreakError('INVALID_INPUT', `the share is neither hex nor base64 of 16–33 bytes (${k.length} characters read): Vault would refuse it; check for a truncated paste or a stray character`);
}

/**
 * Which rekey's shares are in force, as a credential's CURRENT stage: labelled `rekey:<nonce>` by whoever saw Vault
 * complete that rekey's verification (`firebreak vault share`, the drill's holders, or the incident lead's
 * `firebreak vault verified`). Vault's API cannot show it afterwards: a verification cancelled after the quorum
 * authorised the rekey leaves the same backup, no rekey in progress and, when the plan keeps the seal's shares and
 * threshold, the same seal-status as a completed one.
 */
export const UNSEAL_SHARES = 'vault-unseal-shares:provider';
export const verifiedMark = (rekeyNonce: string): string => `rekey:${rekeyNonce}`;

/** The rekey a run planned (rekey-init's output): the new holders' key fingerprints in order, the shares and the threshold. */
export interface PlannedRekey { readonly shares: number; readonly threshold: number; readonly fingerprints: readonly string[] }

/**
 * Whether Vault's rekey in progress is the planned one: these holders' keys in order, this threshold, verification and
 * backup on. Its new shares go to these holders only and take effect only once they verify theirs, so a share given to
 * it hands nobody else anything (rekey-init joins such a rekey; a run's new rekey after a cancel is one).
 */
export function isPlannedRekey(s: RekeyStatus, p: PlannedRekey): boolean {
  return s.started && s.n === p.shares && s.t === p.threshold && s.verificationRequired && s.backup
    && s.pgpFingerprints.length === p.fingerprints.length && s.pgpFingerprints.every((f, i) => f.toLowerCase() === p.fingerprints[i]?.toLowerCase());
}

/** Vault's refusal of a share, with what it means for the holder (never the share: the connector keeps it out of errors). */
function refused(err: unknown, round: string): never {
  if (!(err instanceof FirebreakError)) throw err;
  const m = err.message;
  // A rate limit, a standby's redirect (never followed), a DR or performance standby: answered before Vault handled the share.
  const reason = vaultReasonOf(err);
  if (reason === 'rate-limited' || reason === 'standby' || reason === 'dr-secondary' || reason === 'performance-standby') {
    const then = reason === 'rate-limited' ? 'Submit the same share again in a moment' : 'provider.vault.url must name the active node (or an address that reaches it); then submit the same share again';
    throw new FirebreakError(err.code, `Vault did not take the share for the ${round} round (nothing was counted): ${m}. ${then}`, { cause: err, retryable: err.retryable, ...(err.details === undefined ? {} : { details: err.details }) });
  }
  // The shares did not combine to the key (a wrong, old or foreign share among them; two with the same x-coordinate).
  const combine = /verification failed|incorrect key shares|message authentication failed|failed to compute|failed to decrypt|invalid key|duplicate part/.test(m);
  const hint = /already been provided/.test(m) ? 'this share was given already in this round: the next holder submits theirs'
    : combine && round === 'verify' ? 'the shares did not combine to the new key (an old share, or one from another rekey, among them): the verification round starts again and every new holder submits their NEW share again'
      : combine ? `the shares did not combine to Vault's key (a wrong or foreign share among them): the ${round} round starts again`
        : /nonce/.test(m) ? 'the round changed meanwhile (a new nonce): run the command again' : undefined;
  throw new FirebreakError(err.code, `Vault refused the share for the ${round} round: ${m}${hint === undefined ? '' : `. ${hint}`}`, { cause: err, retryable: err.retryable });
}

/**
 * Submits `share` to the round that `step` waits for. `nonce` is the rekey
 * this run started (rekey and verify rounds): a share is never given to a
 * rekey somebody else started, which would hand them the new shares.
 */
export async function submitShare(v: VaultClient, step: ShareStep, share: Secret, nonce: string | undefined, signal?: AbortSignal, planned?: PlannedRekey): Promise<ShareResult> {
  checkShareFormat(share);
  const round = SHARE_ROUNDS[step];
  if (round === 'unseal') {
    const s = await v.sys.sealStatus(signal);
    if (!s.sealed) return { complete: true, progress: s.t, threshold: s.t, detail: 'Vault is already unsealed: the share was not needed (and not sent)' };
    const u = await v.sys.unseal(share, signal).catch((e: unknown) => refused(e, round));
    // Vault ignores a share already given in this round (200, progress unchanged): say so rather than "accepted".
    if (u.sealed && u.progress === s.progress && s.progress > 0) throw new FirebreakError('INVALID_INPUT', `Vault did not count the share: it was given already in this unseal round (still ${u.progress} of ${u.t}); the next holder submits theirs`);
    return u.sealed ? { complete: false, progress: u.progress, threshold: u.t, detail: `accepted: ${u.progress} of ${u.t} shares` } : { complete: true, progress: u.t, threshold: u.t, detail: 'Vault is unsealed' };
  }
  const s = await v.rekey.status(signal);
  if (!s.started) {
    throw new FirebreakError('CONFLICT', `Vault has no rekey in progress: the rekey this run started${nonce === undefined ? '' : ` (nonce ${nonce})`} was cancelled outside Firebreak, or Vault was sealed or restarted (which discards a rekey), or it completed. The share was NOT sent`, { details: { rekey: 'none' } });
  }
  // The rekey round also takes a rekey made to the run's plan (the run's own new one after a cancel): its new shares go to the run's holders only.
  const ours = nonce !== undefined && (s.nonce === nonce || (round === 'rekey' && planned !== undefined && isPlannedRekey(s, planned)));
  if (!ours) throw new FirebreakError('CONFLICT', `Vault's rekey in progress (nonce ${s.nonce}) is not the one this run started (${nonce ?? 'none yet'}): the share was NOT sent. Someone else started it; tell the incident lead`);
  if (round === 'rekey') {
    if (s.verificationNonce !== '') return { complete: true, progress: s.required, threshold: s.required, detail: 'the quorum already authorised this rekey: the share was not needed (and not sent); the new holders verify next' };
    const u = await v.rekey.update(share, s.nonce, signal).catch((e: unknown) => refused(e, round));
    return u.complete ? { complete: true, progress: s.required, threshold: s.required, detail: 'the quorum is complete: Vault made the new shares, each encrypted to its holder\'s key' }
      : { complete: false, progress: u.status.progress, threshold: u.status.required, detail: `accepted: ${u.status.progress} of ${u.status.required} current shares` };
  }
  if (s.verificationNonce === '') throw new FirebreakError('CONFLICT', `rekey ${s.nonce} is not at its verification yet (${s.progress} of ${s.required} current shares): a NEW share cannot be verified before the current holders authorised the rekey; the share was not sent`);
  const vs = await v.rekey.verifyStatus(signal);
  const r = await v.rekey.verify(share, vs.nonce, signal).catch((e: unknown) => refused(e, round));
  return r.complete ? { complete: true, progress: vs.t, threshold: vs.t, detail: `verified: the rekey took effect, Vault now unseals with ${vs.t} of the ${vs.n} new shares only` }
    : { complete: false, progress: r.progress, threshold: vs.t, detail: `accepted: ${r.progress} of ${vs.t} new shares verified` };
}
