import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { FirebreakError, type ErrorData } from '../lib/errors.ts';
import type { Plan } from '../engine/playbook-plan.ts';
import type { AnyPlaybook } from '../engine/playbook-types.ts';
import { progressOf, type RecordedEvent, type RunRecord, type RunStatus, type StepRecord, type StepStatus } from '../engine/runtime-types.ts';
import type { Incident, IncidentEvent, IncidentStatus } from '../incidents/incident-store.ts';
import type { AuditEntry, VerifyResult } from '../audit/audit-log.ts';
import { buildReport, evidenceOf, type EvidenceItem, type IncidentReport, type ReportAudit } from '../report/report-model.ts';
import { describePlaybook, type PlaybookDescription } from './app-queries-playbooks.ts';

/** A value now, or later (a runtime on another database answers asynchronously). */
type Awaitable<T> = T | Promise<T>;

export interface AttemptRecord {
  readonly stepId: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly outcome: string | null;
  readonly error: ErrorData | null;
}

/** What the queries read from a run's journal (the embedded JournalStore provides it). */
export interface JournalReader {
  getRun(id: string): Awaitable<RunRecord | undefined>;
  /** Runs whose id starts with `prefix`. */
  findRuns(prefix: string): Awaitable<readonly RunRecord[]>;
  /** Newest first. */
  listRuns(filter?: { status?: RunStatus; incidentId?: string; limit?: number }): Awaitable<readonly RunRecord[]>;
  getStep(runId: string, stepId: string): Awaitable<StepRecord | undefined>;
  /** In the order the run started them. */
  listSteps(runId: string): Awaitable<readonly StepRecord[]>;
  attempts(runId: string): Awaitable<readonly AttemptRecord[]>;
  signals(runId: string): Awaitable<readonly { name: string; createdAt: string; consumedBy: string | null }[]>;
  /** Journal events in commit order. */
  events(filter: { runId?: string; afterId?: number; limit?: number }): Awaitable<readonly RecordedEvent[]>;
}

/** What the queries read of incidents (the Incidents of the backend provide it). */
export interface IncidentReader {
  /** By id or unique part of it; NOT_FOUND / CONFLICT otherwise. */
  get(ref: string): Awaitable<Incident>;
  list(filter?: { status?: IncidentStatus; limit?: number }): Awaitable<readonly Incident[]>;
  events(id: string): Awaitable<readonly IncidentEvent[]>;
}

/** What the queries read of the audit trail (the AuditTrail of the backend provides it). */
export interface AuditReader {
  /** `incremental`: only what follows the newest checkpoint an earlier verification reached (AuditLog.verify). */
  verify(options?: { readonly incremental?: boolean }): Promise<VerifyResult>;
  list(filter?: { incidentId?: string; runId?: string; afterSeq?: number; limit?: number }): Awaitable<readonly AuditEntry[]>;
  tail(n: number): Awaitable<readonly AuditEntry[]>;
  /** Writes the whole chain as verifiable JSON lines; returns how many entries. */
  export(out: Writable): Promise<number>;
}

export interface AppQueriesOptions {
  readonly journal: JournalReader;
  readonly incidents: IncidentReader;
  readonly audit: AuditReader;
  readonly playbooks: readonly AnyPlaybook[];
  readonly settings: { readonly stateDir: string };
}

/** A run with everything its journal holds (`firebreak runs show`). */
export interface RunDetail {
  readonly run: RunRecord;
  readonly steps: readonly StepRecord[];
  readonly attempts: readonly AttemptRecord[];
  readonly signals: readonly { readonly name: string; readonly createdAt: string; readonly consumedBy: string | null }[];
}

/** What a run did, counted (the end-of-run summary). */
export interface RunSummary {
  readonly run: RunRecord;
  readonly applied: number;
  readonly alreadyDone: number;
  readonly verified: number;
  readonly failed: number;
  /** From its creation to its end (or to now, while it has not ended). */
  readonly durationMs: number;
  /** The plan step failed: nothing was changed. */
  readonly planRefused: boolean;
}

/** A run's plan step: its status (null before planning started) and the plan once made. */
export interface RunPlan {
  readonly runId: string;
  readonly status: StepStatus | null;
  readonly plan: Plan | null;
}

