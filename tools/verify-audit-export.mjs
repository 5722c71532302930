#!/usr/bin/env node
// Verifies a Firebreak audit export (JSON lines, format version 2) with
// nothing but Node's own crypto. Every line must be exactly as Firebreak wrote
// it (canonical JSON); the header, signed, declares how many entries and
// checkpoints follow and the head hash; entries chain from the genesis hash
// with no gap; each checkpoint sits right after the entry it signs; the last
// line is the signed checkpoint of the head. So deleting, moving, cutting or
// editing any line is detected.
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
const FORMAT = 'firebreak-audit-export';
const VERSION = 2;
const HEX64 = /^[0-9a-f]{64}$/;
const FIELDS = {
  header: ['checkpoints', 'entries', 'exportedAt', 'format', 'genesis', 'hash', 'head', 'headerSignature', 'keyId', 'publicKey', 'signature', 'type', 'version'],
  entry: ['entry', 'hash', 'type'],
  checkpoint: ['hash', 'keyId', 'seq', 'signature', 'ts', 'type'],
};

// Same canonical JSON as Firebreak: keys sorted, no whitespace.
function canonical(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

// A signature decodes to 64 bytes and re-encodes to the same text: base64
// padding bits or stray characters that decoders ignore would let an edit pass.
function signatureOk(key, payload, sig) {
  if (typeof sig !== 'string') return false;
  const bytes = Buffer.from(sig, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== sig) return false;
  try { return verify(null, Buffer.from(payload), key, bytes); } catch { return false; }
}

/** Parses one line; it must be the canonical JSON of a record with exactly the fields of its type. */
function parseLine(text) {
  let rec;
  try { rec = JSON.parse(text); } catch { return { error: 'not JSON' }; }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return { error: 'not a JSON object' };
  const fields = FIELDS[rec.type];
  if (fields === undefined) return { error: `unknown record type ${JSON.stringify(rec.type)}` };
  if (Object.keys(rec).sort().join(',') !== fields.join(',')) return { error: `a ${rec.type} line has fields ${Object.keys(rec).sort().join(', ')}, expected ${fields.join(', ')}` };
  if (canonical(rec) !== text) return { error: `the ${rec.type} line is not in the canonical form Firebreak writes (edited)` };
  return { rec };
}

function checkHeader(rec, opts) {
  if (rec.format !== FORMAT) return { error: 'not a firebreak-audit-export header' };
  if (rec.version !== VERSION) return { error: `format version ${JSON.stringify(rec.version)} is not ${VERSION}: older exports cannot be authenticated; export again with this Firebreak` };
  if (rec.genesis !== GENESIS) return { error: 'the header names another genesis hash' };
  if (!Number.isSafeInteger(rec.entries) || rec.entries < 0 || !Number.isSafeInteger(rec.checkpoints) || rec.checkpoints < 0 || typeof rec.head !== 'string' || !HEX64.test(rec.head)) {
    return { error: 'the header does not declare entries, checkpoints and head' };
  }
  if (opts.keyId !== undefined && rec.keyId !== opts.keyId) return { error: `key id ${rec.keyId} is not the expected ${opts.keyId}` };
  let key;
  try { key = createPublicKey(rec.publicKey); } catch { return { error: 'header public key is not a valid PEM key' }; }
  if (key.asymmetricKeyType !== 'ed25519') return { error: 'header public key is not an Ed25519 key' };
  const id = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
  if (id !== rec.keyId) return { error: 'header key id does not match its public key' };
  const { headerSignature, ...signed } = rec;
  if (!signatureOk(key, canonical(signed), headerSignature)) return { error: 'the header signature is invalid (header edited)' };
  return { key };
}

/** @param {string[]} lines @param {{ keyId?: string }} [opts] */
export function verifyExportLines(lines, opts = {}) {
  let header;
  let key;
  let prev = GENESIS;
  let expected = 1;
  let checkpoints = 0;
  let lastCheckpoint = 0;
  let lastType;
  const fail = (line, reason) => ({ ok: false, line, reason, entries: expected - 1 });
  // A file ends with a newline, so the split leaves one empty string after the last line.
  const n = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  if (n === 0) return fail(1, 'empty export');
  for (let i = 0; i < n; i++) {
    const { rec, error } = parseLine(lines[i]);
    if (error !== undefined) return fail(i + 1, lines[i] === '' ? 'empty line' : error);
    if (i === 0) {
      if (rec.type !== 'header') return fail(1, 'first line is not a firebreak-audit-export header');
      const h = checkHeader(rec, opts);
      if (h.error !== undefined) return fail(1, h.error);
      header = rec;
      key = h.key;
      lastType = 'header';
      continue;
    }
    if (rec.type === 'header') return fail(i + 1, 'a second header');
    if (rec.type === 'entry') {
      if (expected > header.entries) return fail(i + 1, `an entry beyond the ${header.entries} the header declares`);
      let entry;
      try { entry = JSON.parse(rec.entry); } catch { return fail(i + 1, 'entry text is not JSON'); }
      if (entry === null || typeof entry !== 'object' || !Number.isSafeInteger(entry.seq)) return fail(i + 1, 'entry has no sequence number');
      if (entry.seq !== expected) return fail(i + 1, entry.seq > expected ? `entries #${expected}–#${entry.seq - 1} are missing` : `entry #${entry.seq} is out of order`);
      if (canonical(entry) !== rec.entry) return fail(i + 1, `entry #${entry.seq} is not in canonical form (edited)`);
      const h = createHash('sha256').update(`${prev}\n${rec.entry}`).digest('hex');
      if (h !== rec.hash) return fail(i + 1, `entry #${entry.seq} does not match its hash (edited, or the chain before it was changed)`);
      prev = h;
      expected += 1;
      lastType = 'entry';
      continue;
    }
    // A checkpoint: right after the entry it signs, once per entry, in order.
    const at = expected - 1;
    if (!signatureOk(key, canonical({ seq: rec.seq, hash: rec.hash, ts: rec.ts, keyId: rec.keyId }), rec.signature) || rec.keyId !== header.keyId) {
      return fail(i + 1, `checkpoint #${rec.seq} has an invalid signature`);
    }
    if (rec.seq !== at || lastType !== 'entry' || rec.seq <= lastCheckpoint) {
      return fail(i + 1, `checkpoint #${rec.seq} is not right after entry #${rec.seq} (moved, or lines around it deleted)`);
    }
    if (rec.hash !== prev) return fail(i + 1, `checkpoint #${rec.seq} does not match entry #${rec.seq}`);
    checkpoints += 1;
    lastCheckpoint = rec.seq;
    lastType = 'checkpoint';
  }
  const entries = expected - 1;
  if (entries !== header.entries || checkpoints !== header.checkpoints) {
    return fail(n + 1, `the export ends after ${entries} entries and ${checkpoints} checkpoint(s) but its header declares ${header.entries} and ${header.checkpoints} (lines deleted or the file cut)`);
  }
  if (prev !== header.head) return fail(n, 'the last entry is not the head the header declares');
  if (entries > 0 && (lastType !== 'checkpoint' || lastCheckpoint !== entries)) return fail(n, 'the export does not end with the signed checkpoint of its head');
  return { ok: true, entries, checkpoints, keyId: header.keyId, head: prev };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const k = args.indexOf('--key-id');
  const file = args.find((a, i) => !a.startsWith('--') && (k === -1 || i !== k + 1));
  if (file === undefined || (k !== -1 && (args[k + 1] === undefined || args[k + 1].startsWith('--')))) {
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
