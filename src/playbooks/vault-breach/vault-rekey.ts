import { FirebreakError } from '../../lib/errors.ts';
import type { AnyStep, StepDefinition, StepRef } from '../../engine/playbook-types.ts';
import type { RekeyStatus } from '../../connectors/vault/vault-sys.ts';
import { UNSEALED, type VaultBreachDeps, type VaultBreachInput, type VaultCtx } from './vault-deps.ts';
import { armoredShare, type RekeyPlan } from './vault-holders.ts';
import { isPlannedRekey, UNSEAL_SHARES, verifiedMark, type PlannedRekey } from './vault-share.ts';

/**
 * The rekey ceremony of vault-breach (docs/playbooks/vault-breach.md): the
 * current key holders unseal, then authorise a rekey to new shares, each
 * encrypted to one new holder's OpenPGP key; the new holders prove their
 * shares (require_verification: until they do, the old shares stay valid),
 * then the encryption key is rotated. Every share goes from its holder's
 * terminal straight to Vault (`firebreak vault share`): Firebreak's run
 * never holds one; it waits, durably, at a manual gate that the share
 * completing each round confirms.
 */

const step = <Out>(s: StepDefinition<VaultBreachInput, VaultBreachDeps, Out>) => s;

/** What the quorum steps need from containment's record: the seal's current shares and threshold. */
interface SealRecord { readonly seal: { readonly shares: number; readonly threshold: number }; readonly recordedAt: string }

export interface RekeyStarted {
  /** Vault's nonce of the rekey (not a secret: Vault shows it to anyone; named so that redaction keeps it). */
  readonly rekeyNonce: string;
  readonly shares: number;
  readonly threshold: number;
  readonly holders: readonly { readonly name: string; readonly fingerprint: string }[];
  /** The encryption key's term before the ceremony: the rotation must move past it. */
  readonly termBefore: number;
}

/** One holder's new share, as Vault encrypted it to their key: an armored OpenPGP message only they can decrypt. */
export interface DeliveredShare {
  readonly holder: string;
  readonly fingerprint: string;
  readonly message: string;
}

export interface RekeyShares {
  readonly rekeyNonce: string;
  readonly verificationNonce: string;
  readonly delivered: readonly DeliveredShare[];
}

export function planOf(ctx: VaultCtx): RekeyPlan {
  const plan = ctx.deps.rekey;
  if (plan === undefined) {
    throw new FirebreakError('CONFIG_INVALID', 'provider.vault.rekey is not configured: the rekey ceremony needs the new key holders (name and OpenPGP public key each) and the threshold. Add them to firebreak.yaml; nothing was changed');
  }
  return plan;
}

const share = (ctx: VaultCtx, as: string) => `\`firebreak vault share ${ctx.runId} --as ${as}\``;
const holdersText = (p: RekeyPlan) => p.holders.map((h) => `${h.name} (${h.fingerprint.slice(-16).toUpperCase()})`).join(', ');

/** Whether an in-progress rekey is the one this plan asks for (same holders' keys in order, same threshold, verification and backup on). */
function isOurs(s: RekeyStatus, p: RekeyPlan): boolean {
  return isPlannedRekey(s, { shares: p.holders.length, threshold: p.threshold, fingerprints: p.holders.map((h) => h.fingerprint) });
}

/** The rekey a run started, as a plan: a rekey in progress made to it is the run's (its own new one after a cancel). */
export const plannedOf = (r: RekeyStarted): PlannedRekey => ({ shares: r.shares, threshold: r.threshold, fingerprints: r.holders.map((h) => h.fingerprint) });

const started = (ctx: VaultCtx, init: StepRef<RekeyStarted>): RekeyStarted => {
  const r = ctx.output(init);
  if (r === undefined) throw new FirebreakError('INTERNAL', 'vault-breach: the rekey was not started');
  return r;
};

