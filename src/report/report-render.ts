import { redact, redactText } from '../lib/redact.ts';
import type { IncidentReport, ReportPhase } from './report-model.ts';

export const ReportFormats = ['md', 'html', 'json'] as const;
export type ReportFormat = (typeof ReportFormats)[number];

export function renderReport(r: IncidentReport, format: ReportFormat): string {
  switch (format) {
    case 'json': return `${JSON.stringify(redact(r), null, 2)}\n`;
    case 'md': return redactText(markdown(r));
    case 'html': return redactText(html(r));
  }
}

function dur(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function verdict(p: ReportPhase): string {
  return p.met === true ? 'met' : p.met === false ? 'MISSED' : p.completedAt === null ? 'in progress' : '–';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function markdown(r: IncidentReport): string {
  const i = r.incident;
  const L: string[] = [];
  L.push(`# Post-incident report: ${i.title}`, '');
  L.push(`- Incident: \`${i.id}\` (${i.kind}, severity ${i.severity}), status **${i.status}**`);
  L.push(`- Detected ${i.detectedAt}, opened ${i.openedAt}${i.closedAt === null ? '' : `, closed ${i.closedAt}`}`);
  if (i.entities.length > 0) L.push(`- Affected: ${i.entities.map((e) => `${e.type} \`${e.id}\``).join(', ')}`);
  L.push(`- Audit trail: ${r.audit.entries} entries, ${r.audit.verified === null ? 'not verified' : r.audit.verified ? 'verified intact' : '**FAILED verification**'} (${r.audit.detail})`);
  L.push(`- Generated ${r.generatedAt} from the journal and the audit trail.`, '');
  L.push('## Phases against RTO targets', '', '| Phase | Target | Elapsed since detection | Completed | Result |', '|---|---|---|---|---|');
  for (const p of r.phases) L.push(`| ${p.phase} | ${dur(p.targetMs)} | ${dur(p.elapsedMs)} | ${p.completedAt ?? '–'} | ${verdict(p)} |`);
  if (r.phases.length === 0) L.push('| – | – | – | – | – |');
  L.push('');
  for (const run of r.runs) {
    L.push(`## Run \`${run.id}\`: ${run.playbook}`, '');
    L.push(`Started ${run.createdAt} by ${run.initiator}; ended ${run.endedAt ?? '(not ended)'}; status **${run.status}**.${run.planHash === null ? '' : ` Plan \`${run.planHash.slice(0, 16)}…\`.`}`, '');
    if (run.error !== null) L.push(`> ${run.error.code}: ${mdCell(run.error.message)}`, '');
    L.push('| Step | Phase | System | Effect | Result | Attempts | Duration | Verification |', '|---|---|---|---|---|---|---|---|');
    for (const a of run.actions) {
      const result = a.status === 'completed' ? (a.outcome === 'already' ? `already done${a.detail === undefined ? '' : ` (${a.detail})`}` : `applied${a.summary === undefined ? '' : `: ${a.summary}`}`) : `${a.status}${a.error === undefined ? '' : `: ${a.error.message}`}`;
      L.push(`| ${mdCell(a.title)}${a.item === undefined ? '' : ` (${mdCell(a.item)})`} | ${a.phase} | ${a.system} | ${a.effect} | ${mdCell(result)} | ${a.attempts} | ${dur(a.durationMs)} | ${mdCell(a.verified ?? '–')} |`);
    }
    L.push('');
    if (run.approvals.length > 0) {
      L.push('Approvals:', '');
      for (const ap of run.approvals) L.push(`- ${ap.step}: ${ap.at === null ? 'pending' : `${ap.auto ? 'approved up front (--yes) by' : 'approved by'} ${ap.approver} at ${ap.at}`}`);
      L.push('');
    }
  }
  L.push('## Failures and what remains', '');
  if (r.remaining.length === 0) L.push('Nothing remains: every step completed.');
  for (const x of r.remaining) L.push(`- ${x}`);
  if (r.notBuilt !== undefined) {
    L.push('', '## Not built yet (not done by this response)', '');
    for (const a of r.notBuilt) L.push(`- ${a.playbook}: **${a.name}**: ${a.why}`);
  }
  L.push('', '## Evidence', '');
  if (r.evidence.length === 0) L.push('No evidence was captured.');
  for (const e of r.evidence) L.push(`- ${e.name} from ${e.step} at ${e.at}: \`${e.ref}\` (sha256 \`${e.sha256}\`)`);
  L.push('', '## Timeline', '');
  for (const e of r.timeline) L.push(`- ${e.ts} — ${e.message}`);
  return `${L.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function html(r: IncidentReport): string {
  const i = r.incident;
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${esc(x)}</td>`).join('')}</tr>`).join('\n');
  const runs = r.runs.map((run) => `
