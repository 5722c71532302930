// Report benchmark: `firebreak report <incident>` as a whole process (wall
// time, median of 5; peak RSS of the child) for an incident whose run fanned
// out over 2,000 items, on a store whose audit trail holds 500,000 entries
// against the same incident on a fresh store (its own entries only), in the
// same run. Two cases:
//  - first call: no verification has reached a checkpoint yet (as after the
//    store was filled), so the report verifies the whole chain once;
//  - repeated call (the target, issue 9: within 1.2× of the fresh store): a
//    verification (an earlier report, `firebreak audit verify`) reached a
//    checkpoint, and the report verifies only what follows it.
//
//   node bench/report/report-bench.ts [--entries 500000] [--items 2000] [--runs 5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildIncidentStore, copyStore, growAuditTrail, type BenchStore } from './report-store.ts';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '500000' }, items: { type: 'string', default: '2000' }, runs: { type: 'string', default: '5' } } });
const ENTRIES = Number(values.entries);
const ITEMS = Number(values.items);
const RUNS = Number(values.runs);

const BIN = fileURLToPath(new URL('../../bin/firebreak.js', import.meta.url));
// The child reports its own peak RSS (getrusage: KiB on Linux) as it exits.
const PROBE = `data:text/javascript,${encodeURIComponent('process.on("exit", () => { process.stderr.write(`\\nfb-bench-maxrss-kib=${process.resourceUsage().maxRSS}\\n`); });')}`;

interface Call { readonly ms: number; readonly rssMiB: number; readonly audit: string }

function report(store: BenchStore): Call {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', PROBE, BIN, '--config', store.configPath, 'report', store.incidentId], {
    encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', FIREBREAK_USER: 'bench' },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`firebreak report exited ${String(r.status)}: ${r.stderr}`);
  const rss = /fb-bench-maxrss-kib=(\d+)/.exec(r.stderr);
  const audit = /^- Audit trail: (.*)$/m.exec(r.stdout)?.[1] ?? '(no audit line)';
  if (rss === null) throw new Error(`no peak RSS reported: ${r.stderr}`);
  if (!audit.includes('verified intact')) throw new Error(`the report's audit trail is not verified intact: ${audit}`);
  return { ms, rssMiB: Number(rss[1]) / 1024, audit };
}

/** As if no verification had reached a checkpoint yet: the next report verifies the whole chain. */
function forgetVerified(store: BenchStore): void {
  const db = new DatabaseSync(join(store.dir, 'state', 'firebreak.db'));
  try {
    db.exec('DELETE FROM audit_verified');
  } finally {
    db.close();
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'fb-report-bench-'));
try {
  let t = performance.now();
  const fresh = await buildIncidentStore(join(dir, 'fresh'), ITEMS);
  const freshEntries = growAuditTrail(fresh, 0); // appends nothing: counts the incident's own entries
  const builtMs = performance.now() - t;
  t = performance.now();
  const big = copyStore(fresh, join(dir, 'big'));
  const bigEntries = growAuditTrail(big, ENTRIES);
  const grownMs = performance.now() - t;
  const size = (s: BenchStore) => statSync(join(s.dir, 'state', 'firebreak.db')).size / 2 ** 20;
  console.log(`incident ${fresh.incidentId}: a run fanned out over ${fmt(ITEMS)} items (built in ${(builtMs / 1000).toFixed(1)} s)`);
  console.log(`fresh store: ${fmt(freshEntries)} audit entries, ${size(fresh).toFixed(0)} MiB; big store: ${fmt(bigEntries)} audit entries, ${size(big).toFixed(0)} MiB (grown in ${(grownMs / 1000).toFixed(1)} s)`);

  // Interleaved, so that a change in the machine's load falls on both stores alike.
  const first = { fresh: [] as Call[], big: [] as Call[] };
  const repeated = { fresh: [] as Call[], big: [] as Call[] };
  for (let i = 0; i < RUNS; i++) {
    for (const [name, s] of [['fresh', fresh], ['big', big]] as const) { forgetVerified(s); first[name].push(report(s)); }
  }
  for (let i = 0; i < RUNS; i++) {
    for (const [name, s] of [['fresh', fresh], ['big', big]] as const) repeated[name].push(report(s));
  }

  const row = (label: string, c: { fresh: Call[]; big: Call[] }) => {
    const [fm, bm] = [median(c.fresh.map((x) => x.ms)), median(c.big.map((x) => x.ms))];
    const [fr, br] = [median(c.fresh.map((x) => x.rssMiB)), median(c.big.map((x) => x.rssMiB))];
    console.log(`  ${label.padEnd(44)} ${(fm / 1000).toFixed(2).padStart(6)} s ${fr.toFixed(0).padStart(5)} MiB   ${(bm / 1000).toFixed(2).padStart(6)} s ${br.toFixed(0).padStart(5)} MiB   ${(bm / fm).toFixed(2).padStart(5)}   ${(br / fr).toFixed(2).padStart(5)}`);
    return bm / fm;
  };
  console.log(`firebreak report <incident> (whole process, median of ${RUNS}; peak RSS of the child)`);
  console.log(`  ${''.padEnd(44)} ${'fresh store'.padEnd(18)}   ${'big store'.padEnd(18)}   ratio big/fresh`);
  console.log(`  ${''.padEnd(44)} ${'wall'.padStart(8)} ${'RSS'.padStart(9)}   ${'wall'.padStart(8)} ${'RSS'.padStart(9)}   ${'wall'.padStart(5)}   ${'RSS'.padStart(5)}`);
  row('first call (verifies the whole chain once)', first);
  const target = row('repeated call (verifies what is new)', repeated);
  console.log(`  audit line of the big store's report: ${repeated.big.at(-1)?.audit ?? ''}`);
  console.log(`ratio big/fresh, repeated call: ${target.toFixed(2)}   (target ≤ 1.2)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
