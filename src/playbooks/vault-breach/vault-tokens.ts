import { mapWithConcurrency } from '../../engine/rate-limit.ts';
import type { TokenInfo, VaultClient } from '../../connectors/vault/vault-client.ts';

/**
 * Every live token, described by its accessor's lookup (never the token):
 * what containment counts under each auth mount, recovery looks through for
 * root tokens and a service's new login. A token revoked between the list
 * and its lookup is left out.
 */
export async function liveTokens(v: VaultClient, signal: AbortSignal): Promise<TokenInfo[]> {
  const looked = await mapWithConcurrency(await v.auth.listAccessors(signal), 16, (a) => v.auth.lookupAccessor(a, signal));
  const out: TokenInfo[] = [];
  for (const r of looked) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value !== null) out.push(r.value);
  }
  return out;
}
