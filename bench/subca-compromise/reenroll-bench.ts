// Re-enrollment benchmark: subca-compromise over a tenant of N devices (5,000
// by default) on the lab — every device gets a one-time token through
// ThingsBoard, enrolls at the tenant CA with a key it generates, and reports
// its certificate.
//  - engine: the playbook run (plan, Sub-CA rotation, then the fan-out with a
//    journal row and audit entries per device), wall time of the fan-out;
//  - baseline, same run: the same per-device functions (the fan-out step's own
//    check, apply, verify) called directly with the same concurrency, no
//    journal, no audit, no rate limiter (lifted for the engine too).
//
// The engine runs first, so the baseline would inherit a warmed-up process (JIT,
// connection pools, the lab's caches): both are timed from the start of the
// device after the first tenth (--warmup) to the end, steady state against
// steady state.
//
//   node bench/subca-compromise/reenroll-bench.ts [--devices 5000] [--concurrency 64] [--warmup <devices>]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { startLab } from '../../src/lab/lab.ts';
import { openApp, executorResolver } from '../../src/app/app-open.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createPlatform } from '../../src/playbooks/platform.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { mapWithConcurrency } from '../../src/engine/rate-limit.ts';
import { connectSubca, disconnectSubca, type SubcaCompromiseInput, type SubcaDeps } from '../../src/playbooks/subca-compromise/subca-deps.ts';
import { reenrollStep } from '../../src/playbooks/subca-compromise/subca-compromise.ts';
import type { StepContext } from '../../src/engine/playbook-types.ts';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '64' }, warmup: { type: 'string' } } });
const N = Number(values.devices);
const CONCURRENCY = Number(values.concurrency);
const WARMUP = values.warmup === undefined ? Math.floor(N / 10) : Number(values.warmup);

const dir = mkdtempSync(join(tmpdir(), 'fb-reenroll-'));
let t0 = performance.now();
const lab = await startLab({ dir, devices: N, reenrollTimeout: '60s' });
console.log(`lab with ${N} devices ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
try {
  // The lab's ThingsBoard rate limit (200/s) would bound both sides alike: lifted, to see the engine's own cost.
  const cfg = parse(readFileSync(lab.configPath, 'utf8')) as { engine: { rateLimits: Record<string, number> }; tenants: Record<string, { subCa: { reenroll: Record<string, unknown> } }> };
  Object.assign(cfg.tenants['acme']?.subCa.reenroll ?? {}, { concurrency: CONCURRENCY });
  cfg.engine.rateLimits['thingsboard'] = 1_000_000;
  writeFileSync(lab.configPath, stringify(cfg));
  const loaded = loadConfig(lab.configPath);

  // Engine: the whole playbook; the fan-out's wall time from its journal rows.
  const app = await openApp({ loaded });
  let engineMs = 0;
  let engineSteadyMs = 0;
  let runId = '';
  try {
    t0 = performance.now();
    const r = await app.start({ playbook: 'subca-compromise', input: { tenant: 'acme' }, initiator: 'bench', yes: true });
    runId = r.runId;
    const outcome = await r.outcome;
    const total = performance.now() - t0;
    if (outcome.status !== 'completed') throw new Error(`run ended ${outcome.status}: ${outcome.error?.message ?? ''}`);
    const items = (await app.queries.runDetail(runId)).steps.filter((s) => /^reenroll-devices\[[^\]]+\]$/.test(s.stepId));
    const starts = items.map((s) => Date.parse(s.startedAt ?? '')).sort((a, b) => a - b);
    const end = Math.max(...items.map((s) => Date.parse(s.endedAt ?? '')));
    engineMs = end - (starts[0] ?? 0);
    engineSteadyMs = end - (starts[WARMUP] ?? 0);
    console.log(`engine: whole run ${(total / 1000).toFixed(1)} s; re-enrollment fan-out ${(engineMs / 1000).toFixed(2)} s for ${items.length} journaled devices`);
  } finally {
    await app.close();
  }
  await lab.simulators.thingsboard.settled();
  const reader = await openApp({ loaded });
  const outputs = Object.fromEntries((await reader.queries.runDetail(runId)).steps.filter((s) => !s.stepId.includes('[')).map((s) => [s.stepId, (s.output as { output?: unknown } | null)?.output ?? s.output]));
  await reader.close();

  // Baseline: the same per-device apply, same concurrency, straight calls.
  const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
  const input: SubcaCompromiseInput = { tenant: 'acme' };
  const deps: SubcaDeps = await connectSubca({ config: platform, log: silentLogger }, input);
  try {
    const devices = await deps.tb.listDevices();
    const signal = AbortSignal.timeout(600_000);
    t0 = performance.now();
    let steadyFrom = t0;
    // Per device what the engine does: check, apply, verify.
    const results = await mapWithConcurrency(devices, CONCURRENCY, async (d, i) => {
      if (i === WARMUP) steadyFrom = performance.now();
      const ctx = {
        runId: 'bench', input, deps, signal, log: silentLogger, output: (step: { id: string }) => outputs[step.id], item: { key: d.name, value: { id: d.id, name: d.name } }, attempt: 1, resumed: false, planning: false,
      } as unknown as StepContext<SubcaCompromiseInput, SubcaDeps>;
      await reenrollStep.check?.(ctx);
      const out = await reenrollStep.apply(ctx);
      const v = await reenrollStep.verify?.(ctx, out);
      if (v?.ok !== true) throw new Error(`${d.name}: ${v?.detail ?? 'no verification'}`);
    });
    const directMs = performance.now() - t0;
    const directSteadyMs = performance.now() - steadyFrom;
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) throw new Error(`${failed} direct re-enrollments failed`);
    console.log(`direct (baseline): ${(directMs / 1000).toFixed(2)} s for ${devices.length} devices`);
    const steady = devices.length - WARMUP;
    console.log(`steady state (from device ${WARMUP + 1}): engine ${(engineSteadyMs / 1000).toFixed(2)} s, direct ${(directSteadyMs / 1000).toFixed(2)} s for ${steady} devices: ratio engine/direct ${(engineSteadyMs / directSteadyMs).toFixed(2)} (target ≤ 1.05)`);
    console.log(`whole fan-out: ratio engine/direct ${(engineMs / directMs).toFixed(2)}; the engine adds ${((engineMs - directMs) / devices.length).toFixed(2)} ms of wall time per device (journal row, audit entries, scheduling; concurrency ${CONCURRENCY}); ${(devices.length / (engineMs / 1000)).toFixed(0)} devices/s through the engine, ${(devices.length / (directMs / 1000)).toFixed(0)} directly`);
  } finally {
    await disconnectSubca(deps);
  }
} finally {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}