/** An evidence file of an incident, with where it is on this host. */
export interface EvidenceFile extends EvidenceItem {
  readonly path: string;
}

/**
 * The application's reads, as plain JSON-able data: runs with their steps,
 * items, attempts and signals, a run's plan, incidents and their timelines,
 * evidence, reports and the audit trail. The CLI and an HTTP server are two
 * edges over these; neither touches the journal or the store.
 */
export class AppQueries {
  readonly #journal: JournalReader;
  readonly #incidents: IncidentReader;
  readonly #audit: AuditReader;
  readonly #playbooks: readonly AnyPlaybook[];
  readonly #stateDir: string;

  constructor(o: AppQueriesOptions) {
    this.#journal = o.journal;
    this.#incidents = o.incidents;
    this.#audit = o.audit;
    this.#playbooks = o.playbooks;
    this.#stateDir = o.settings.stateDir;
  }

  /** The installed playbooks: steps, effects, approvals, RTO targets. */
  async playbooks(): Promise<PlaybookDescription[]> {
    return Promise.resolve(this.#playbooks.map(describePlaybook));
  }

  /** A run by id or unique prefix. */
  async run(ref: string): Promise<RunRecord> {
    const exact = await this.#journal.getRun(ref);
    if (exact !== undefined) return exact;
    const found = await this.#journal.findRuns(ref);
    if (found.length === 1 && found[0] !== undefined) return found[0];
    if (found.length > 1) throw new FirebreakError('CONFLICT', `run id "${ref}" is ambiguous: ${found.map((r) => r.id).join(', ')}`);
    throw new FirebreakError('NOT_FOUND', `no run "${ref}" (firebreak runs list shows them)`);
  }

  /** Runs, newest first; `incident` is an incident id or a unique part of it. */
  async runs(filter: { status?: RunStatus; incident?: string; limit?: number } = {}): Promise<RunRecord[]> {
    const incidentId = filter.incident === undefined ? undefined : (await this.#incidents.get(filter.incident)).id;
    return [...await this.#journal.listRuns({
      ...(filter.status === undefined ? {} : { status: filter.status }), ...(incidentId === undefined ? {} : { incidentId }), limit: filter.limit ?? 50,
    })];
  }

