// What `firebreak drill` does, imported by its action (commands-drill.ts): the lab, the application, the reports.
import { join, resolve } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { FirebreakError } from '../lib/errors.ts';
import { startLab, type Lab } from '../lab/lab.ts';
import { localPostgresProblem } from '../lab/postgres/lab-postgres.ts';
import type { ExternalPostgres } from '../lab/postgres/lab-database.ts';
import { loadConfig } from '../config/index.ts';
import { openApp } from '../app/app-open.ts';
import type { App, StartRequest } from '../app/app.ts';
import type { RunOutcome } from '../engine/runtime-types.ts';
import { renderReport } from '../report/report-render.ts';
import { PLAYBOOK_DESCRIPTORS } from '../playbooks/playbook-list.ts';
import type { Drill, DrillLab } from '../playbooks/playbook-descriptor.ts';
import { loggerFor, type CommandContext } from './cli-context.ts';
import { createTaskList } from './task-list.ts';
import { formatDuration } from './output.ts';
import { num } from './option-values.ts';
import { parseInputArgs } from './playbook-options.ts';

export interface DrillOptions { devices: string; latency: string; jitter: string; errorRate: string; timeoutRate: string; seed: string; dir?: string; postgres?: string }

/** A configured PostgreSQL for the drill, from a URL without its password (that comes from $PGPASSWORD, never the command line). */
export function externalPostgres(raw: string): ExternalPostgres {
  let u: URL;
  try { u = new URL(raw); } catch { throw new FirebreakError('USAGE', '--postgres must be a URL such as postgres://admin@db.example.net:5432/postgres'); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new FirebreakError('USAGE', `--postgres must be a postgres:// URL (got ${u.protocol}//…)`);
  if (u.password !== '') throw new FirebreakError('USAGE', '--postgres must not contain a password (it would be on the command line): set $PGPASSWORD instead');
  if (u.username === '' || u.hostname === '') throw new FirebreakError('USAGE', '--postgres needs an admin user and a host: postgres://admin@host:5432/db');
  const adminPassword = process.env['PGPASSWORD'];
  if (adminPassword === undefined || adminPassword === '') throw new FirebreakError('SECRET_UNAVAILABLE', '--postgres needs the admin password in $PGPASSWORD');
  const sslmode = u.searchParams.get('sslmode') ?? 'verify-full';
  if (sslmode !== 'disable' && sslmode !== 'require' && sslmode !== 'verify-full') throw new FirebreakError('USAGE', `--postgres sslmode must be disable, require or verify-full (got ${sslmode})`);
  return { host: u.hostname, port: u.port === '' ? 5432 : Number(u.port), database: decodeURIComponent(u.pathname.slice(1)) || 'postgres', adminUser: decodeURIComponent(u.username), adminPassword, adminPasswordRef: 'env:PGPASSWORD', sslmode };
}

/** The lab Vault as the drill's key holders see it: the current shares (the same array: a verified rekey replaces them) and the holders' private keys. */
export function vaultOfLab(lab: Lab): NonNullable<DrillLab['vault']> {
  return {
    url: lab.vault.url, ca: lab.vault.caPem, unsealKeys: lab.vault.unsealKeys, threshold: lab.vault.threshold, token: lab.vault.sim.rootToken,
    holders: lab.vault.holders.map((h) => ({ name: h.name, privateKey: readFileSync(h.privateKeyFile, 'utf8') })),
  };
}

/** Rehearses the chosen playbooks (every one with a drill by default) against a lab started for it; returns the exit code. */
export async function drill(c: CommandContext, playbookId: string | undefined, inputs: readonly string[], o: DrillOptions): Promise<number> {
  const { g, out } = c;
  const chosen = playbookId === undefined ? PLAYBOOK_DESCRIPTORS.filter((p) => p.drill !== undefined) : PLAYBOOK_DESCRIPTORS.filter((p) => p.id === playbookId);
  if (chosen.length === 0) throw new FirebreakError('NOT_FOUND', playbookId === undefined ? 'no playbook has a drill' : `no playbook "${playbookId}"; known: ${PLAYBOOK_DESCRIPTORS.map((p) => p.id).join(', ')}`);
  // A drill that needs a real PostgreSQL runs only where one can be started; asked for by name, its absence is an error.
  const external = o.postgres === undefined ? undefined : externalPostgres(o.postgres);
  const pgProblem = external === undefined && chosen.some((p) => p.drill?.needs?.includes('postgres') === true) ? localPostgresProblem() : undefined;
  if (pgProblem !== undefined && playbookId !== undefined) throw new FirebreakError('UNAVAILABLE', `the ${playbookId} drill needs a local PostgreSQL: ${pgProblem}`);
  const skipped = pgProblem === undefined ? [] : chosen.filter((p) => p.drill?.needs?.includes('postgres') === true);
  const list = chosen.filter((p) => !skipped.includes(p));
  for (const p of skipped) if (!g.json) out.err(`Skipping the ${p.id} drill: it needs a local PostgreSQL (${pgProblem ?? ''}).`);
  const faults = {
    latencyMs: num('--latency', o.latency, 0, 60_000), jitterMs: num('--jitter', o.jitter, 0, 60_000),
    errorRate: num('--error-rate', o.errorRate, 0, 1), timeoutRate: num('--timeout-rate', o.timeoutRate, 0, 1),
  };
  const dir = resolve(o.dir ?? join('.firebreak', 'drills', new Date().toISOString().replace(/[:.]/g, '-')));
  if (!g.json) out.line(out.style('bold', `Starting the lab in ${dir} (${o.devices} devices${faults.latencyMs > 0 ? `, ${faults.latencyMs} ms latency` : ''}${faults.errorRate > 0 ? `, ${faults.errorRate * 100}% errors` : ''})…`));
  const lab = await startLab({ dir, devices: num('--devices', o.devices, 1, 100_000), faults, seed: num('--seed', o.seed, 0, 2 ** 31), postgres: list.some((p) => p.drill?.needs?.includes('postgres') === true) && (external ?? true) });
  const summaries: unknown[] = [];
  let worst = 0;
  try {
    const app = await openApp({ loaded: loadConfig(lab.configPath), logger: await loggerFor(g) });
    try {
      const drillLab: DrillLab = {
        ...(lab.postgres === undefined ? {} : { postgresRole: lab.postgres.role }),
        vault: vaultOfLab(lab),
      };
      for (const p of list) {
        const given = p.drill?.input;
        const input = inputs.length > 0 ? parseInputArgs(app.playbook(p.id), inputs) : { ...(typeof given === 'function' ? given(drillLab) : given) };
        if (!g.json) out.line(`\n${out.style('bold', `Drill: ${p.id}`)} ${out.style('dim', JSON.stringify(input))}`);
        const tasks = g.json ? undefined : createTaskList(out);
        const { runId, incidentId, outcome } = await startFollowed(app, { playbook: p.id, input, initiator: c.actor(), yes: true }, tasks, p.drill?.manual === undefined ? undefined : { manual: p.drill.manual, lab: drillLab });
        if (incidentId === null) throw new FirebreakError('INTERNAL', `the drill's run ${runId} has no incident`);
        const report = await app.queries.report(incidentId, { verifyAudit: true });
        const reportPath = join(dir, `report-${incidentId}.md`);
        writeFileSync(reportPath, renderReport(report, 'md'));
        writeFileSync(join(dir, `report-${incidentId}.html`), renderReport(report, 'html'));
        const code = outcome.status === 'completed' ? 0 : outcome.status === 'completed_with_failures' ? 11 : 1;
        worst = Math.max(worst, code);
        summaries.push({ playbook: p.id, runId, incidentId, status: outcome.status, error: outcome.error ?? null, phases: report.phases, report: reportPath });
        if (g.json) continue;
        out.line();
        out.line(out.style('bold', 'Timeline against RTO targets (from detection):'));
        const detected = Date.parse(report.incident.detectedAt);
        for (const run of report.runs) {
          // A fan-out shows its first items and every failure (up to ten), then one line for the rest.
          const seen = new Map<string, { shown: number; hidden: number; failed: number; slowest: number; last: number }>();
          run.actions.forEach((a, i) => {
            if (a.item !== undefined) {
              const g = seen.get(a.title) ?? { shown: 0, hidden: 0, failed: 0, slowest: 0, last: 0 };
              seen.set(a.title, g);
              g.last = i;
              g.slowest = Math.max(g.slowest, a.durationMs ?? 0);
              if (a.status !== 'completed') g.failed++;
              if (g.shown >= 3 && (a.status === 'completed' || g.failed > 10)) { g.hidden++; return; }
              g.shown++;
            }
            const at = a.startedAt === null ? '' : `+${formatDuration(Date.parse(a.startedAt) - detected)}`;
            out.line(`  ${at.padStart(9)}  ${a.phase.padEnd(12)} ${a.status === 'completed' ? out.style('green', '✔') : out.style('red', '✖')} ${a.title}${a.item === undefined ? '' : ` (${a.item})`} ${out.style('dim', a.durationMs === null ? '' : formatDuration(a.durationMs))}`);
          });
          for (const [title, g] of seen) {
            if (g.hidden > 0) out.line(`  ${''.padStart(9)}  ${''.padEnd(12)} … ${title}: ${g.hidden} more item(s); ${g.shown + g.hidden - g.failed} completed, ${g.failed} failed in all; slowest ${formatDuration(g.slowest)}`);
          }
        }
        for (const ph of report.phases) {
          const verdict = ph.met === true ? out.style('green', 'met') : ph.met === false ? out.style('red', 'MISSED') : out.style('yellow', 'not completed');
          out.line(`  ${ph.phase.padEnd(13)} ${formatDuration(ph.elapsedMs).padStart(8)} of ${ph.targetMs === null ? '–' : formatDuration(ph.targetMs)}  ${verdict}`);
        }
        out.line(`\n${outcome.status === 'completed' ? out.style('green', 'Drill passed') : out.style('red', `Drill ended ${outcome.status}`)}${outcome.error === undefined ? '' : `: ${outcome.error.message}`}`);
        out.line(`Report: ${reportPath} (and .html) · audit: ${report.audit.detail}`);
        out.line(out.style('dim', `Explore: npx firebreak --config ${lab.configPath} runs show ${runId}`));
      }
    } finally {
      await app.close();
    }
  } finally {
    await lab.stop();
  }
  if (g.json) out.data({ labDir: dir, config: lab.configPath, drills: summaries, skipped: skipped.map((p) => ({ playbook: p.id, reason: pgProblem })) });
  return worst;
}

/** The drill's stand-in for the people of a manual step: does their part against the lab, then confirms it as they would. */
interface DrillOperator { readonly manual: NonNullable<Drill['manual']>; readonly lab: DrillLab }

/**
 * Starts a run and shows its progress (when `tasks`) until it ends: every event up to its end is shown before what follows.
 * With an `operator`, a wait at one of its manual steps is answered: the step's work done against the lab, then confirmed.
 */
async function startFollowed(app: App, req: StartRequest, tasks: ReturnType<typeof createTaskList> | undefined, operator?: DrillOperator): Promise<{ runId: string; incidentId: string | null; outcome: RunOutcome }> {
  let stop = () => Promise.resolve();
  let stopOperator = () => Promise.resolve();
  const abort = new AbortController();
  const answered = new Set<string>();
  let failure: Error | undefined;
  try {
    const started = await app.start(req);
    if (tasks !== undefined) stop = app.follow(started.runId, tasks.onEvent);
    if (operator !== undefined) {
      stopOperator = app.follow(started.runId, (e) => {
        if (e.type !== 'waiting' || e.meta?.['manual'] !== true || !e.stepId.startsWith('approve-')) return;
        const step = e.stepId.slice('approve-'.length);
        const act = operator.manual[step];
        if (act === undefined || answered.has(step)) return;
        answered.add(step);
        void act(operator.lab, abort.signal)
          .then(async (saw) => { if (saw !== undefined) await app.labelCredential({ runRef: started.runId, ref: saw.credential, fingerprint: saw.fingerprint, actor: 'drill-operator', note: saw.note }); })
          .then(() => app.approve({ runRef: started.runId, approver: 'drill-operator', decision: 'approve', step, note: 'the drill did this manual step against the lab' }))
          .catch(async (err: unknown) => { failure = err instanceof Error ? err : new Error(String(err)); await app.cancel(started.runId, 'drill-operator'); });
      });
    }
    const outcome = await started.outcome;
    if (failure !== undefined) throw failure;
    return { runId: started.runId, incidentId: started.incidentId, outcome };
  } finally {
    abort.abort();
    await stopOperator();
    await stop();
    tasks?.stop();
  }
}
