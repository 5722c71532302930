// Fan-out at scale: items/s and peak RSS of one journaled fan-out (journal +
// audit, as the application wires it, concurrency 64, 0 ms work per item) at
// 1,000, 10,000 and 100,000 items, each in a fresh process, against the raw
// durable commit rate of the same disk measured in the same run.
//
// Each child runs with the V8 flags the CLI runs with (the first line of
// bin/firebreak.js) and its heap tuning (src/lib/heap-tuning.ts), as a
// `firebreak run` would; `--v8-defaults` without either.
//
//   node bench/engine/fanout-bench.ts [--sizes 1000,10000,100000] [--concurrency 64] [--v8-defaults]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { AuditRecorder } from '../../src/app/app-audit.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { timeRawCommits } from './raw-commits.ts';
import { cliNodeFlags } from '../cli-node-flags.ts';
import { tuneHeap } from '../../src/lib/heap-tuning.ts';

const { values } = parseArgs({ options: {
  sizes: { type: 'string', default: '1000,10000,100000' },
  concurrency: { type: 'string', default: '64' },
  child: { type: 'string' },
  tuned: { type: 'boolean', default: false },
  'v8-defaults': { type: 'boolean', default: false },
} });
const concurrency = Number(values.concurrency);

interface ChildFigures { readonly items: number; readonly ms: number; readonly maxRssMiB: number; readonly liveMiB: number; readonly youngMiB: number }

/** One fan-out of `n` items in this process; prints its figures as JSON. */
async function child(n: number): Promise<void> {
  if (values.tuned) tuneHeap();
  const dir = mkdtempSync(join(tmpdir(), 'fb-fanout-'));
  try {
    const db = openDatabase(join(dir, 'journal.db'));
    const wired: { recorder?: AuditRecorder } = {};
    const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)), onCommit: (events) => { wired.recorder?.schedule(events); } });
    const recorder = wired.recorder = new AuditRecorder(rt, new AuditLog({ db, signer: loadSigner(join(dir, 'audit.key')), checkpointEvery: 1000 }), silentLogger);
    rt.register('bench.fanout', async (ctx) => {
      const items = Array.from({ length: n }, (_, i) => ({ key: `d${i}`, value: i }));
      const r = await ctx.fanOut('items', items, (item, c) => c.step('apply', async () => ({ i: item.value })), { concurrency });
      return r.done;
    });
    // The young generation's size during the run (V8 grows it with the allocation rate, up to its maximum).
    let youngMiB = 0;
    const sample = setInterval(() => {
      const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
      youngMiB = Math.max(youngMiB, young / 1048576);
    }, 20);
    const t = performance.now();
    const out = await rt.start({ runId: 'fan', workflow: 'bench.fanout', input: null, initiator: 'bench' });
    await recorder.flush();
    const ms = performance.now() - t;
    clearInterval(sample);
    if (out.status !== 'completed') throw new Error(`fan-out ended ${out.status}`);
    // What the runtime still holds once the fan-out is over: the heap after a full collection.
    (globalThis as { gc?: () => void }).gc?.();
    const liveMiB = process.memoryUsage().heapUsed / 1048576;
    await rt.close();
    db.close();
    const figures: ChildFigures = { items: n, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, liveMiB, youngMiB };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Raw durable commits per second on the same disk. */
function rawCommitsPerSec(n = 2000): number {
  const dir = mkdtempSync(join(tmpdir(), 'fb-raw-'));
  try {
    return n / (timeRawCommits(dir, n) / 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child !== undefined) {
  await child(Number(values.child));
} else {
  const sizes = values.sizes.split(',').map(Number);
  const rawBefore = rawCommitsPerSec();
  const flags = values['v8-defaults'] ? [] : cliNodeFlags();
  const figures = sizes.map((n) => {
    const r = spawnSync(process.execPath, [...flags, '--expose-gc', fileURLToPath(import.meta.url), '--child', String(n), '--concurrency', String(concurrency), ...(flags.length === 0 ? [] : ['--tuned'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`the fan-out of ${n} items failed (exit ${r.status})`);
    return JSON.parse(r.stdout) as ChildFigures;
  });
  const raw = (rawBefore + rawCommitsPerSec()) / 2;
  const rate = (f: ChildFigures) => f.items / (f.ms / 1000);
  const first = figures[0] as ChildFigures;
  const last = figures[figures.length - 1] as ChildFigures;
  console.log(`fan-out (embedded SQLite, WAL, synchronous=FULL, journal + audit), concurrency ${concurrency}, 0 ms per item`);
  console.log(`  node flags: ${flags.length === 0 ? 'none (V8\'s defaults)' : `${flags.join(' ')} and the CLI's heap tuning (bin/firebreak.js)`}`);
  console.log(`  baseline raw commits:  ${raw.toFixed(0)} commits/s (one INSERT per durable transaction, before and after)`);
  for (const f of figures) {
    console.log(`  ${String(f.items).padStart(7)} items: ${rate(f).toFixed(0).padStart(6)} items/s = ${(rate(f) / raw).toFixed(2)}× raw commit rate; peak RSS ${f.maxRssMiB.toFixed(0)} MiB (young generation up to ${f.youngMiB.toFixed(0)} MiB); live heap after the run ${f.liveMiB.toFixed(1)} MiB`);
  }
  console.log(`  items/s at ${last.items} / at ${first.items}: ${(rate(last) / rate(first)).toFixed(2)} (target ≥ 0.85)`);
  const mid = figures.find((f) => f.items === 10_000);
  if (mid !== undefined) {
    console.log(`  peak RSS at ${last.items} / at ${mid.items}: ${(last.maxRssMiB / mid.maxRssMiB).toFixed(2)} (target ≤ 1.20)`);
    console.log(`  live heap after the run at ${last.items} / at ${mid.items}: ${(last.liveMiB / mid.liveMiB).toFixed(2)} (what the runtime retains per item)`);
  }
}
