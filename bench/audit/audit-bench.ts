// Audit log benchmark: appends/s (single durable appends and group commits)
// and verify entries/s, each against a baseline measured in the same run:
// raw INSERTs of the same rows without hashing, and raw SHA-256 of the same bytes.
//
//   node bench/audit/audit-bench.ts [--appends 5000] [--verify 200000] [--batch 100]
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { openDatabase, transaction } from '../../src/store/sqlite-db.ts';

const { values } = parseArgs({ options: { appends: { type: 'string', default: '5000' }, verify: { type: 'string', default: '200000' }, batch: { type: 'string', default: '100' } } });
const A = Number(values.appends);
const V = Number(values.verify);
const B = Number(values.batch);

const input = (i: number) => ({ kind: 'step.completed', actor: 'firebreak', incidentId: 'INC-20261125-abcdef', runId: 'run-20261125-0011aabb', stepId: `revoke-cert[device-${i}]/apply`, data: { attempt: 1, title: 'Revoke the device certificate', phase: 'containment', system: 'step-ca', output: { outcome: 'applied', serial: String(1e15 + i) } } });

const dir = mkdtempSync(join(tmpdir(), 'fb-audit-bench-'));
try {
  const rate = (n: number, ms: number) => n / (ms / 1000);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

  // Baseline: the same rows inserted one durable transaction each, no hashing, no encoding.
  const raw = openDatabase(join(dir, 'raw.db'));
  const rawIns = raw.prepare('INSERT INTO audit_entries (seq, entry, hash) VALUES (?, ?, ?)');
  const text = JSON.stringify(input(0));
  let t = performance.now();
  for (let i = 1; i <= A; i++) rawIns.run(i, text, 'h');
  const rawSingle = rate(A, performance.now() - t);
  t = performance.now();
  for (let i = A + 1; i <= 2 * A; i += B) transaction(raw, () => { for (let j = i; j < i + B; j++) rawIns.run(j, text, 'h'); });
  const rawBatch = rate(A, performance.now() - t);
  raw.close();

  const db = openDatabase(join(dir, 'audit.db'));
  const log = new AuditLog({ db, signer: loadSigner(join(dir, 'audit.key')), checkpointEvery: 1000 });
  t = performance.now();
  for (let i = 0; i < A; i++) log.append(input(i));
  const single = rate(A, performance.now() - t);
  t = performance.now();
  for (let i = 0; i < A; i += B) log.appendMany(Array.from({ length: B }, (_, j) => input(i + j)));
  const batch = rate(A, performance.now() - t);

  // Fill to V entries fast (synchronous=OFF for the filler only), then verify.
  db.exec('PRAGMA synchronous = OFF');
  const have = log.count();
  for (let i = have; i < V; i += 1000) log.appendMany(Array.from({ length: Math.min(1000, V - i) }, (_, j) => input(i + j)));
  db.exec('PRAGMA synchronous = FULL');
  const texts = db.prepare('SELECT entry FROM audit_entries ORDER BY seq').all().map((r) => String(r['entry']));
  t = performance.now();
  let prev = '0'.repeat(64);
  for (const e of texts) prev = hash('sha256', `${prev}\n${e}`, 'hex');
  const rawHash = rate(texts.length, performance.now() - t);
  t = performance.now();
  const v = await log.verify();
  const verify = rate(v.entries, performance.now() - t);
  if (!v.ok) throw new Error('verify failed on an untampered log');
  db.close();

  console.log(`audit log (SQLite WAL, synchronous=FULL), ${A} appends each way, verify over ${v.entries} entries`);
  console.log(`  single appends:       ${fmt(single)}/s   baseline raw INSERT per commit ${fmt(rawSingle)}/s  ratio ${(single / rawSingle).toFixed(2)}`);
  console.log(`  group commit (${B}):    ${fmt(batch)}/s   baseline raw INSERT ×${B} per commit ${fmt(rawBatch)}/s  ratio ${(batch / rawBatch).toFixed(2)}   (target ≥ 20,000/s)`);
  console.log(`  verify:               ${fmt(verify)} entries/s   baseline bare SHA-256 chain ${fmt(rawHash)}/s  ratio ${(verify / rawHash).toFixed(2)}   (target ≥ 500,000/s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