  /** A run with its steps (fan-out items among them), attempts and the signals it received (names only: payloads stay in the journal). */
  async runDetail(ref: string): Promise<RunDetail> {
    const run = await this.run(ref);
    const [steps, attempts, signals] = await Promise.all([this.#journal.listSteps(run.id), this.#journal.attempts(run.id), this.#journal.signals(run.id)]);
    return { run, steps: steps.map(plainStep), attempts: [...attempts], signals: signals.map((s) => ({ name: s.name, createdAt: s.createdAt, consumedBy: s.consumedBy })) };
  }

  /** Counts what a run applied, found in place, verified and failed (its playbook's own steps, not planning or phases). */
  async runSummary(ref: string): Promise<RunSummary> {
    const run = await this.run(ref);
    const all = await this.#journal.listSteps(run.id);
    const steps = all.filter((s) => s.kind === 'step' && s.stepId !== 'plan' && !s.stepId.startsWith('phase-'));
    const outcome = (s: StepRecord) => s.output as { outcome?: string; verified?: string } | null;
    return {
      run,
      applied: steps.filter((s) => outcome(s)?.outcome === 'applied').length,
      alreadyDone: steps.filter((s) => outcome(s)?.outcome === 'already').length,
      verified: steps.filter((s) => typeof outcome(s)?.verified === 'string').length,
      failed: steps.filter((s) => s.status === 'failed').length,
      durationMs: Date.parse(run.endedAt ?? new Date().toISOString()) - Date.parse(run.createdAt),
      planRefused: all.find((s) => s.stepId === 'plan')?.status === 'failed',
    };
  }

  /** The plan a run made (what it changes, per system and item, and the hash an approval is bound to). */
  async plan(ref: string): Promise<RunPlan> {
    const run = await this.run(ref);
    const step = await this.#journal.getStep(run.id, 'plan');
    const plan = step?.status === 'completed' ? (step.output as Plan | null) : null;
    return { runId: run.id, status: step?.status ?? null, plan };
  }

  /**
   * How many progress events the run has recorded so far. A follower that
   * wants only what comes next (a resumed run's new progress) skips these:
   * events are delivered in commit order, from the first.
   */
  async progressRecorded(runId: string): Promise<number> {
    let n = 0;
    let after = 0;
    for (;;) {
      const events = await this.#journal.events({ runId, afterId: after, limit: 1000 });
      for (const r of events) {
        after = r.id;
        if (progressOf(r.event) !== undefined) n++;
      }
      if (events.length < 1000) return n;
    }
  }

  /** Incidents, newest first. */
  async incidents(filter: { status?: IncidentStatus; limit?: number } = {}): Promise<Incident[]> {
    return [...await this.#incidents.list(filter)];
  }

  /** An incident by id or unique part of it. */
  async incident(ref: string): Promise<Incident> {
    return this.#incidents.get(ref);
  }

  /** An incident's timeline, oldest first. */
  async timeline(ref: string): Promise<IncidentEvent[]> {
    const i = await this.#incidents.get(ref);
    return [...await this.#incidents.events(i.id)];
  }

  /** The evidence captured for an incident: name, step, digest and file. */
  async evidence(ref: string): Promise<EvidenceFile[]> {
    return evidenceOf(await this.timeline(ref)).map((e) => ({ ...e, path: join(this.#stateDir, e.ref) }));
  }

  /**
   * The post-incident report's model: the incident, its runs and their
   * steps, and the audit trail, verified when `verifyAudit` (incrementally,
   * see {@link auditSummary}), else marked as not checked.
   */
  async report(ref: string, options: { verifyAudit?: boolean; now?: Date } = {}): Promise<IncidentReport> {
    const incident = await this.#incidents.get(ref);
    const [timeline, newestFirst] = await Promise.all([this.#incidents.events(incident.id), this.#journal.listRuns({ incidentId: incident.id, limit: 1000 })]);
    const runs = await Promise.all([...newestFirst].reverse().map(async (run) => ({ run, steps: (await this.#journal.listSteps(run.id)).map(plainStep) })));
    const audit: ReportAudit = options.verifyAudit === true ? await this.auditSummary() : { entries: 0, verified: null, detail: 'not checked here' };
    return buildReport({ incident, timeline, runs, audit, ...(options.now === undefined ? {} : { now: options.now }) });
  }

  /** Recomputes the audit trail's hash chain and checks its signed checkpoints. */
  async auditVerify(): Promise<VerifyResult> {
    return this.#audit.verify();
  }

  /**
   * The audit trail's verification in one line (for reports and drills):
   * incremental, so that a report on a store of half a million entries
   * rehashes only what was appended since the last verification;
   * `firebreak audit verify` recomputes everything.
   */
  async auditSummary(): Promise<ReportAudit> {
    const v = await this.#audit.verify({ incremental: true });
    return { entries: v.entries, verified: v.ok, detail: v.ok ? `${v.entries} entries, chain and checkpoints intact` : `first bad entry #${v.firstBad.seq}: ${v.firstBad.reason}` };
  }

  /** The latest `lines` audit entries, of one incident (id or part of it) if given; oldest first. */
  async auditTail(options: { lines: number; incident?: string }): Promise<AuditEntry[]> {
    if (!Number.isInteger(options.lines) || options.lines <= 0) throw new FirebreakError('USAGE', `--lines must be a positive integer (got "${String(options.lines)}")`);
    if (options.incident === undefined) return [...await this.#audit.tail(options.lines)];
    const incident = await this.#incidents.get(options.incident);
    return (await this.#audit.list({ incidentId: incident.id })).slice(-options.lines);
  }

  /**
   * Writes the whole audit trail, up to a checkpoint signed now, as JSON
   * lines an auditor verifies offline; returns how many entries. Writing it
   * to a file whole or not at all is the caller's (the CLI's --out).
   */
  async auditExport(out: Writable): Promise<number> {
    return this.#audit.export(out);
  }
}

/** A step as data: only the record's own fields (a store's row may carry more, such as a sealed value). */
function plainStep(s: StepRecord): StepRecord {
  return { runId: s.runId, stepId: s.stepId, parentId: s.parentId, kind: s.kind, status: s.status, attempts: s.attempts, meta: s.meta, output: s.output, error: s.error, startedAt: s.startedAt, endedAt: s.endedAt };
}
