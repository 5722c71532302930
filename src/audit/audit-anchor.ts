import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Checkpoint } from './audit-log.ts';

/**
 * The anchor file: the latest signed checkpoint, kept outside the database as
 * its witness. It only ever moves forward, and it is written after the
 * checkpoint it records has committed, so a legitimate anchor never points
 * beyond the store's head.
 */
export type AnchorRead =
  | { readonly state: 'missing' }
  | { readonly state: 'unreadable'; readonly detail: string }
  | { readonly state: 'ok'; readonly checkpoint: Checkpoint };

export function readAnchor(file: string): AnchorRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'unreadable', detail: (err as Error).message };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { state: 'unreadable', detail: 'not JSON' };
  }
  const c = v as Record<string, unknown> | null;
  if (c === null || typeof c !== 'object' || !Number.isSafeInteger(c['seq']) || (c['seq'] as number) < 1
    || typeof c['hash'] !== 'string' || typeof c['ts'] !== 'string' || typeof c['keyId'] !== 'string' || typeof c['signature'] !== 'string') {
    return { state: 'unreadable', detail: 'not a checkpoint {seq, hash, ts, keyId, signature}' };
  }
  return { state: 'ok', checkpoint: { seq: c['seq'] as number, hash: c['hash'], ts: c['ts'], keyId: c['keyId'], signature: c['signature'] } };
}

/** Replaces the anchor atomically (temporary file, fsync, rename): a crash leaves the old one or the new one. */
export function writeAnchor(file: string, c: Checkpoint): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ seq: c.seq, hash: c.hash, ts: c.ts, keyId: c.keyId, signature: c.signature })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
