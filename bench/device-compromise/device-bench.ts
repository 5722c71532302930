// device-compromise benchmark, against the lab at 0 ms and 20 ms per call:
//  - engine overhead per step: the playbook run vs the same connector calls made
//    directly (same order, same parallelism), measured in the same run;
//  - parallel containment: wall time of the containment phase vs its longest branch.
//
//   node bench/device-compromise/device-bench.ts [--runs 5]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLab } from '../../src/lab/lab.ts';
import { openApp } from '../../src/app/app-open.ts';
import { loadConfig } from '../../src/config/index.ts';
import { connectDevice } from '../../src/playbooks/device-compromise/device-deps.ts';
import { resolveDevice } from '../../src/playbooks/device-compromise/device-resolve.ts';
import { readPeersJson, removeFromPeersJson } from '../../src/connectors/wireguard/peers-json.ts';
import { createPlatform } from '../../src/playbooks/platform.ts';
import { executorResolver } from '../../src/app/app-open.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { computePlan } from '../../src/engine/playbook-plan.ts';
import { deviceCompromise } from '../../src/playbooks/device-compromise/device-compromise.ts';
import type { StepRecord } from '../../src/engine/runtime-types.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const BRANCHES: string[][] = [['revoke-certificate'], ['remove-wireguard-peer', 'persist-wireguard'], ['remove-from-peers-json'], ['delete-thingsboard-device'], ['delete-hawkbit-target']];
const ms = (s: StepRecord) => (s.startedAt === null || s.endedAt === null ? 0 : Date.parse(s.endedAt) - Date.parse(s.startedAt));

async function measure(latencyMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'fb-dcbench-'));
  const lab = await startLab({ dir, devices: RUNS * 2, faults: { latencyMs } });
  try {
    const loaded = loadConfig(lab.configPath);
    // Direct: the same calls (plan, then the steps' checks, applies and verifies), same order and parallelism, no journal, no audit.
    const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
    let direct = 0;
    for (let i = 0; i < RUNS; i++) {
      const device = lab.devices[RUNS + i] ?? '';
      const input = { tenant: 'acme', device };
      const started = performance.now();
      const deps = await connectDevice({ config: platform, log: silentLogger }, input);
      const signal = AbortSignal.timeout(60_000);
      await computePlan(deviceCompromise, input, deps, silentLogger, signal);
      const r = await resolveDevice(deps, input, signal);
      await Promise.all([deps.tb?.getDevice(r.tbDeviceId ?? '', signal), deps.tb?.latestTelemetry(r.tbDeviceId ?? '', signal), deps.hawkbit?.getTarget(device, signal), deps.wg?.findPeer(r.publicKey ?? '', signal)]);
      await Promise.all([
        (async () => { await deps.ca?.revoke(r.serial ?? '', 'keyCompromise', signal); await deps.ca?.revoke(r.serial ?? '', 'keyCompromise', signal); })(),
        (async () => { await deps.wg?.findPeer(r.publicKey ?? ''); await deps.wg?.removePeer(r.publicKey ?? ''); await deps.wg?.findPeer(r.publicKey ?? ''); await deps.wg?.configHasPeer(r.publicKey ?? ''); await deps.wg?.persistRemoval(r.publicKey ?? ''); await deps.wg?.configHasPeer(r.publicKey ?? ''); })(),
        (async () => { if (deps.peers === undefined) return; await readPeersJson(deps.peers.executor, deps.peers.path); await removeFromPeersJson(deps.peers.executor, deps.peers.path, device); await readPeersJson(deps.peers.executor, deps.peers.path); })(),
        (async () => { const d = await deps.tb?.findDeviceByName(device, signal); await deps.tb?.findDeviceByName(device, signal); await deps.tb?.deleteDevice(d?.id ?? '', signal); await deps.tb?.findDeviceByName(device, signal); await deps.tb?.getDevice(d?.id ?? '', signal); })(),
        (async () => { await deps.hawkbit?.getTarget(device, signal); await deps.hawkbit?.deleteTarget(device, signal); await deps.hawkbit?.getTarget(device, signal); })(),
      ]);
      direct += performance.now() - started;
      await Promise.all([deps.ca?.close(), deps.tb?.close(), deps.hawkbit?.close()]);
    }
    // Engine: the playbook, journaled and audited (synchronous=FULL), --yes.
    const app = await openApp({ loaded });
    let engine = 0;
    let steps = 0;
    const ratios: number[] = [];
    const containment: number[] = [];
    const longest: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const started = performance.now();
        const { runId, outcome: done } = await app.start({ playbook: 'device-compromise', input: { tenant: 'acme', device: lab.devices[i] ?? '' }, initiator: 'bench', yes: true });
        const outcome = await done;
        engine += performance.now() - started;
        if (outcome.status !== 'completed') throw new Error(`run ended ${outcome.status}: ${outcome.error?.message ?? ''}`);
        const all = (await app.queries.runDetail(runId)).steps;
        steps += all.filter((s) => s.kind === 'step' || s.kind === 'signal').length;
        const work = all.filter((s) => BRANCHES.flat().includes(s.stepId));
        const start = Math.min(...work.map((s) => Date.parse(s.startedAt ?? '')));
        const end = Math.max(...work.map((s) => Date.parse(s.endedAt ?? '')));
        const branch = Math.max(...BRANCHES.map((b) => b.reduce((sum, id) => sum + ms(all.find((s) => s.stepId === id) as StepRecord), 0)));
        containment.push(end - start);
        longest.push(branch);
        ratios.push((end - start) / Math.max(1, branch));
      }
    } finally {
      await app.close();
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { latencyMs, directMs: direct / RUNS, engineMs: engine / RUNS, stepsPerRun: steps / RUNS, overheadPerStepMs: (engine - direct) / steps, containmentMs: avg(containment), longestBranchMs: avg(longest), parallelRatio: avg(ratios) };
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const latency of [0, 20]) {
  const f = await measure(latency);
  console.log(`device-compromise, lab at ${f.latencyMs} ms per call, ${RUNS} runs:`);
  console.log(`  run wall time: ${f.engineMs.toFixed(1)} ms through the engine vs ${f.directMs.toFixed(1)} ms calling the connectors directly (baseline) → overhead ${f.overheadPerStepMs.toFixed(2)} ms per step over ${f.stepsPerRun.toFixed(0)} journaled steps`);
  console.log(`  containment phase: ${f.containmentMs.toFixed(1)} ms vs its longest branch ${f.longestBranchMs.toFixed(1)} ms → ratio ${f.parallelRatio.toFixed(2)} (1.00 = the five branches fully parallel)`);
}
