import type { ErrorData } from '../lib/errors.ts';
import { Phases, type Phase } from '../engine/playbook-types.ts';
import type { Plan } from '../engine/playbook-plan.ts';
import type { StepOutcome } from '../engine/playbook-executor.ts';
import type { RunRecord, StepRecord } from '../engine/runtime-types.ts';
import type { Incident, IncidentEvent } from '../incidents/incident-store.ts';
import { findDescriptor } from '../playbooks/playbook-list.ts';

export interface ReportAction {
  readonly stepId: string;
  readonly title: string;
  readonly phase: string;
  readonly system: string;
  readonly effect: string;
  readonly item?: string;
  readonly status: string;
  readonly attempts: number;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly outcome?: string;
  readonly detail?: string;
  readonly verified?: string;
  readonly summary?: string;
  readonly error?: ErrorData;
}

export interface ReportRun {
  readonly id: string;
  readonly playbook: string;
  readonly status: string;
  readonly initiator: string;
  readonly createdAt: string;
  readonly endedAt: string | null;
  readonly planHash: string | null;
  readonly actions: readonly ReportAction[];
  readonly approvals: readonly { readonly step: string; readonly approver: string; readonly at: string | null; readonly auto: boolean; readonly planHash: string | null }[];
  readonly failures: readonly { readonly stepId: string; readonly key?: string; readonly error: ErrorData }[];
  readonly error: ErrorData | null;
}

export interface ReportPhase {
  readonly phase: Phase;
  readonly targetMs: number | null;
  readonly completedAt: string | null;
  readonly elapsedMs: number;
  /** true/false once completed (or once the target has passed); null while in progress within target. */
  readonly met: boolean | null;
}

export interface IncidentReport {
  readonly generatedAt: string;
  readonly incident: Incident;
  readonly timeline: readonly IncidentEvent[];
  readonly phases: readonly ReportPhase[];
  readonly runs: readonly ReportRun[];
  readonly evidence: readonly EvidenceItem[];
  /** What is left undone: failed steps and items, pending approvals, runs not finished. */
  readonly remaining: readonly string[];
  /** Phases of the runs' playbooks that are not built yet (their descriptors list them): never done, whatever the runs say. */
  readonly notBuilt?: readonly { readonly playbook: string; readonly name: string; readonly why: string }[];
  readonly audit: ReportAudit;
}

/** How the audit trail stood when the report was made (verified, or not checked). */
export interface ReportAudit { readonly entries: number; readonly verified: boolean | null; readonly detail: string }

/** An evidence file an incident's timeline records: its name, where it is (under the state directory), its digest. */
export interface EvidenceItem { readonly name: string; readonly ref: string; readonly sha256: string; readonly step: string; readonly at: string }

/**
 * What a report is made of, as plain data (the application's queries read
 * it): the incident, its timeline, each of its runs (oldest first) with the
 * steps its journal holds, and the state of the audit trail.
 */
export interface ReportSource {
  readonly incident: Incident;
  readonly timeline: readonly IncidentEvent[];
  readonly runs: readonly { readonly run: RunRecord; readonly steps: readonly StepRecord[] }[];
  readonly audit: ReportAudit;
  readonly now?: Date;
}

/**
 * Builds the post-incident report from what actually happened: the incident
 * record and timeline, the journal of every run (steps, attempts, outcomes,
 * approvals, failures) and the audit trail. Nothing is written by hand.
 */
export function buildReport(src: ReportSource): IncidentReport {
  const now = src.now ?? new Date();
  const { incident, timeline } = src;
  const detected = Date.parse(incident.detectedAt);
  const phases: ReportPhase[] = Phases.filter((ph) => incident.rto[ph] !== undefined || timeline.some((e) => e.kind === 'phase.completed' && e.data['phase'] === ph)).map((phase) => {
    const done = timeline.find((e) => e.kind === 'phase.completed' && e.data['phase'] === phase);
    const targetMs = incident.rto[phase] ?? null;
    const elapsedMs = (done === undefined ? now.getTime() : Date.parse(done.ts)) - detected;
    const met = targetMs === null ? (done === undefined ? null : true) : done !== undefined ? elapsedMs <= targetMs : elapsedMs > targetMs ? false : null;
    return { phase, targetMs, completedAt: done?.ts ?? null, elapsedMs, met };
  });
  const runs = src.runs.map(({ run, steps }) => reportRun(run, steps));
  const notBuilt = [...new Set(runs.map((r) => r.playbook))].flatMap((id) => (findDescriptor(id)?.absent ?? []).map((a) => ({ playbook: id, name: a.name, why: a.why })));
  return { generatedAt: now.toISOString(), incident, timeline, phases, runs, evidence: evidenceOf(timeline), remaining: remainingOf(runs), ...(notBuilt.length === 0 ? {} : { notBuilt }), audit: src.audit };
}

