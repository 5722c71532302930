#!/usr/bin/env node
// Verifies a Firebreak audit export (JSON lines) with nothing but Node's own
// crypto: the hash chain from the genesis hash, sequence numbers without gaps,
// and every Ed25519-signed checkpoint.
//
//   node verify-audit-export.mjs audit.jsonl [--key-id <expected key id>]
//
// Exit 0 and "OK …" when intact; exit 1 naming the first bad line otherwise.
// Compare the printed key id with the one the operator published: the public
// key in the header is only as trustworthy as that comparison.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const GENESIS = '0'.repeat(64);

// Same canonical JSON as Firebreak: keys sorted, no whitespace.
function canonical(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/** @param {string[]} lines @param {{ keyId?: string }} [opts] */
export function verifyExportLines(lines, opts = {}) {
  let header;
  let prev = GENESIS;
  let expected = 1;
  const hashes = new Map();
  let checkpoints = 0;
  const fail = (line, reason) => ({ ok: false, line, reason, entries: expected - 1 });
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === '') continue;
    let rec;
    try { rec = JSON.parse(text); } catch { return fail(i + 1, 'not JSON'); }
    if (i === 0 || header === undefined) {
      if (rec.type !== 'header' || rec.format !== 'firebreak-audit-export') return fail(i + 1, 'first line is not a firebreak-audit-export header');
      header = rec;
      if (opts.keyId !== undefined && rec.keyId !== opts.keyId) return fail(i + 1, `key id ${rec.keyId} is not the expected ${opts.keyId}`);
      let key;
      try { key = createPublicKey(rec.publicKey); } catch { return fail(i + 1, 'header public key is not a valid PEM key'); }
      const id = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
      if (id !== rec.keyId) return fail(i + 1, 'header key id does not match its public key');
      continue;
    }
    if (rec.type === 'entry') {
      let entry;
      try { entry = JSON.parse(rec.entry); } catch { return fail(i + 1, 'entry text is not JSON'); }
      if (entry.seq !== expected) return fail(i + 1, entry.seq > expected ? `entries #${expected}–#${entry.seq - 1} are missing` : `entry #${entry.seq} is out of order`);
      if (canonical(entry) !== rec.entry) return fail(i + 1, `entry #${entry.seq} is not in canonical form (edited)`);
      const h = createHash('sha256').update(`${prev}\n${rec.entry}`).digest('hex');
      if (h !== rec.hash) return fail(i + 1, `entry #${entry.seq} does not match its hash (edited, or the chain before it was changed)`);
      hashes.set(entry.seq, h);
      prev = h;
      expected += 1;
      continue;
    }
    if (rec.type === 'checkpoint') {
      const payload = Buffer.from(canonical({ seq: rec.seq, hash: rec.hash, ts: rec.ts, keyId: rec.keyId }));
      if (rec.keyId !== header.keyId || !verify(null, payload, createPublicKey(header.publicKey), Buffer.from(String(rec.signature), 'base64'))) {
        return fail(i + 1, `checkpoint #${rec.seq} has an invalid signature`);
      }
      if (hashes.get(rec.seq) !== rec.hash) return fail(i + 1, hashes.has(rec.seq) ? `checkpoint #${rec.seq} does not match entry #${rec.seq}` : `checkpoint #${rec.seq} covers entries that are missing (truncated)`);
      checkpoints += 1;
      continue;
    }
    return fail(i + 1, `unknown record type ${JSON.stringify(rec.type)}`);
  }
  if (header === undefined) return fail(1, 'empty export');
  if (checkpoints === 0 && expected > 1) return fail(lines.length, 'no signed checkpoint: the export cannot be authenticated');
  return { ok: true, entries: expected - 1, checkpoints, keyId: header.keyId, head: prev };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const k = args.indexOf('--key-id');
  if (file === undefined) {
    process.stderr.write('usage: node verify-audit-export.mjs <export.jsonl> [--key-id <id>]\n');
    process.exit(2);
  }
  const result = verifyExportLines(readFileSync(file, 'utf8').split('\n'), k === -1 ? {} : { keyId: args[k + 1] });
  if (result.ok) {
    process.stdout.write(`OK ${result.entries} entries, ${result.checkpoints} signed checkpoint(s), key id ${result.keyId}, head ${result.head}\n`);
  } else {
    process.stdout.write(`BAD line ${result.line}: ${result.reason} (${result.entries} entries verified before it)\n`);
    process.exit(1);
  }
}
