import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FirebreakError } from '../lib/errors.ts';
import { IncidentStatuses, type IncidentStatus } from '../incidents/incident-store.ts';
import { RunStatuses, type RunStatus } from '../engine/runtime-types.ts';
import { ReportFormats, renderReport, type ReportFormat } from '../report/report-render.ts';
import { describePlaybook } from '../app/app-queries-playbooks.ts';
import { PLAYBOOK_DESCRIPTORS } from '../playbooks/playbook-list.ts';
import { needsApproval } from '../engine/playbook-plan.ts';
import { action, appAction, type AppContext } from './cli-context.ts';
import { oneOf } from './option-values.ts';
import { formatDuration } from './output.ts';

export function registerReadCommands(program: Command): void {
  const playbooks = program.command('playbooks').description('List the playbooks, or show one with its steps and inputs');
  // The installed playbooks are listed without a configuration, from their descriptors: nothing is opened or loaded.
  playbooks.argument('[id]', 'show this playbook in detail').action(action(async ({ g, out }, id: string | undefined) => {
    const list = id === undefined ? PLAYBOOK_DESCRIPTORS : PLAYBOOK_DESCRIPTORS.filter((p) => p.id === id);
    if (id !== undefined && list.length === 0) throw new FirebreakError('NOT_FOUND', `no playbook "${id}"; known: ${PLAYBOOK_DESCRIPTORS.map((p) => p.id).join(', ') || '(none)'}`);
    if (g.json) {
      // With the phases a playbook does not do yet (its descriptor's list; the definition has no place for them).
      out.data(list.map((p) => ({ ...describePlaybook(p), absent: p.absent ?? [] })));
      return;
    }
    if (list.length === 0) out.line('No playbooks are installed.');
    for (const p of list) {
      out.line(`${out.style('bold', p.id)}  ${p.title}`);
      out.line(`  ${p.summary}`);
      if (id === undefined) continue;
      out.line();
      for (const s of p.steps) out.line(`  ${s.phase.padEnd(12)} ${s.id.padEnd(28)} ${s.system.padEnd(12)} ${s.effect}${needsApproval(s) ? ' (approval)' : ''}${s.fanOut === true ? ' (fan-out)' : ''}${(s.dependsOn ?? []).length > 0 ? ` after ${(s.dependsOn ?? []).join(', ')}` : ''}`);
      const { printAbsent } = await import('./plan-print.ts');
      printAbsent(out, p.id);
      const { describeInputs } = await import('./playbook-options.ts');
      out.line(describeInputs({ id: p.id, input: await p.input() }));
    }
  }));

  const runs = program.command('runs').description('List runs, show one, or cancel one');
  runs.command('list', { isDefault: true }).description('List runs, newest first')
    .option('--status <status>', `only runs in this status (${RunStatuses.join(', ')})`)
    .option('--incident <id>', 'only runs of this incident')
    .option('-n, --limit <n>', 'at most this many', '50')
    .action(appAction(async ({ g, out, app }, o: { status?: string; incident?: string; limit: string }) => {
      const status = oneOf<RunStatus>('--status', RunStatuses, o.status);
      const list = await app.queries.runs({ ...(status === undefined ? {} : { status }), ...(o.incident === undefined ? {} : { incident: o.incident }), limit: Number(o.limit) || 50 });
      if (g.json) { out.data(list); return; }
      if (list.length === 0) { out.line('No runs yet. Start one with firebreak run <playbook> or firebreak drill.'); return; }
      out.table(['RUN', 'PLAYBOOK', 'STATUS', 'INCIDENT', 'STARTED', 'BY'], list.map((r) => [r.id, r.workflow, r.status, r.incidentId ?? '', r.createdAt, r.initiator]));
    }));
  runs.command('show').description('Show a run: every step, its attempts, outcome and errors').argument('<run>', 'run id or unique prefix')
    .action(appAction(async ({ g, out, app }, ref: string) => {
      const detail = await app.queries.runDetail(ref);
      if (g.json) { out.data(detail); return; }
      const { run, steps } = detail;
      out.line(`${out.style('bold', run.id)} ${run.workflow} — ${run.status}, started ${run.createdAt} by ${run.initiator}${run.incidentId === null ? '' : `, incident ${run.incidentId}`}`);
      if (run.error !== null) out.line(out.style('red', `${run.error.code}: ${run.error.message}`));
      for (const s of steps.filter((x) => x.kind !== 'item')) {
        const took = s.startedAt !== null && s.endedAt !== null ? formatDuration(Date.parse(s.endedAt) - Date.parse(s.startedAt)) : '';
        const o = s.output as { outcome?: string; verified?: string } | null;
        out.line(`  ${s.status.padEnd(10)} ${typeof s.meta['title'] === 'string' ? s.meta['title'] : s.stepId}${s.attempts > 1 ? ` (${s.attempts} attempts)` : ''} ${out.style('dim', took)}${o?.outcome === 'already' ? out.style('dim', ' already in place') : ''}${o?.verified === undefined ? '' : out.style('green', ` ✔ ${o.verified}`)}`);
        if (s.error !== null) out.line(out.style('red', `             ${s.error.code}: ${s.error.message}`));
        if (s.kind === 'fanout') {
          const items = steps.filter((x) => x.parentId === s.stepId);
          const failed = items.filter((x) => x.status === 'failed');
          out.line(`             ${items.filter((x) => x.status === 'completed').length}/${typeof s.meta['total'] === 'number' ? s.meta['total'] : items.length} items done, ${failed.length} failed${failed.length > 0 ? `: ${failed.slice(0, 10).map((f) => String(f.meta['key'])).join(', ')}` : ''}`);
        }
      }
    }));
  runs.command('cancel').description('Cancel a run (the process executing it stops at once; resume continues it later)').argument('<run>', 'run id or unique prefix')
    .action(appAction(async ({ g, out, app, actor }, ref: string) => {
      const run = await app.cancel(ref, actor());
      if (g.json) out.data({ runId: run.id, status: run.status });
      else out.line(`Cancel requested for ${run.id} (now ${run.status}).`);
    }));

  const incidents = program.command('incidents').description('List incidents, show one, its timeline, or move its status');
  incidents.command('list', { isDefault: true }).description('List incidents, newest first')
    .option('--status <status>', `only incidents in this status (${IncidentStatuses.join(', ')})`)
    .action(appAction(async ({ g, out, app }, o: { status?: string }) => {
      const status = oneOf<IncidentStatus>('--status', IncidentStatuses, o.status);
      const list = await app.queries.incidents(status === undefined ? {} : { status });
      if (g.json) { out.data(list); return; }
      if (list.length === 0) { out.line('No incidents.'); return; }
      out.table(['INCIDENT', 'STATUS', 'SEVERITY', 'KIND', 'DETECTED', 'TITLE'], list.map((i) => [i.id, i.status, i.severity, i.kind, i.detectedAt, i.title]));
    }));
  incidents.command('show').description('Show an incident: status, phases against RTO, runs, what remains').argument('<incident>', 'incident id (or part of it)')
    .action(appAction(async (c, ref: string) => { await showIncident(c, ref, false); }));
  incidents.command('timeline').description('The incident\'s timeline, oldest first').argument('<incident>', 'incident id (or part of it)')
    .action(appAction(async (c, ref: string) => { await showIncident(c, ref, true); }));
  incidents.command('close').description('Close an incident (after review)').argument('<incident>', 'incident id').option('--note <text>', 'why it can be closed')
    .action(appAction(async ({ g, out, app, actor }, ref: string, o: { note?: string }) => {
      const i = await app.closeIncident(ref, actor(), o.note);
      if (g.json) out.data(i); else out.line(`Incident ${i.id} closed.`);
    }));

  program.command('report').description('Write the post-incident report (Markdown, HTML or JSON) from the journal and the audit trail')
    .argument('<incident>', 'incident id (or part of it)')
    .option('-f, --format <format>', ReportFormats.join(', '), 'md')
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExamples:\n  firebreak report INC-20261125-3fa2c1\n  firebreak report 3fa2c1 --format html --out report.html')
    .action(appAction(async ({ g, out, app }, ref: string, o: { format: string; out?: string }) => {
      const format = oneOf<ReportFormat>('--format', ReportFormats, g.json ? 'json' : o.format) ?? 'md';
      const text = renderReport(await app.queries.report(ref, { verifyAudit: true }), format);
      if (o.out === undefined) process.stdout.write(text);
      else { writeFileSync(o.out, text, { mode: 0o600 }); out.err(`Report written to ${o.out}`); }
    }));
}

