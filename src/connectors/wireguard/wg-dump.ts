import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';

/** A WireGuard public key: 32 bytes, standard base64 with padding (44 characters ending in "="). */
export const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface WgInterface {
  readonly publicKey: string | null;
  readonly listenPort: number;
  readonly fwmark: string;
}

export interface WgPeer {
  readonly publicKey: string;
  /** Secret: never printed. */
  readonly presharedKey: Secret | null;
  readonly endpoint: string | null;
  readonly allowedIps: readonly string[];
  /** Unix seconds; null when never. */
  readonly latestHandshake: number | null;
  readonly transferRx: number;
  readonly transferTx: number;
  readonly persistentKeepalive: number | null;
}

/**
 * Parses `wg show <if> dump` (CONTRACTS.md §6): the interface line
 * (private key, public key, port, fwmark) then one tab-separated line per peer.
 * The interface's private key is dropped on the spot.
 */
export function parseDump(text: string): { iface: WgInterface; peers: WgPeer[] } {
  const lines = text.split('\n').filter((l) => l !== '');
  const first = lines[0]?.split('\t');
  if (first?.length !== 4) throw new FirebreakError('UPSTREAM_REJECTED', `wg show dump: unexpected interface line (${first?.length ?? 0} fields, expected 4)`);
  const iface: WgInterface = { publicKey: first[1] === '(none)' ? null : first[1] ?? null, listenPort: Number(first[2]), fwmark: first[3] ?? 'off' };
  const peers = lines.slice(1).map((line, i) => {
    const f = line.split('\t');
    if (f.length !== 8) throw new FirebreakError('UPSTREAM_REJECTED', `wg show dump: peer line ${i + 1} has ${f.length} fields, expected 8`);
    const [pub, psk, endpoint, allowed, handshake, rx, tx, keepalive] = f as [string, string, string, string, string, string, string, string];
    return {
      publicKey: pub, presharedKey: psk === '(none)' ? null : new Secret(psk), endpoint: endpoint === '(none)' ? null : endpoint,
      allowedIps: allowed === '(none)' ? [] : allowed.split(','), latestHandshake: handshake === '0' ? null : Number(handshake),
      transferRx: Number(rx), transferTx: Number(tx), persistentKeepalive: keepalive === 'off' ? null : Number(keepalive),
    };
  });
  return { iface, peers };
}
