import type { DatabaseSync } from 'node:sqlite';
import type { Writable } from 'node:stream';
import { canonicalJson } from '../lib/canonical.ts';
import type { CheckpointSigner } from './audit-signer.ts';
import { GENESIS_HASH } from './audit-chain.ts';
import type { Checkpoint } from './audit-log.ts';

export const EXPORT_FORMAT = 'firebreak-audit-export';
export const EXPORT_VERSION = 2;

/**
 * Writes the chain up to `head` (a signed checkpoint) as canonical JSON
 * lines, the format tools/verify-audit-export.mjs checks (docs/audit.md):
 * 1. a header that declares the entry count, the head hash and the number of
 *    checkpoints, signed with the checkpoint key, so that cutting the file or
 *    dropping a line anywhere is detected;
 * 2. each entry, each checkpoint right after the entry it signs, so a moved
 *    or dropped checkpoint is detected where it happens;
 * 3. the last line is the checkpoint of the head: the export's end is signed.
 * Entries and checkpoints after `head` (appended meanwhile by another
 * process) are left out, so the header and the body agree.
 */
export async function writeExport(db: DatabaseSync, signer: CheckpointSigner, head: Checkpoint | undefined, out: Writable, now: () => Date): Promise<number> {
  const write = (value: unknown) => new Promise<void>((resolve, reject) => {
    if (out.write(`${canonicalJson(value)}\n`)) resolve();
    else out.once('drain', resolve).once('error', reject);
  });
  const last = head?.seq ?? 0;
  const checkpoints = db.prepare('SELECT * FROM audit_checkpoints WHERE seq <= ? ORDER BY seq').all(last)
    .map((r): Checkpoint => ({ seq: Number(r['seq']), hash: String(r['hash']), ts: String(r['ts']), keyId: String(r['key_id']), signature: String(r['signature']) }));
  const header = {
    type: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION,
    hash: 'sha256(prevHash + "\\n" + entry)', genesis: GENESIS_HASH,
    signature: 'ed25519 over canonical {seq,hash,ts,keyId}; the header over its canonical form without headerSignature',
    keyId: signer.keyId, publicKey: signer.publicKeyPem, exportedAt: now().toISOString(),
    entries: last, checkpoints: checkpoints.length, head: head?.hash ?? GENESIS_HASH,
  };
  await write({ ...header, headerSignature: signer.sign(Buffer.from(canonicalJson(header))) });
  let n = 0;
  let next = 0;
  for (const row of db.prepare('SELECT seq, entry, hash FROM audit_entries WHERE seq <= ? ORDER BY seq').iterate(last)) {
    await write({ type: 'entry', entry: String(row['entry']), hash: String(row['hash']) });
    n += 1;
    while (checkpoints[next] !== undefined && (checkpoints[next]?.seq ?? 0) <= Number(row['seq'])) {
      await write({ type: 'checkpoint', ...checkpoints[next] });
      next += 1;
    }
  }
  return n;
}