/** The evidence an incident's timeline records as captured. */
export function evidenceOf(timeline: readonly IncidentEvent[]): EvidenceItem[] {
  return timeline.filter((e) => e.kind === 'evidence.captured').map((e) => ({
    name: str(e.data['name'], ''), ref: str(e.data['ref'], ''), sha256: str(e.data['sha256'], ''), step: /captured by (\S+)/.exec(e.message)?.[1] ?? '', at: e.ts,
  }));
}

function reportRun(run: RunRecord, steps: readonly StepRecord[]): ReportRun {
  const plan = steps.find((s) => s.stepId === 'plan')?.output as Plan | null | undefined;
  const actions: ReportAction[] = steps.filter((s) => s.kind === 'step' && s.stepId !== 'plan' && !s.stepId.startsWith('phase-') && !s.stepId.startsWith('approve-')).map((s) => {
    const o = s.output as StepOutcome | null;
    const item = typeof s.meta['item'] === 'string' ? s.meta['item'] : undefined;
    return {
      stepId: s.stepId, title: str(s.meta['title'], s.stepId), phase: str(s.meta['phase'], ''), system: str(s.meta['system'], ''), effect: str(s.meta['effect'], ''),
      ...(item === undefined ? {} : { item }), status: s.status, attempts: s.attempts, startedAt: s.startedAt, endedAt: s.endedAt,
      durationMs: s.startedAt !== null && s.endedAt !== null ? Date.parse(s.endedAt) - Date.parse(s.startedAt) : null,
      ...(o?.outcome === undefined ? {} : { outcome: o.outcome }), ...(o?.detail === undefined ? {} : { detail: o.detail }),
      ...(o?.verified === undefined ? {} : { verified: o.verified }), ...(o?.summary === undefined ? {} : { summary: o.summary }), ...(s.error === null ? {} : { error: s.error }),
    };
  });
  const approvals = steps.filter((s) => s.stepId.startsWith('approve-')).map((s) => {
    const o = s.output as { approver?: string; auto?: boolean; planHash?: string } | null;
    return { step: s.stepId.slice('approve-'.length), approver: o?.approver ?? '(pending)', at: s.status === 'completed' ? s.endedAt : null, auto: o?.auto === true, planHash: o?.planHash ?? null };
  });
  const result = run.result as { failures?: { stepId: string; key?: string; error: ErrorData }[] } | null;
  return {
    id: run.id, playbook: run.workflow, status: run.status, initiator: run.initiator, createdAt: run.createdAt, endedAt: run.endedAt,
    planHash: plan?.hash ?? null, actions, approvals, failures: result?.failures ?? [], error: run.error,
  };
}

/** What is left undone: failed steps and items, pending approvals, runs not finished. */
function remainingOf(runs: readonly ReportRun[]): string[] {
  const remaining: string[] = [];
  for (const r of runs) {
    for (const a of r.actions) if (a.status === 'failed' || a.status === 'cancelled') remaining.push(`${r.id}: ${a.title}${a.item === undefined ? '' : ` (${a.item})`} ${a.status}: ${a.error?.message ?? ''}`.trim());
    for (const f of r.failures) if (f.key !== undefined) remaining.push(`${r.id}: ${f.stepId} item ${f.key} failed: ${f.error.message}`);
    for (const ap of r.approvals) if (ap.at === null) remaining.push(`${r.id}: approval of ${ap.step} pending`);
    if (['running', 'waiting', 'interrupted', 'pending'].includes(r.status)) remaining.push(`${r.id}: run is ${r.status} (firebreak resume ${r.id})`);
    if (r.status === 'failed' && r.error !== null && !r.actions.some((a) => a.status === 'failed')) remaining.push(`${r.id}: run failed: ${r.error.message}`);
  }
  return [...new Set(remaining)];
}

function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}
