import { decrypt, readMessage, readPrivateKey } from 'openpgp';
import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { createVaultClient, type VaultClient } from '../../connectors/vault/vault-client.ts';
import type { DrillLab, DrillSaw } from '../playbook-descriptor.ts';
import { submitShare, UNSEAL_SHARES, verifiedMark, type ShareStep } from './vault-share.ts';

/**
 * What the key holders do in a drill, through the same code as
 * `firebreak vault share`: the lab's current shares unseal and authorise
 * the rekey; the lab's holders decrypt their new shares with their private
 * keys and verify them. Lab only: a real Vault's shares are typed by their
 * holders and never reach Firebreak.
 */

function labVault(lab: DrillLab): NonNullable<DrillLab['vault']> {
  if (lab.vault === undefined) throw new FirebreakError('INTERNAL', 'the vault-breach drill needs the lab Vault');
  return lab.vault;
}

async function withClient<T>(lab: DrillLab, token: boolean, fn: (c: VaultClient) => Promise<T>): Promise<T> {
  const v = labVault(lab);
  // The quorum holds no Vault token: unseal and rekey need none. Reading the backed-up encrypted shares does.
  const client = createVaultClient({ url: v.url, tls: { ca: v.ca }, ...(token ? { token: new Secret(v.token) } : {}) });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function quorum(lab: DrillLab, step: ShareStep, shares: readonly string[], nonce: string | undefined, signal: AbortSignal): Promise<void> {
  await withClient(lab, false, async (client) => {
    for (const key of shares) if ((await submitShare(client, step, new Secret(key), nonce, signal)).complete) return;
    throw new FirebreakError('VERIFY_FAILED', `the lab's ${shares.length} shares did not complete the ${step} round`);
  });
}

export async function unsealWithLabQuorum(lab: DrillLab, signal: AbortSignal): Promise<undefined> {
  const v = labVault(lab);
  await quorum(lab, 'unseal-vault', v.unsealKeys.slice(0, v.threshold), undefined, signal);
  return undefined;
}

export async function authoriseRekeyWithLabQuorum(lab: DrillLab, signal: AbortSignal): Promise<undefined> {
  const v = labVault(lab);
  const nonce = await withClient(lab, false, async (c) => (await c.rekey.status(signal)).nonce);
  await quorum(lab, 'rekey-update', v.unsealKeys.slice(0, v.threshold), nonce, signal);
  return undefined;
}

/** The new holders verify their shares; what they saw Vault report (the rekey took effect) is recorded, as `firebreak vault share` does. */
export async function verifyRekeyAsNewHolders(lab: DrillLab, signal: AbortSignal): Promise<DrillSaw> {
  const v = labVault(lab);
  const { nonce, backup } = await withClient(lab, true, async (c) => ({ nonce: (await c.rekey.status(signal)).nonce, backup: await c.rekey.backup(signal) }));
  if (backup === undefined) throw new FirebreakError('VERIFY_FAILED', 'the lab Vault holds no encrypted new shares');
  const shares: string[] = [];
  for (const h of v.holders) {
    const key = await readPrivateKey({ armoredKey: h.privateKey });
    const encrypted = backup.keys[key.getFingerprint()]?.[0];
    if (encrypted === undefined) continue;
    const message = await readMessage({ binaryMessage: new Uint8Array(Buffer.from(encrypted, 'base64')) });
    // openpgp's result type names DOM stream types this project's lib lacks; for a text message `data` is a string.
    const { data } = await decrypt({ message, decryptionKeys: key }) as unknown as { data: string };
    shares.push(data);
  }
  await quorum(lab, 'rekey-verify', shares, nonce, signal);
  // From now on only the new shares unseal the lab Vault.
  v.unsealKeys.splice(0, v.unsealKeys.length, ...shares);
  return { credential: UNSEAL_SHARES, fingerprint: verifiedMark(nonce), note: `the drill's new holders completed the verification of rekey ${nonce}` };
}
