// Builds the stores the report benchmark reads: an incident whose run fans
// out over N items, made through the application as `firebreak run` makes it
// (journal, incident timeline, audit entries from the journal's outbox), and
// a copy of that store whose audit trail is then grown to M entries through
// the AuditLog's own group appends, signed checkpoints included (as a store
// that has recorded many incidents before looks to a report).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { openApp } from '../../src/app/app-open.ts';
import { AuditLog, type AuditInput } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { loadConfig } from '../../src/config/index.ts';
import { definePlaybook } from '../../src/engine/playbook-types.ts';
import type { PlatformPlaybook } from '../../src/playbooks/index.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';

export interface BenchStore {
  readonly dir: string;
  readonly configPath: string;
  readonly incidentId: string;
}

/** The smallest configuration a store needs: the state directory beside it. */
const CONFIG = 'version: 1\nstateDir: state\n';
/** The state directory's files (the database is closed, so its WAL is folded in). */
const STATE_FILES = ['firebreak.db', 'journal.key', 'audit-signing.key', 'audit.anchor'];

/** One step fanned out over `items` devices, each applied and verified at once (no connector: the journal and the audit trail are what is measured). */
function fanoutPlaybook(): PlatformPlaybook {
  const done = new Set<string>();
  return definePlaybook<{ items: number }, Set<string>>({
    id: 'bench-fanout', title: 'Report benchmark', summary: 'Re-enrolls N simulated devices', version: 1, incidentKind: 'bench', severity: 'low',
    input: z.object({ items: z.number().int().min(1) }), rto: { recovery: 3_600_000 }, connect: async () => done,
    steps: [{
      id: 'reenroll-devices', title: 'Re-enroll the device', phase: 'recovery', system: 'bench', effect: 'mutate', idempotency: 'natural',
      forEach: { items: async ({ input }) => Array.from({ length: input.items }, (_, i) => ({ key: `device-${String(i).padStart(5, '0')}`, value: i })), concurrency: 16 },
      check: async ({ deps, item }) => ({ done: deps.has(item?.key ?? ''), detail: `re-enroll ${item?.key ?? ''}` }),
      apply: async ({ deps, item }) => { deps.add(item?.key ?? ''); return { serial: String(1e15 + Number(item?.value)) }; },
      verify: async ({ deps, item }) => ({ ok: deps.has(item?.key ?? ''), detail: 'certificate issued by the new Sub-CA' }),
    }],
  });
}

/** A store in `dir` holding one incident whose run fanned out over `items` items. */
export async function buildIncidentStore(dir: string, items: number): Promise<BenchStore> {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'firebreak.yaml');
  writeFileSync(configPath, CONFIG);
  const app = await openApp({ configPath, playbooks: [fanoutPlaybook()] });
  try {
    const h = await app.start({ playbook: 'bench-fanout', input: { items }, initiator: 'bench', yes: true });
    const outcome = await h.outcome;
    if (outcome.status !== 'completed' || h.incidentId === null) throw new Error(`the bench run ended ${outcome.status}: ${outcome.error?.message ?? ''}`);
    return { dir, configPath, incidentId: h.incidentId };
  } finally {
    await app.close();
  }
}

/** A copy of `from` in `dir` (same incident, same keys). */
export function copyStore(from: BenchStore, dir: string): BenchStore {
  mkdirSync(join(dir, 'state'), { recursive: true, mode: 0o700 });
  const configPath = join(dir, 'firebreak.yaml');
  writeFileSync(configPath, CONFIG);
  for (const f of STATE_FILES) copyFileSync(join(from.dir, 'state', f), join(dir, 'state', f));
  return { dir, configPath, incidentId: from.incidentId };
}

/** A step's audit entry as the journal's outbox makes it (kind, ids, the step's meta and output). */
function pastEntry(i: number): AuditInput {
  const incident = `INC-20261001-${(Math.floor(i / 5000) + 0x100000).toString(16)}`;
  return {
    kind: 'step.completed', actor: 'firebreak', incidentId: incident, runId: `run-20261001-${(Math.floor(i / 5000) + 0x10000000).toString(16)}`,
    stepId: `reenroll-devices[device-${i % 5000}]/apply`,
    data: { attempt: 1, title: 'Re-enroll the device', phase: 'recovery', system: 'step-ca', output: { outcome: 'applied', serial: String(1e15 + i) } },
  };
}

/** Appends entries to the store's audit trail until it holds `entries`, 1,000 per group append, signing checkpoints as the application's log does. */
export function growAuditTrail(store: BenchStore, entries: number): number {
  const loaded = loadConfig(store.configPath);
  const db = openDatabase(join(loaded.stateDir, 'firebreak.db'));
  try {
    const log = new AuditLog({ db, signer: loadSigner(loaded.signingKeyFile), checkpointEvery: loaded.config.audit.checkpointEvery, anchorFile: loaded.anchorFile });
    // Durability is not what is measured: the filler commits without fsync.
    db.exec('PRAGMA synchronous = OFF');
    for (let have = log.count(); have < entries; have += 1000) {
      log.appendMany(Array.from({ length: Math.min(1000, entries - have) }, (_, j) => pastEntry(have + j)));
    }
    log.checkpoint();
    return log.count();
  } finally {
    db.close();
  }
}
