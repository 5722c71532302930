import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { createVaultClient } from '../../connectors/vault/vault-client.ts';
import type { DrillLab } from '../playbook-descriptor.ts';

/**
 * What the key holders do in a drill: submit the threshold of the lab's
 * unseal shares to the lab Vault through the connector (unauthenticated, as
 * `vault operator unseal` does). Lab only: a real Vault's shares are typed
 * by their holders and never reach Firebreak.
 */
export async function unsealWithLabQuorum(lab: DrillLab, signal: AbortSignal): Promise<void> {
  const v = lab.vault;
  if (v === undefined) throw new FirebreakError('INTERNAL', 'the vault-breach drill needs the lab Vault');
  // No token: unseal needs none, and the drill's quorum holds no Vault token.
  const client = createVaultClient({ url: v.url });
  try {
    if (!(await client.sys.sealStatus(signal)).sealed) return;
    for (const key of v.unsealKeys.slice(0, v.threshold)) {
      const s = await client.sys.unseal(new Secret(key), signal);
      if (!s.sealed) return;
    }
    throw new FirebreakError('VERIFY_FAILED', `the lab Vault is still sealed after ${v.threshold} shares`);
  } finally {
    await client.close();
  }
}
