import { FirebreakError } from '../../lib/errors.ts';
import type { Executor } from '../executor/executor-types.ts';

/** One entry of cdm_peers.json; fields Firebreak does not know are kept as they are. */
export type PeerEntry = Readonly<Record<string, unknown>>;

export interface PeersFile {
  readonly peers: Readonly<Record<string, PeerEntry>>;
}

/** The public key of an entry, whichever spelling the iot-bridge-api used. */
export function entryPublicKey(entry: PeerEntry | undefined): string | undefined {
  const k = entry?.['publicKey'] ?? entry?.['public_key'] ?? entry?.['pubkey'];
  return typeof k === 'string' ? k : undefined;
}

function parsePeers(text: string, path: string, where: string): { data: Record<string, unknown>; peers: Record<string, PeerEntry> } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new FirebreakError('UPSTREAM_REJECTED', `${path} on ${where} is not valid JSON (${(cause as Error).message}); nothing was changed`, { cause });
  }
  const peers = (data as { peers?: unknown } | null)?.peers;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || typeof peers !== 'object' || peers === null || Array.isArray(peers)) {
    throw new FirebreakError('UPSTREAM_REJECTED', `${path} on ${where} has no "peers" object; nothing was changed`);
  }
  return { data: data as Record<string, unknown>, peers: peers as Record<string, PeerEntry> };
}

export async function readPeersJson(ex: Executor, path: string): Promise<PeersFile> {
  return { peers: parsePeers((await ex.readFile(path)).toString('utf8'), path, ex.describe).peers };
}

/**
 * Removes one device from cdm_peers.json: read, parse, drop the entry, write
 * atomically (temp + rename, same mode and owner) under the file's lock. Other
 * entries, unknown fields and the file's indentation are kept; a malformed or
 * missing file is an error and nothing is written. Replaces the seed's inline
 * python one-liner, which rewrote the file in place without a lock.
 */
export async function removeFromPeersJson(ex: Executor, path: string, deviceId: string): Promise<{ removed: PeerEntry | null }> {
  return ex.withLock(path, async () => {
    const text = (await ex.readFile(path)).toString('utf8');
    const { data, peers } = parsePeers(text, path, ex.describe);
    if (!Object.hasOwn(peers, deviceId)) return { removed: null };
    const removed = peers[deviceId] ?? null;
    await ex.writeFileAtomic(path, reformat(text, { ...data, peers: Object.fromEntries(Object.entries(peers).filter(([k]) => k !== deviceId)) }));
    return { removed };
  });
}

/** Puts one device's entry back into cdm_peers.json (a compensation), under the file's lock; an entry present is kept as it is. */
export async function restoreToPeersJson(ex: Executor, path: string, deviceId: string, entry: PeerEntry): Promise<{ restored: boolean }> {
  return ex.withLock(path, async () => {
    const text = (await ex.readFile(path)).toString('utf8');
    const { data, peers } = parsePeers(text, path, ex.describe);
    if (Object.hasOwn(peers, deviceId)) return { restored: false };
    await ex.writeFileAtomic(path, reformat(text, { ...data, peers: { ...peers, [deviceId]: entry } }));
    return { restored: true };
  });
}

/** `data` serialised the way `text` was: its indentation, line endings and final newline. */
function reformat(text: string, data: unknown): string {
  const indent = /^\{\r?\n(\s+)"/.exec(text)?.[1] ?? '';
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  let out = JSON.stringify(data, null, indent === '' ? undefined : indent);
  if (nl === '\r\n') out = out.replace(/\n/g, '\r\n');
  return text.endsWith('\n') ? `${out}${nl}` : out;
}