<h2>Run <code>${esc(run.id)}</code>: ${esc(run.playbook)}</h2>
<p>Started ${esc(run.createdAt)} by ${esc(run.initiator)}; status <strong class="${esc(run.status)}">${esc(run.status)}</strong>${run.error === null ? '' : ` — ${esc(run.error.code)}: ${esc(run.error.message)}`}</p>
<table><thead><tr><th>Step</th><th>Phase</th><th>System</th><th>Effect</th><th>Result</th><th>Attempts</th><th>Duration</th><th>Verification</th></tr></thead><tbody>
${rows(run.actions.map((a) => [`${a.title}${a.item === undefined ? '' : ` (${a.item})`}`, a.phase, a.system, a.effect, a.status === 'completed' ? (a.outcome === 'already' ? 'already done' : `applied${a.summary === undefined ? '' : `: ${a.summary}`}`) : `${a.status}${a.error === undefined ? '' : `: ${a.error.message}`}`, String(a.attempts), dur(a.durationMs), a.verified ?? '–']))}
</tbody></table>
${run.approvals.length === 0 ? '' : `<ul>${run.approvals.map((ap) => `<li>${esc(ap.step)}: ${ap.at === null ? 'pending' : `approved by ${esc(ap.approver)}${ap.auto ? ' (--yes)' : ''} at ${esc(ap.at)}`}</li>`).join('')}</ul>`}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Post-incident report ${esc(i.id)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}td,th{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}.failed,.MISSED{color:#cf222e}.completed,.met{color:#1a7f37}code{font-size:.9em}</style></head>
<body>
<h1>Post-incident report: ${esc(i.title)}</h1>
<ul><li>Incident <code>${esc(i.id)}</code> (${esc(i.kind)}, severity ${esc(i.severity)}), status <strong>${esc(i.status)}</strong></li>
<li>Detected ${esc(i.detectedAt)}, opened ${esc(i.openedAt)}${i.closedAt === null ? '' : `, closed ${esc(i.closedAt)}`}</li>
<li>Audit trail: ${r.audit.entries} entries, ${r.audit.verified === null ? 'not verified' : r.audit.verified ? 'verified intact' : '<strong class="failed">FAILED verification</strong>'} (${esc(r.audit.detail)})</li>
<li>Generated ${esc(r.generatedAt)} from the journal and the audit trail.</li></ul>
<h2>Phases against RTO targets</h2>
<table><thead><tr><th>Phase</th><th>Target</th><th>Elapsed</th><th>Completed</th><th>Result</th></tr></thead><tbody>
${r.phases.map((p) => `<tr><td>${esc(p.phase)}</td><td>${esc(dur(p.targetMs))}</td><td>${esc(dur(p.elapsedMs))}</td><td>${esc(p.completedAt ?? '–')}</td><td class="${esc(verdict(p))}">${esc(verdict(p))}</td></tr>`).join('\n')}
</tbody></table>
${runs}
<h2>Failures and what remains</h2>
${r.remaining.length === 0 ? '<p>Nothing remains: every step completed.</p>' : `<ul>${r.remaining.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`}
${r.notBuilt === undefined ? '' : `<h2>Not built yet (not done by this response)</h2>\n<ul>${r.notBuilt.map((a) => `<li>${esc(a.playbook)}: <strong>${esc(a.name)}</strong>: ${esc(a.why)}</li>`).join('')}</ul>`}
<h2>Evidence</h2>
${r.evidence.length === 0 ? '<p>No evidence was captured.</p>' : `<ul>${r.evidence.map((e) => `<li>${esc(e.name)} from ${esc(e.step)} at ${esc(e.at)}: <code>${esc(e.ref)}</code> (sha256 <code>${esc(e.sha256)}</code>)</li>`).join('')}</ul>`}
<h2>Timeline</h2>
<ul>${r.timeline.map((e) => `<li>${esc(e.ts)} — ${esc(e.message)}</li>`).join('\n')}</ul>
</body></html>
`;
}
