// db-credential-leak benchmark on a real local PostgreSQL (the drill's lab
// database: a role, its .env, a consumer process that reconnects on restart):
//  - the rotation's wall time broken down by phase (create, set, test,
//    propagate, restart, verify, finish), median over the runs;
//  - the journal/audit overhead per phase: the phase's wall time in the engine
//    minus the time spent inside the adapter's own calls (PostgreSQL, the .env,
//    the restart), both measured in the same run.
//
//   node bench/db-credential-leak/db-bench.ts [--runs 10]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startLabDatabase } from '../../src/lab/postgres/lab-database.ts';
import { localPostgresProblem } from '../../src/lab/postgres/lab-postgres.ts';
import { openApp } from '../../src/app/app-open.ts';
import { loadConfig } from '../../src/config/index.ts';
import { stagedRotation, type RotationAdapter } from '../../src/engine/staged-rotation.ts';
import type { AnyPlaybook, StepContext } from '../../src/engine/playbook-types.ts';
import { dbCredentialLeak, passwordRotation } from '../../src/playbooks/db-credential-leak/db-credential-leak.ts';
import type { DbCredentialLeakInput, DbDeps } from '../../src/playbooks/db-credential-leak/db-deps.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const PHASES = ['create', 'set', 'test', 'propagate', 'restart', 'verify', 'finish'] as const;
type PhaseName = typeof PHASES[number];
// Which rotation phase each adapter function serves.
const PHASE_OF: Record<string, PhaseName> = {
  generate: 'create', current: 'create', isSet: 'set', set: 'set', test: 'test', isPropagated: 'propagate', propagate: 'propagate',
  rollbackPropagation: 'propagate', consumersUpdated: 'restart', restartConsumers: 'restart', verify: 'verify',
};

const problem = localPostgresProblem();
if (problem !== undefined) {
  console.error(`db-credential-leak bench needs a local PostgreSQL: ${problem}`);
  process.exit(1);
}

/** The adapter with every call timed into `inside[phase]` (calls made while planning are not counted). */
function timed(a: RotationAdapter<DbCredentialLeakInput, DbDeps>, inside: Record<PhaseName, number>): RotationAdapter<DbCredentialLeakInput, DbDeps> {
  const wrapped: Record<string, unknown> = { ...a };
  for (const [key, fn] of Object.entries(a)) {
    const phase = PHASE_OF[key];
    if (typeof fn !== 'function' || phase === undefined) continue;
    wrapped[key] = async (ctx: StepContext<DbCredentialLeakInput, DbDeps>, ...rest: unknown[]) => {
      const t0 = performance.now();
      try {
        return await (fn as (...args: unknown[]) => unknown)(ctx, ...rest);
      } finally {
        if (!ctx.planning) inside[phase] += performance.now() - t0;
      }
    };
  }
  return wrapped as unknown as RotationAdapter<DbCredentialLeakInput, DbDeps>;
}

const zero = (): Record<PhaseName, number> => ({ create: 0, set: 0, test: 0, propagate: 0, restart: 0, verify: 0, finish: 0 });
const inside = zero();
const playbook: AnyPlaybook = {
  ...dbCredentialLeak,
  steps: [...dbCredentialLeak.steps.filter((s) => !s.id.startsWith('password-')), ...stagedRotation(timed(passwordRotation, inside), { dependsOn: ['capture-sessions'], phase: 'containment' })],
};

const dir = mkdtempSync(join(tmpdir(), 'fb-dbbench-'));
const db = await startLabDatabase(join(dir, 'postgres'));
try {
  const configPath = join(dir, 'firebreak.yaml');
  writeFileSync(configPath, stringify({ version: 1, lab: true, labConfigFile: configPath, stateDir: 'state', provider: { timescaledb: db.config } }), { mode: 0o600 });
  const app = await openApp({ loaded: loadConfig(configPath), playbooks: [playbook] });
  const walls: Record<PhaseName, number[]> = { create: [], set: [], test: [], propagate: [], restart: [], verify: [], finish: [] };
  const overheads: Record<PhaseName, number[]> = { create: [], set: [], test: [], propagate: [], restart: [], verify: [], finish: [] };
  const totals: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      Object.assign(inside, zero());
      const started = performance.now();
      const startedAt = Date.now();
      const { runId, outcome: done } = await app.start({ playbook: 'db-credential-leak', input: { stack: 'provider', role: 'telegraf' }, initiator: 'bench', yes: true });
      const outcome = await done;
      totals.push(performance.now() - started);
      if (outcome.status !== 'completed') throw new Error(`run ended ${outcome.status}: ${outcome.error?.message ?? ''}`);
      // When each step ended, as its journal row says (committed with the step; millisecond resolution).
      const completedAt = new Map((await app.queries.runDetail(runId)).steps.flatMap((s) => (s.status === 'completed' && s.endedAt !== null ? [[s.stepId, Date.parse(s.endedAt)] as const] : [])));
      let previous = completedAt.get('capture-sessions') ?? startedAt;
      for (const p of PHASES) {
        const end = completedAt.get(`password-${p}`) ?? previous;
        walls[p].push(end - previous);
        overheads[p].push(end - previous - inside[p]);
        previous = end;
      }
    }
  } finally {
    await app.close();
  }
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? 0; };
  console.log(`db-credential-leak on a real local PostgreSQL, ${RUNS} rotations of one role (median per phase):`);
  console.log('  phase       wall ms   adapter ms   journal/audit overhead ms');
  for (const p of PHASES) {
    console.log(`  ${p.padEnd(10)} ${median(walls[p]).toFixed(1).padStart(8)} ${median(walls[p].map((w, k) => w - (overheads[p][k] ?? 0))).toFixed(1).padStart(12)} ${median(overheads[p]).toFixed(2).padStart(14)}`);
  }
  const sumOverhead = PHASES.reduce((s, p) => s + median(overheads[p]), 0);
  console.log(`  whole run (plan, assessment, rotation): median ${median(totals).toFixed(0)} ms; rotation overhead ${sumOverhead.toFixed(1)} ms over ${PHASES.length} phases (${(sumOverhead / PHASES.length).toFixed(2)} ms per phase; target ≤ 2 ms per step)`);
} finally {
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
