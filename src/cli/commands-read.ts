import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FirebreakError } from '../lib/errors.ts';
import { IncidentStatuses, type IncidentStatus } from '../incidents/incident-store.ts';
import { RunStatuses, type RunStatus } from '../engine/runtime-types.ts';
import { buildReport } from '../report/report-model.ts';
import { ReportFormats, renderReport, type ReportFormat } from '../report/report-render.ts';
import { PLAYBOOKS } from '../playbooks/index.ts';
import { needsApproval } from '../engine/playbook-plan.ts';
import { actor, globals, outFor, withApp } from './cli-context.ts';
import { describeInputs } from './playbook-options.ts';
import { formatDuration } from './output.ts';

function oneOf<T extends string>(what: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new FirebreakError('USAGE', `${what} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export function registerReadCommands(program: Command): void {
  const playbooks = program.command('playbooks').description('List the playbooks, or show one with its steps and inputs');
  playbooks.argument('[id]', 'show this playbook in detail').action((id: string | undefined, _o: unknown, cmd: Command) => {
    const g = globals(cmd);
    const out = outFor(g);
    const list = id === undefined ? PLAYBOOKS : PLAYBOOKS.filter((p) => p.id === id);
    if (id !== undefined && list.length === 0) throw new FirebreakError('NOT_FOUND', `no playbook "${id}"; known: ${PLAYBOOKS.map((p) => p.id).join(', ') || '(none)'}`);
    if (g.json) {
      out.data(list.map((p) => ({ id: p.id, title: p.title, summary: p.summary, version: p.version, rto: p.rto, steps: p.steps.map((s) => ({ id: s.id, title: s.title, phase: s.phase, system: s.system, effect: s.effect, idempotency: s.idempotency, dependsOn: s.dependsOn ?? [], approval: needsApproval(s), fanOut: s.forEach !== undefined })) })));
      return;
    }
    if (list.length === 0) out.line('No playbooks are installed.');
    for (const p of list) {
      out.line(`${out.style('bold', p.id)}  ${p.title}`);
      out.line(`  ${p.summary}`);
      if (id === undefined) continue;
      out.line();
      for (const s of p.steps) out.line(`  ${s.phase.padEnd(12)} ${s.id.padEnd(28)} ${s.system.padEnd(12)} ${s.effect}${needsApproval(s) ? ' (approval)' : ''}${s.forEach === undefined ? '' : ' (fan-out)'}${(s.dependsOn ?? []).length > 0 ? ` after ${(s.dependsOn ?? []).join(', ')}` : ''}`);
      out.line(describeInputs(p));
    }
  });

  const runs = program.command('runs').description('List runs, show one, or cancel one');
  runs.command('list', { isDefault: true }).description('List runs, newest first')
    .option('--status <status>', `only runs in this status (${RunStatuses.join(', ')})`)
    .option('--incident <id>', 'only runs of this incident')
    .option('-n, --limit <n>', 'at most this many', '50')
    .action(async (o: { status?: string; incident?: string; limit: string }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const status = oneOf<RunStatus>('--status', RunStatuses, o.status);
        const list = app.journal.listRuns({ ...(status === undefined ? {} : { status }), ...(o.incident === undefined ? {} : { incidentId: app.incidents.get(o.incident).id }), limit: Number(o.limit) || 50 });
        if (g.json) { out.data(list); return; }
        if (list.length === 0) { out.line('No runs yet. Start one with firebreak run <playbook> or firebreak drill.'); return; }
        out.table(['RUN', 'PLAYBOOK', 'STATUS', 'INCIDENT', 'STARTED', 'BY'], list.map((r) => [r.id, r.workflow, r.status, r.incidentId ?? '', r.createdAt, r.initiator]));
      });
    });
  runs.command('show').description('Show a run: every step, its attempts, outcome and errors').argument('<run>', 'run id or unique prefix')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const run = app.run(ref);
        const steps = app.journal.listSteps(run.id);
        if (g.json) { out.data({ run, steps, attempts: app.journal.attempts(run.id), signals: app.journal.signals(run.id).map((s) => ({ name: s.name, createdAt: s.createdAt, consumedBy: s.consumedBy })) }); return; }
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
      });
    });
  runs.command('cancel').description('Cancel a run (the process executing it stops at once; resume continues it later)').argument('<run>', 'run id or unique prefix')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const run = await app.cancel(ref, actor(g));
        if (g.json) out.data({ runId: run.id, status: run.status });
        else out.line(`Cancel requested for ${run.id} (now ${run.status}).`);
      });
    });

  const incidents = program.command('incidents').description('List incidents, show one, its timeline, or move its status');
  incidents.command('list', { isDefault: true }).description('List incidents, newest first')
    .option('--status <status>', `only incidents in this status (${IncidentStatuses.join(', ')})`)
    .action(async (o: { status?: string }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const status = oneOf<IncidentStatus>('--status', IncidentStatuses, o.status);
        const list = app.incidents.list(status === undefined ? {} : { status });
        if (g.json) { out.data(list); return; }
        if (list.length === 0) { out.line('No incidents.'); return; }
        out.table(['INCIDENT', 'STATUS', 'SEVERITY', 'KIND', 'DETECTED', 'TITLE'], list.map((i) => [i.id, i.status, i.severity, i.kind, i.detectedAt, i.title]));
      });
    });
  const showIncident = (timelineOnly: boolean) => async (ref: string, _o: unknown, cmd: Command) => {
    const g = globals(cmd);
    const out = outFor(g);
    await withApp(g, async (app) => {
      const report = buildReport({ incidents: app.incidents, journal: app.journal, audit: { entries: 0, verified: null, detail: 'not checked here' } }, ref);
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
    });
  };
  incidents.command('show').description('Show an incident: status, phases against RTO, runs, what remains').argument('<incident>', 'incident id (or part of it)').action(showIncident(false));
  incidents.command('timeline').description('The incident\'s timeline, oldest first').argument('<incident>', 'incident id (or part of it)').action(showIncident(true));
  incidents.command('close').description('Close an incident (after review)').argument('<incident>', 'incident id').option('--note <text>', 'why it can be closed')
    .action(async (ref: string, o: { note?: string }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const i = app.incidents.get(ref);
        if (!app.incidents.advance(i.id, 'closed', o.note ?? `closed by ${actor(g)}`)) throw new FirebreakError('CONFLICT', `incident ${i.id} is already closed`);
        app.audit.append({ kind: 'incident.status', actor: actor(g), incidentId: i.id, data: { status: 'closed', ...(o.note === undefined ? {} : { note: o.note }) } });
        if (g.json) out.data(app.incidents.get(i.id)); else out.line(`Incident ${i.id} closed.`);
      });
    });

  program.command('report').description('Write the post-incident report (Markdown, HTML or JSON) from the journal and the audit trail')
    .argument('<incident>', 'incident id (or part of it)')
    .option('-f, --format <format>', ReportFormats.join(', '), 'md')
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExamples:\n  firebreak report INC-20261125-3fa2c1\n  firebreak report 3fa2c1 --format html --out report.html')
    .action(async (ref: string, o: { format: string; out?: string }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      const format = oneOf<ReportFormat>('--format', ReportFormats, g.json ? 'json' : o.format) ?? 'md';
      await withApp(g, async (app) => {
        const v = (await app.audit.verify());
        const report = buildReport({ incidents: app.incidents, journal: app.journal, audit: { entries: v.entries, verified: v.ok, detail: v.ok ? `${v.entries} entries, chain and checkpoints intact` : `first bad entry #${v.firstBad.seq}: ${v.firstBad.reason}` } }, ref);
        const text = renderReport(report, format);
        if (o.out === undefined) process.stdout.write(text);
        else { writeFileSync(o.out, text, { mode: 0o600 }); out.err(`Report written to ${o.out}`); }
      });
    });
}
