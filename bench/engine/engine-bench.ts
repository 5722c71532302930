// Engine overhead benchmark: durable steps per second and journal + audit
// overhead per step on the embedded SQLite runtime (WAL, synchronous=FULL), against two
// baselines measured in the same run: the same workflow with no journal (plain
// calls), and raw durable SQLite commits (one INSERT per transaction).
//
//   node bench/engine/engine-bench.ts [--steps 2000] [--fanout 2000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { AuditRecorder } from '../../src/app/app-audit.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import type { WorkflowContext } from '../../src/engine/runtime-types.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { timeRawCommits } from './raw-commits.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';

export interface EngineFigures {
  readonly steps: number;
  readonly plainStepsPerSec: number;
  readonly durableStepsPerSec: number;
  readonly overheadMsPerStep: number;
  readonly rawCommitsPerSec: number;
  readonly commitsPerStep: number;
  readonly fanoutItemsPerSec: number;
}

const { values } = parseArgs({ options: { steps: { type: 'string', default: '2000' }, fanout: { type: 'string', default: '2000' } } });
const N = Number(values.steps);
const M = Number(values.fanout);

async function work(i: number): Promise<{ i: number }> {
  return { i };
}

export async function measureEngine(n: number, m: number, audit?: (db: import('node:sqlite').DatabaseSync) => AuditLog): Promise<EngineFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-bench-'));
  try {
    // Baseline 1: the same work with no journal.
    let t = performance.now();
    for (let i = 0; i < n; i++) await work(i);
    const plainMs = performance.now() - t;

    // Baseline 2: raw durable commits on the same disk.
    const rawMs = timeRawCommits(dir, n);

    const db = openDatabase(join(dir, 'journal.db'));
    // With audit: the application's path, each step's event appended to the hash chain from the journal's outbox.
    let recorder: AuditRecorder | undefined;
    const rt = createEmbeddedRuntime({ db, sealer: createSealer(randomBytes(32)), onCommit: (events) => { recorder?.schedule(events); } });
    if (audit !== undefined) recorder = new AuditRecorder(rt, audit(db), silentLogger);
    rt.register('bench.steps', async (ctx: WorkflowContext) => {
      for (let i = 0; i < n; i++) await ctx.step(`s${i}`, () => work(i));
      return n;
    });
    rt.register('bench.fanout', async (ctx: WorkflowContext) => {
      const items = Array.from({ length: m }, (_, i) => ({ key: `d${i}`, value: i }));
      const r = await ctx.fanOut('items', items, (item, c) => c.step('apply', () => work(item.value)), { concurrency: 16 });
      return r.done;
    });
    t = performance.now();
    const out = await rt.start({ runId: 'bench-steps', workflow: 'bench.steps', input: null, initiator: 'bench' });
    await recorder?.flush();
    const durableMs = performance.now() - t;
    if (out.status !== 'completed') throw new Error(`bench run ended ${out.status}`);
    t = performance.now();
    const fan = await rt.start({ runId: 'bench-fan', workflow: 'bench.fanout', input: null, initiator: 'bench' });
    await recorder?.flush();
    const fanMs = performance.now() - t;
    if (fan.status !== 'completed') throw new Error(`fan-out run ended ${fan.status}`);
    await rt.close();
    db.close();
    return {
      steps: n,
      plainStepsPerSec: n / (plainMs / 1000),
      durableStepsPerSec: n / (durableMs / 1000),
      overheadMsPerStep: (durableMs - plainMs) / n,
      rawCommitsPerSec: n / (rawMs / 1000),
      commitsPerStep: durableMs / rawMs,
      fanoutItemsPerSec: m / (fanMs / 1000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const keyDir = mkdtempSync(join(tmpdir(), 'fb-bench-key-'));
  // As the application wires it: every journal event committed with its step, appended to the chain from the outbox after the commit.
  const withAudit = (db: import('node:sqlite').DatabaseSync) => new AuditLog({ db, signer: loadSigner(join(keyDir, 'audit.key')), checkpointEvery: 1000 });
  const bare = await measureEngine(N, M);
  const f = await measureEngine(N, M, withAudit);
  rmSync(keyDir, { recursive: true, force: true });
  const r = (x: number) => x.toFixed(x < 10 ? 3 : 0);
  console.log(`engine (embedded SQLite, WAL, synchronous=FULL), ${f.steps} sequential steps, ${M} fan-out items`);
  console.log(`  baseline plain calls:      ${r(f.plainStepsPerSec)} steps/s`);
  console.log(`  baseline raw commits:      ${r(f.rawCommitsPerSec)} commits/s (one INSERT per durable transaction)`);
  console.log(`  durable steps (+ audit):   ${r(f.durableStepsPerSec)} steps/s  = ${(f.durableStepsPerSec / f.rawCommitsPerSec).toFixed(2)}× raw commit rate (without audit ${r(bare.durableStepsPerSec)} steps/s)`);
  console.log(`  journal overhead per step: ${r(bare.overheadMsPerStep)} ms without audit; ${r(f.overheadMsPerStep)} ms with audit (target ≤ 2 ms)  ≈ ${f.commitsPerStep.toFixed(2)} raw commits' time`);
  console.log(`  fan-out items (c=16):      ${r(f.fanoutItemsPerSec)} items/s with audit; ${r(bare.fanoutItemsPerSec)} items/s journal only`);
}