export function rekeySteps(recordAuth: StepRef<SealRecord>): AnyStep<VaultBreachInput, VaultBreachDeps>[] {
  const unsealVault = step<{ unsealed: true }>({
    id: 'unseal-vault', title: 'Key holders unseal Vault with the current quorum', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['seal-vault'], establishes: [UNSEALED],
    // Firebreak never holds the shares: each holder submits theirs from their own terminal.
    manual: (ctx) => {
      const s = ctx.output(recordAuth)?.seal;
      const quorum = s === undefined ? 'the threshold of' : `${s.threshold} of the ${s.shares}`;
      return `Vault at ${ctx.deps.url} was sealed by containment. The rekey and recovery need it unsealed: ${quorum} current key holders each run ${share(ctx, '<name>')} on their own terminal and type their unseal share (hidden; or \`--share-fd N\`). Firebreak passes each share straight to Vault and confirms this step when Vault reports unsealed. Shares submitted with \`vault operator unseal\` count too: then confirm with \`firebreak approve ${ctx.runId} --step unseal-vault\``;
    },
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: `key holders unseal Vault at ${ctx.deps.url} after containment sealed it (their shares go straight to Vault)` };
      const s = await ctx.deps.vault.sys.sealStatus(ctx.signal);
      return s.sealed ? { done: false, detail: `Vault is sealed (${s.progress} of ${s.t} shares submitted)` } : { done: true, detail: 'Vault is unsealed', output: { unsealed: true } };
    },
    apply: async (ctx) => {
      const s = await ctx.deps.vault.sys.sealStatus(ctx.signal);
      if (s.sealed) throw new FirebreakError('PRECONDITION_FAILED', `Vault at ${ctx.deps.url} is still sealed (${s.progress} of ${s.t} shares submitted): the key holders must unseal it (${share(ctx, '<name>')}), then \`firebreak resume ${ctx.runId}\``);
      return { unsealed: true };
    },
    verify: async (ctx) => {
      const s = await ctx.deps.vault.sys.sealStatus(ctx.signal);
      return s.sealed ? { ok: false, detail: 'seal-status says sealed' } : { ok: true, detail: 'seal-status: unsealed' };
    },
  });

  const rekeyInit = step<RekeyStarted>({
    id: 'rekey-init', title: 'Start the rekey: new shares, each encrypted to its holder\'s OpenPGP key, verification required', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['unseal-vault'], requires: [UNSEALED],
    check: async (ctx) => {
      const p = planOf(ctx);
      const what = `rekey to ${p.holders.length} shares / threshold ${p.threshold}, one per holder: ${holdersText(p)}; the new shares must be verified before they replace the old ones`;
      if (ctx.planning) return { done: false, detail: what };
      const s = await ctx.deps.vault.rekey.status(ctx.signal);
      if (!s.started) return { done: false, detail: what };
      if (!isOurs(s, p)) {
        throw new FirebreakError('PRECONDITION_FAILED', `Vault at ${ctx.deps.url} has a rekey in progress that is not this run's (nonce ${s.nonce}: ${s.n} shares / threshold ${s.t}, PGP keys ${s.pgpFingerprints.join(', ') || 'none'}, verification ${s.verificationRequired ? 'required' : 'not required'}). Nobody should submit a share to it: find out who started it, cancel it (\`vault operator rekey -cancel\`), then \`firebreak resume ${ctx.runId}\``);
      }
      const term = (await ctx.deps.vault.sys.keyStatus(ctx.signal)).term;
      return { done: true, detail: `the rekey (nonce ${s.nonce}) is in progress as planned`, output: { rekeyNonce: s.nonce, shares: s.n, threshold: s.t, holders: p.holders.map((h) => ({ name: h.name, fingerprint: h.fingerprint })), termBefore: term } };
    },
    apply: async (ctx) => {
      const p = planOf(ctx);
      const termBefore = (await ctx.deps.vault.sys.keyStatus(ctx.signal)).term;
      const s = await ctx.deps.vault.rekey.init({ secretShares: p.holders.length, secretThreshold: p.threshold, pgpKeys: p.holders.map((h) => h.publicKey), backup: true, requireVerification: true }, ctx.signal);
      return { rekeyNonce: s.nonce, shares: p.holders.length, threshold: p.threshold, holders: p.holders.map((h) => ({ name: h.name, fingerprint: h.fingerprint })), termBefore };
    },
    verify: async (ctx, out) => {
      const s = await ctx.deps.vault.rekey.status(ctx.signal);
      return s.started && s.nonce === out?.rekeyNonce ? { ok: true, detail: `rekey ${s.nonce} in progress: ${s.n} shares / threshold ${s.t}, PGP keys of ${s.pgpFingerprints.length} holder(s)` } : { ok: false, detail: 'Vault shows no rekey with this nonce' };
    },
  });

  /**
   * The new shares, once the current quorum authorised the rekey: read back from Vault's backup (encrypted: Firebreak
   * cannot read them). `cancelled`: Vault has no rekey in progress and never made the new shares of the run's (no backup
   * of it), so the old shares are still the valid ones and a new rekey to the same plan can replace it.
   */
  async function newShares(ctx: VaultCtx): Promise<RekeyShares | { detail: string; cancelled: boolean }> {
    const r = started(ctx, rekeyInit);
    const s = await ctx.deps.vault.rekey.status(ctx.signal);
    if (!s.started) {
      // Vault keeps the backup of a rekey's new shares from the moment the quorum authorised it: then it was not merely cancelled.
      if ((await ctx.deps.vault.rekey.backup(ctx.signal))?.nonce === r.rekeyNonce) return { detail: `rekey ${r.rekeyNonce} is no longer in progress, but the current holders had authorised it (Vault's backup holds its new shares): it completed, or was cancelled during its verification. Check \`vault operator rekey -status\` and the seal before going on`, cancelled: false };
      return { detail: `the rekey this run started (nonce ${r.rekeyNonce}) is no longer in progress: it was cancelled outside Firebreak, or Vault was sealed or restarted, which discards it. The current holders had not authorised it, so the old shares are still the valid ones`, cancelled: true };
    }
    // The run's rekey, or the new one it started to its plan after a cancel.
    if (s.nonce !== r.rekeyNonce && !isPlannedRekey(s, plannedOf(r))) return { detail: `Vault's rekey in progress (nonce ${s.nonce}) is not this run's (${r.rekeyNonce})`, cancelled: false };
    if (s.verificationNonce === '') return { detail: `${s.progress} of ${s.required} current shares submitted for rekey ${s.nonce}`, cancelled: false };
    const backup = await ctx.deps.vault.rekey.backup(ctx.signal);
    if (backup?.nonce !== s.nonce) return { detail: `Vault holds no encrypted copy of the new shares of rekey ${s.nonce}: cancel it (\`vault operator rekey -cancel\`) and start a new run`, cancelled: false };
    const delivered = r.holders.map((h, i) => {
      // One entry per share, in the holders' order; a fingerprint listed twice has its shares in that order.
      const k = r.holders.slice(0, i).filter((x) => x.fingerprint === h.fingerprint).length;
      const b64 = backup.keys[h.fingerprint]?.[k];
      if (b64 === undefined) throw new FirebreakError('UPSTREAM_REJECTED', `Vault's backup of rekey ${s.nonce} has no share for ${h.name} (${h.fingerprint})`);
      return { holder: h.name, fingerprint: h.fingerprint, message: armoredShare(b64) };
    });
    return { rekeyNonce: s.nonce, verificationNonce: s.verificationNonce, delivered };
  }

  const rekeyUpdate = step<RekeyShares>({
    id: 'rekey-update', title: 'Current key holders authorise the rekey with their shares', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['rekey-init'], requires: [UNSEALED],
    manual: (ctx) => {
      const s = ctx.output(recordAuth)?.seal;
      const r = ctx.output(rekeyInit);
      return `Rekey ${r?.rekeyNonce ?? ''} waits for ${s === undefined ? 'the threshold of' : `${s.threshold} of the ${s.shares}`} CURRENT key holders: each runs ${share(ctx, '<name>')} and types their current unseal share. Firebreak checks that Vault's rekey is this run's (nonce, holders' keys) before it submits a share. The share that completes the quorum confirms this step; Vault then hands out the new shares encrypted to each new holder's key`;
    },
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: 'the current key holders submit their shares to the rekey (straight to Vault)' };
      const got = await newShares(ctx);
      return 'detail' in got ? { done: false, detail: got.detail } : { done: true, detail: `the quorum authorised rekey ${got.rekeyNonce}; ${got.delivered.length} new shares encrypted to their holders`, output: got };
    },
    apply: async (ctx) => {
      const got = await newShares(ctx);
      if (!('detail' in got)) return got;
      const s = ctx.output(recordAuth)?.seal;
      const quorum = s === undefined ? 'the threshold of the' : `${s.threshold} of the ${s.shares}`;
      if (!got.cancelled) throw new FirebreakError('PRECONDITION_FAILED', `${got.detail}: the key holders submit with ${share(ctx, '<name>')}, then \`firebreak resume ${ctx.runId}\``);
      // Cancelled outside Firebreak, and this step runs only once the operator confirmed it (the step's approval, or a
      // resume after that): a new rekey to the same plan, which the current holders then authorise.
      const r = started(ctx, rekeyInit);
      const p = planOf(ctx);
      const samePlan = p.threshold === r.threshold && p.holders.length === r.holders.length && p.holders.every((h, i) => h.fingerprint.toLowerCase() === r.holders[i]?.fingerprint.toLowerCase());
      if (!samePlan) {
        throw new FirebreakError('CONFIG_INVALID', `${got.detail}. provider.vault.rekey no longer names the holders and threshold this run planned (${r.holders.map((h) => h.name).join(', ')}; ${r.threshold} of ${r.shares}), so no new rekey was started: start a new vault-breach run for the rekey`);
      }
      const n = await ctx.deps.vault.rekey.init({ secretShares: p.holders.length, secretThreshold: p.threshold, pgpKeys: p.holders.map((h) => h.publicKey), backup: true, requireVerification: true }, ctx.signal);
      throw new FirebreakError('PRECONDITION_FAILED', `${got.detail}. Firebreak started a new rekey (nonce ${n.nonce}) to the same plan (${holdersText(p)}; ${p.threshold} of ${p.holders.length}): ${quorum} CURRENT key holders authorise it with ${share(ctx, '<name>')} (their current unseal share again); the share that completes the quorum continues the run`);
    },
    verify: async (ctx, out) => {
      const v = await ctx.deps.vault.rekey.verifyStatus(ctx.signal);
      return v.started && v.nonce === out?.verificationNonce ? { ok: true, detail: `verification of rekey ${out.rekeyNonce} open: ${v.t} of the ${v.n} new shares prove it` } : { ok: false, detail: 'no verification in progress for this rekey' };
    },
  });

  const rekeyVerify = step<{ shares: number; threshold: number }>({
    id: 'rekey-verify', title: 'New key holders prove their shares; the rekey takes effect', phase: 'eradication', system: 'vault', effect: 'irreversible', idempotency: 'natural',
    dependsOn: ['rekey-update'], requires: [UNSEALED],
    manual: (ctx) => {
      const r = ctx.output(rekeyInit);
      return `Each NEW key holder gets their own new share, encrypted to their key: \`firebreak vault new-share ${ctx.runId} --as <name> | gpg --decrypt\`. ${r === undefined ? 'The threshold' : `${r.threshold} of the ${r.shares}`} of them then submit it with ${share(ctx, '<name>')}. Until this round completes the old shares stay valid; the share that completes it confirms this step, and from then on only the new shares unseal`;
    },
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: 'the new holders prove the threshold of their new shares (straight to Vault); then only the new shares unseal' };
      const got = await rekeyInForce(ctx);
      if (got.inForce) return { done: true, detail: got.detail, output: { shares: got.shares, threshold: got.threshold } };
      if (got.pending) return { done: false, detail: got.detail };
      throw new FirebreakError('PRECONDITION_FAILED', got.detail);
    },
    apply: async (ctx) => {
      const nonce = ctx.output(rekeyUpdate)?.rekeyNonce ?? started(ctx, rekeyInit).rekeyNonce;
      const v = await ctx.deps.vault.rekey.verifyStatus(ctx.signal);
      throw new FirebreakError('PRECONDITION_FAILED', `rekey ${nonce} is not verified yet (${v.progress} of ${v.t} new shares): the new holders submit theirs with ${share(ctx, '<name>')}, then \`firebreak resume ${ctx.runId}\``);
    },
    verify: async (ctx) => {
      const got = await rekeyInForce(ctx);
      return { ok: got.inForce, detail: got.detail };
    },
  });

  /**
   * Whether the run's new shares are the ones Vault unseals with now. Vault shows it only when the seal's shares or
   * threshold changed; when the plan keeps them, a verification cancelled after the quorum authorised the rekey looks
   * the same as a completed one, and only the record of whoever saw Vault complete it ({@link UNSEAL_SHARES}) tells.
   */
  async function rekeyInForce(ctx: VaultCtx): Promise<{ inForce: true; shares: number; threshold: number; detail: string } | { inForce: false; pending: boolean; detail: string }> {
    const r = started(ctx, rekeyInit);
    const nonce = ctx.output(rekeyUpdate)?.rekeyNonce ?? r.rekeyNonce;
    const s = await ctx.deps.vault.rekey.status(ctx.signal);
    if (s.started && s.nonce === nonce) {
      const v = await ctx.deps.vault.rekey.verifyStatus(ctx.signal);
      return { inForce: false, pending: true, detail: `${v.progress} of ${v.t} new shares verified` };
    }
    const seal = await ctx.deps.vault.sys.sealStatus(ctx.signal);
    const planned = seal.n === r.shares && seal.t === r.threshold;
    const before = ctx.output(recordAuth)?.seal;
    const sealNow = `${seal.t} of ${seal.n} shares`;
    if ((await ctx.credentials.stages(UNSEAL_SHARES)).CURRENT === verifiedMark(nonce)) {
      if (planned) return { inForce: true, shares: seal.n, threshold: seal.t, detail: `the verification of rekey ${nonce} completed (recorded when Vault reported it); Vault's seal takes ${sealNow}` };
      return { inForce: false, pending: false, detail: `the verification of rekey ${nonce} was recorded as complete, but Vault's seal takes ${sealNow}, not the ${r.threshold} of ${r.shares} planned: someone rekeyed Vault since. Find out who before going on` };
    }
    if (planned && before !== undefined && (before.shares !== seal.n || before.threshold !== seal.t)) {
      return { inForce: true, shares: seal.n, threshold: seal.t, detail: `Vault's seal now takes ${sealNow} (it took ${before.threshold} of ${before.shares} before the rekey)` };
    }
    const held = 'Nothing after this step ran: Vault\'s backup of the new shares is kept and the encryption key is not rotated';
    if (planned) {
      return {
        inForce: false, pending: false,
        detail: `rekey ${nonce} is no longer in progress, and Vault's seal takes ${sealNow} as it did before the rekey, so Vault cannot tell a completed verification from one cancelled after the quorum authorised it; Firebreak saw no share complete it (it sees those given with \`firebreak vault share\`). ${held}. If the new holders completed the verification with \`vault operator rekey -verify\`, the incident lead records it: \`firebreak vault verified ${ctx.runId} --nonce <the verification's nonce>\`. If it was cancelled, the OLD shares are still the valid ones: start a new vault-breach run for the rekey`,
      };
    }
    return { inForce: false, pending: false, detail: `rekey ${nonce} is no longer in progress, and Vault's seal takes ${sealNow}, not the ${r.threshold} of ${r.shares} planned: it was cancelled before the verification completed, so the OLD shares are still valid. ${held}. Start a new vault-breach run for the rekey` };
  }

  const dropBackup = step<{ deleted: boolean }>({
    id: 'drop-rekey-backup', title: 'Delete Vault\'s backup of the encrypted new shares', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['rekey-verify'], requires: [UNSEALED],
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: 'delete sys/rekey/backup once the new shares are verified (each holder has theirs from Firebreak)' };
      return (await ctx.deps.vault.rekey.backup(ctx.signal)) === undefined ? { done: true, detail: 'Vault keeps no backup of the shares', output: { deleted: false } } : { done: false, detail: 'delete sys/rekey/backup' };
    },
    apply: async (ctx) => { await ctx.deps.vault.rekey.deleteBackup(ctx.signal); return { deleted: true }; },
    verify: async (ctx) => ((await ctx.deps.vault.rekey.backup(ctx.signal)) === undefined ? { ok: true, detail: 'sys/rekey/backup: no backed-up keys' } : { ok: false, detail: 'sys/rekey/backup still answers' }),
  });

  const rotateKey = step<{ term: number }>({
    id: 'rotate-key', title: 'Rotate Vault\'s encryption key (sys/rotate)', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['rekey-verify'], requires: [UNSEALED],
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: 'rotate the barrier encryption key: new writes under a new term' };
      const r = started(ctx, rekeyInit);
      const k = await ctx.deps.vault.sys.keyStatus(ctx.signal);
      return k.term > r.termBefore ? { done: true, detail: `key term ${k.term} (was ${r.termBefore})`, output: { term: k.term } } : { done: false, detail: `rotate key term ${k.term}` };
    },
    apply: async (ctx) => {
      await ctx.deps.vault.sys.rotate(ctx.signal);
      return { term: (await ctx.deps.vault.sys.keyStatus(ctx.signal)).term };
    },
    verify: async (ctx) => {
      const r = started(ctx, rekeyInit);
      const k = await ctx.deps.vault.sys.keyStatus(ctx.signal);
      return k.term > r.termBefore ? { ok: true, detail: `key-status: term ${k.term}, installed ${k.installTime}` } : { ok: false, detail: `key-status still at term ${k.term}` };
    },
  });

  return [unsealVault, rekeyInit, rekeyUpdate, rekeyVerify, dropBackup, rotateKey];
}