/** `incidents show` and `incidents timeline`: the report's model without verifying the audit trail. */
async function showIncident({ g, out, app }: AppContext, ref: string, timelineOnly: boolean): Promise<void> {
  const report = await app.queries.report(ref);
  if (g.json) { out.data(timelineOnly ? report.timeline : { incident: report.incident, phases: report.phases, runs: report.runs.map((r) => ({ id: r.id, playbook: r.playbook, status: r.status })), remaining: report.remaining }); return; }
  const i = report.incident;
  if (!timelineOnly) {
    out.line(`${out.style('bold', i.id)} ${i.title}`);
    out.line(`  ${i.status} · ${i.severity} · ${i.kind} · detected ${i.detectedAt}`);
    for (const p of report.phases) out.line(`  ${p.phase.padEnd(13)} target ${p.targetMs === null ? '–' : formatDuration(p.targetMs)}, elapsed ${formatDuration(p.elapsedMs)} ${p.met === true ? out.style('green', 'met') : p.met === false ? out.style('red', 'MISSED') : out.style('dim', p.completedAt === null ? 'in progress' : '')}`);
    for (const r of report.runs) out.line(`  run ${r.id} ${r.playbook} ${r.status}`);
    for (const x of report.remaining) out.line(out.style('yellow', `  remaining: ${x}`));
    out.line();
  }
  for (const e of report.timeline) out.line(`${out.style('dim', e.ts)}  ${e.message}`);
}
