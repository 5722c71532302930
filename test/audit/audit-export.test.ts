import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyExportLines } from '../../tools/verify-audit-export.mjs';
import { auditFixture, fill, type AuditFixture } from './audit-helpers.ts';

async function exportText(f: AuditFixture): Promise<string> {
  const file = join(f.dir, `export-${Date.now()}.jsonl`);
  const stream = createWriteStream(file);
  await f.log.export(stream);
  await new Promise<void>((resolve) => { stream.end(resolve); });
  return readFileSync(file, 'utf8');
}

const verifyText = (text: string) => verifyExportLines(text.split('\n'));
const asFile = (lines: readonly string[]) => lines.map((l) => `${l}\n`).join('');

/** A small deterministic PRNG (mulberry32), so a failure names a tampering that can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('every single tampering of a 24-checkpoint export is detected: each line deleted, each adjacent pair swapped, each cut, byte edits', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 225); // checkpoints at #1, #10 … #220 and the head #225 signed by the export: 24
  const text = await exportText(f);
  const good = verifyText(text);
  assert.equal(good.ok, true, JSON.stringify(good));
  if (good.ok) { assert.equal(good.entries, 225); assert.equal(good.checkpoints, 24); }
  const lines = text.split('\n').slice(0, -1);
  assert.equal(lines.length, 1 + 225 + 24);

  const undetected: string[] = [];
  const expectBad = (what: string, tampered: string) => { if (tampered !== text && verifyText(tampered).ok) undetected.push(what); };
  let tried = 0;
  for (let i = 0; i < lines.length; i++) { expectBad(`line ${i + 1} deleted`, asFile(lines.filter((_, j) => j !== i))); tried += 1; }
  for (let i = 0; i + 1 < lines.length; i++) {
    const swapped = [...lines];
    [swapped[i], swapped[i + 1]] = [lines[i + 1] as string, lines[i] as string];
    expectBad(`lines ${i + 1} and ${i + 2} swapped`, asFile(swapped));
    tried += 1;
  }
  for (let k = 0; k < lines.length; k++) {
    expectBad(`cut after line ${k}`, asFile(lines.slice(0, k)));
    expectBad(`cut after line ${k}, no final newline`, lines.slice(0, k).join('\n'));
    tried += 2;
  }
  // The padding bits of base64: a decoder ignores them, so an edit there must be refused by form.
  let padded = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /"(headerSignature|signature)":"([A-Za-z0-9+/]{85})([A-Za-z0-9+/])=="/.exec(lines[i] as string);
    if (m === null) continue;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const idx = alphabet.indexOf(m[3] as string);
    const sibling = alphabet[(idx & ~0b1111) | ((idx + 1) & 0b1111)] as string;
    const edited = [...lines];
    edited[i] = (lines[i] as string).replace(`${m[2] ?? ''}${m[3] ?? ''}==`, `${m[2] ?? ''}${sibling}==`);
    expectBad(`line ${i + 1}: padding bits of its ${m[1] ?? ''} changed`, asFile(edited));
    tried += 1;
    padded += 1;
  }
  const bytes = Buffer.from(text);
  const rand = prng(0x5eed);
  const edit = (what: string, pos: number) => {
    const b = Buffer.from(bytes);
    b[pos] = ((bytes[pos] ?? 0) + 1 + Math.floor(rand() * 255)) % 256;
    expectBad(`${what}: byte ${pos} set to ${b[pos] ?? 0} (was ${bytes[pos] ?? 0})`, b.toString('utf8'));
    tried += 1;
  };
  // One byte edit inside every line, then 200 anywhere in the file (newlines included).
  let start = 0;
  for (const l of lines) { edit('per line', start + Math.floor(rand() * Buffer.byteLength(l))); start += Buffer.byteLength(l) + 1; }
  for (let i = 0; i < 200; i++) edit('random', Math.floor(rand() * bytes.length));

  assert.equal(padded, 25, 'the header and every checkpoint');
  assert.ok(tried > 1400, `tried ${tried}`);
  assert.deepEqual(undetected, [], `${undetected.length} of ${tried} tamperings undetected`);
});

test('an export cut down to its header is refused, and an empty store exports a verifiable empty trail', async (t) => {
  const f = auditFixture(t, 10);
  const empty = verifyText(await exportText(f));
  assert.deepEqual(empty.ok && [empty.entries, empty.checkpoints], [0, 0]);
  fill(f.log, 30);
  const text = await exportText(f);
  const headerOnly = `${text.split('\n')[0] ?? ''}\n`;
  const v = verifyText(headerOnly);
  assert.equal(v.ok, false);
  if (!v.ok) assert.match(v.reason, /the export ends after 0 entries and 0 checkpoint\(s\) but its header declares 30 and 4 \(lines deleted or the file cut\)/);

  // The standalone script, as an auditor runs it.
  const script = fileURLToPath(new URL('../../tools/verify-audit-export.mjs', import.meta.url));
  writeFileSync(join(f.dir, 'cut.jsonl'), headerOnly);
  writeFileSync(join(f.dir, 'good.jsonl'), text);
  const cut = spawnSync(process.execPath, [script, join(f.dir, 'cut.jsonl')], { encoding: 'utf8' });
  assert.equal(cut.status, 1);
  assert.match(cut.stdout, /^BAD line 2: the export ends after 0 entries/);
  const ok = spawnSync(process.execPath, [script, '--key-id', f.log.keyId, join(f.dir, 'good.jsonl')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^OK 30 entries, 4 signed checkpoint\(s\)/);
});

test('a version 1 export (unsigned header) is refused rather than half-checked', async (t) => {
  const f = auditFixture(t, 10);
  fill(f.log, 5);
  const lines = (await exportText(f)).split('\n');
  const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  lines[0] = JSON.stringify({ ...header, version: 1 });
  const v = verifyExportLines(lines);
  assert.equal(v.ok, false);
  if (!v.ok) assert.match(v.reason, /format version 1 is not 2/);
});
