import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError } from '../lib/errors.ts';
import { checkIdentity } from '../lib/identity.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { createSealer, loadJournalKey } from '../lib/sealer.ts';
import { openDatabase } from '../store/sqlite-db.ts';
import { JournalStore } from '../runtime/embedded/journal-store.ts';
import { createCredentialStore } from '../runtime/embedded/credential-store.ts';
import { createEmbeddedRuntime, type JournalEvent } from '../runtime/embedded/embedded-runtime.ts';
import { approvalSignal, parseInput, resolveSignal, playbookWorkflow, type ApprovalPayload, type RunEnvelope } from '../engine/playbook-executor.ts';
import { computePlan, needsApproval, type Plan } from '../engine/playbook-plan.ts';
import { assertValidPlaybook } from '../engine/playbook-validate.ts';
import { DEFAULT_RETRY, withRetry } from '../engine/retry.ts';
import type { AnyPlaybook, Phase } from '../engine/playbook-types.ts';
import type { DurableRuntime, RunOutcome, RunRecord } from '../engine/runtime-types.ts';
import { RunTargets } from '../store/run-targets.ts';
import { IncidentStore, STATUS_AFTER_PHASE, type IncidentStatus } from '../incidents/incident-store.ts';
import { createEvidenceStore } from '../incidents/evidence-store.ts';
import type { AuditLog } from '../audit/audit-log.ts';

/** What the application needs from the loaded configuration. */
export interface AppSettings {
  readonly stateDir: string;
  readonly journalKeyFile: string;
  readonly twoPersonRule: boolean;
  /** Per playbook, steps applied as automatic containment before the approval (`approvals.automatic`). */
  readonly automatic?: Readonly<Record<string, readonly string[]>>;
  /** Requests per second per target system kind. */
  readonly rateLimits: Readonly<Record<string, number>>;
  /** Per playbook, per phase RTO overrides (ms). */
  readonly rto: Readonly<Record<string, Partial<Record<Phase, number>>>>;
  /** The validated configuration as playbooks see it. */
  readonly config: unknown;
}

export interface AppOptions {
  readonly settings: AppSettings;
  readonly playbooks: readonly AnyPlaybook[];
  readonly logger?: Logger;
  readonly waitMode?: 'block' | 'suspend';
  /** Builds the audit log over the opened database. */
  readonly audit: (db: DatabaseSync) => AuditLog;
  readonly pollMs?: number;
}

export interface StartRequest {
  readonly playbook: string;
  readonly input: unknown;
  readonly initiator: string;
  readonly yes: boolean;
  readonly incidentId?: string;
  readonly detectedAt?: string;
}

/**
 * The application services the CLI and the HTTP server both call: one place
 * that wires config, journal, audit, runtime, incidents and playbooks.
 */
export class App {
  readonly settings: AppSettings;
  readonly db: DatabaseSync;
  readonly journal: JournalStore;
  readonly runtime: DurableRuntime;
  readonly incidents: IncidentStore;
  readonly audit: AuditLog;
  readonly playbooks: readonly AnyPlaybook[];
  readonly log: Logger;
  readonly #incidentOfRun = new Map<string, string | null>();
  readonly #targets: RunTargets;

  constructor(o: AppOptions) {
    this.settings = o.settings;
    this.log = o.logger ?? silentLogger;
    this.playbooks = o.playbooks;
    for (const p of o.playbooks) assertValidPlaybook(p);
    assertAutomaticSteps(o.playbooks, o.settings.automatic ?? {});
    this.db = openDatabase(join(o.settings.stateDir, 'firebreak.db'));
    this.journal = new JournalStore(this.db);
    this.incidents = new IncidentStore(this.db);
    this.#targets = new RunTargets(this.db);
    this.audit = o.audit(this.db);
    const sealer = createSealer(loadJournalKey(o.settings.journalKeyFile));
    this.runtime = createEmbeddedRuntime({
      db: this.db, sealer, waitMode: o.waitMode ?? 'block', ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
      onJournal: (e) => { this.#onJournal(e); },
    });
    for (const [system, perSecond] of Object.entries(o.settings.rateLimits)) this.runtime.setRateLimit(system, { perSecond });
    const evidence = createEvidenceStore(o.settings.stateDir, (scope, ref) => {
      this.audit.append({ kind: 'evidence.captured', actor: 'firebreak', ...(scope.incidentId === null ? {} : { incidentId: scope.incidentId }), runId: scope.runId, stepId: scope.stepId, data: { ...ref } });
      if (scope.incidentId !== null) this.incidents.addEvent(scope.incidentId, 'evidence.captured', `evidence ${ref.name} captured by ${scope.stepId}`, { ...ref });
    });
    const credentials = createCredentialStore(this.db);
    for (const p of o.playbooks) {
      this.runtime.register(p.id, playbookWorkflow(p, {
        env: { config: o.settings.config, log: this.log },
        evidence,
        credentials,
        log: this.log,
        phaseCompleted: async (incidentId, runId, phase) => {
          if (incidentId === null) return;
          this.incidents.addEvent(incidentId, 'phase.completed', `${phase} completed by run ${runId}`, { phase, runId });
          const status = statusReached(p, this.incidents.events(incidentId).filter((e) => e.kind === 'phase.completed' && e.data['runId'] === runId).map((e) => e.data['phase'] as Phase));
          if (status !== undefined && this.incidents.advance(incidentId, status, `${phase} phase of ${runId} completed`)) {
            this.audit.append({ kind: 'incident.status', actor: 'firebreak', incidentId, runId, data: { status, phase } });
          }
        },
      }));
    }
  }

  playbook(id: string): AnyPlaybook {
    const p = this.playbooks.find((x) => x.id === id);
    if (p === undefined) throw new FirebreakError('NOT_FOUND', `no playbook "${id}"; known: ${this.playbooks.map((x) => x.id).join(', ') || '(none)'}`);
    return p;
  }

  /** Runs only read steps and checks: what would change, per system and per item. */
  async plan(playbookId: string, rawInput: unknown): Promise<Plan> {
    const p = this.playbook(playbookId);
    const input: unknown = parseInput(p, rawInput);
    const deps: unknown = await p.connect({ config: this.settings.config, log: this.log }, input);
    const signal = AbortSignal.timeout(120_000);
    try {
      return await withRetry(DEFAULT_RETRY, signal, () => computePlan(p, input, deps, this.log, signal, this.#automatic(p)));
    } finally {
      await p.disconnect?.(deps);
    }
  }

  /** Opens (or joins) the incident, journals the run and executes it. */
  async start(req: StartRequest): Promise<{ runId: string; incidentId: string; outcome: RunOutcome }> {
    checkIdentity(req.initiator, 'the initiator');
    const p = this.playbook(req.playbook);
    const input: unknown = parseInput(p, req.input);
    if (req.yes && this.settings.twoPersonRule) {
      throw new FirebreakError('APPROVAL_INVALID', 'the two-person rule is on (approvals.twoPersonRule): --yes is refused; another person approves with `firebreak approve <run>`');
    }
    const runId = newRunId();
    // The targets are taken before the incident opens: a second run for the same device opens nothing.
    const incident = this.journal.tx(() => {
      this.#targets.acquire(runId, p.targets?.(input) ?? []);
      return req.incidentId === undefined
        ? this.incidents.create({
          kind: p.incidentKind, title: `${p.title}${describeEntities(p, input)}`, severity: p.severity,
          ...(req.detectedAt === undefined ? {} : { detectedAt: req.detectedAt }),
          entities: p.entities?.(input) ?? [], rto: { ...p.rto, ...this.settings.rto[p.id] },
        })
        : this.incidents.get(req.incidentId);
    });
    this.#incidentOfRun.set(runId, incident.id);
    const automatic = [...this.#automatic(p)];
    const envelope: RunEnvelope = { playbook: p.id, input, initiator: req.initiator, incidentId: incident.id, twoPersonRule: this.settings.twoPersonRule, autoApprove: req.yes, ...(automatic.length === 0 ? {} : { automatic }) };
    this.audit.append({ kind: 'run.requested', actor: req.initiator, incidentId: incident.id, runId, data: { playbook: p.id, input, autoApprove: req.yes } });
    this.incidents.addEvent(incident.id, 'run.started', `run ${runId} of ${p.id} started by ${req.initiator}`, { runId, playbook: p.id });
    const outcome = await this.runtime.start({ runId, workflow: p.id, input: envelope, initiator: req.initiator, incidentId: incident.id });
    this.#finished(incident.id, outcome);
    return { runId, incidentId: incident.id, outcome };
  }

  async resume(runRef: string, actor: string): Promise<RunOutcome> {
    const run = this.run(runRef);
    if (run.status !== 'completed') {
      const p = this.playbook(run.workflow);
      this.#targets.acquire(run.id, p.targets?.(parseInput(p, (run.input as RunEnvelope).input)) ?? []);
    }
    this.audit.append({ kind: 'run.resumed', actor, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id });
    const outcome = await this.runtime.resume(run.id);
    if (run.incidentId !== null) this.#finished(run.incidentId, outcome);
    return outcome;
  }

  async cancel(runRef: string, actor: string): Promise<RunRecord> {
    const run = this.run(runRef);
    this.audit.append({ kind: 'run.cancel-requested', actor, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id });
    await this.runtime.cancel(run.id, `cancelled by ${actor}`);
    return this.run(run.id);
  }

  /**
   * Approves (or rejects) the plan of a run: every approval gate of the
   * playbook, or one step. Refused when the approver is the initiator under
   * the two-person rule, or when the run has no plan yet.
   */
  async approve(req: { runRef: string; approver: string; decision: 'approve' | 'reject'; note?: string; step?: string }): Promise<{ run: RunRecord; steps: string[]; planHash: string }> {
    checkIdentity(req.approver, 'the approver');
    const run = this.run(req.runRef);
    if (run.status === 'completed') throw new FirebreakError('CONFLICT', `run ${run.id} has ended (completed): there is nothing to approve`);
    const envelope = run.input as RunEnvelope;
    const plan = this.journal.getStep(run.id, 'plan')?.output as Plan | null | undefined;
    if (plan === undefined || plan === null) throw new FirebreakError('CONFLICT', `run ${run.id} has no plan yet: nothing to approve`);
    if (this.settings.twoPersonRule && req.approver === envelope.initiator) {
      throw new FirebreakError('APPROVAL_INVALID', `two-person rule: ${req.approver} started run ${run.id} and cannot approve it`);
    }
    const p = this.playbook(run.workflow);
    const gates = this.#gates(run);
    // Steps (or fan-out items) whose interrupted attempt waits for the operator's word: only ever resolved by name.
    const doubts = req.step === undefined ? [] : this.journal.waitingSteps(run.id).filter((s) => s.meta['inDoubt'] === true && s.meta['step'] === req.step)
      .map((s) => resolveSignal(typeof s.meta['item'] === 'string' ? `${req.step}[${s.meta['item']}]` : String(req.step)));
    if (req.step !== undefined && !gates.includes(req.step) && doubts.length === 0) throw new FirebreakError('NOT_FOUND', `step "${req.step}" of ${p.id} needs no approval (gated steps: ${gates.join(', ') || 'none'})`);
    const open = this.pendingGates(run).filter((g) => req.step === undefined || g === req.step);
    if (open.length === 0 && doubts.length === 0) {
      throw new FirebreakError('CONFLICT', `run ${run.id}: ${req.step === undefined ? 'every approval gate' : `step ${req.step}`} is already approved; nothing to approve`);
    }
    const steps = req.step === undefined ? open : [req.step];
    const payload: ApprovalPayload = { planHash: plan.hash, approver: req.approver, decision: req.decision, ...(req.note === undefined ? {} : { note: req.note }) };
    for (const s of open) await this.runtime.signal(run.id, approvalSignal(s), payload);
    for (const name of doubts) await this.runtime.signal(run.id, name, payload);
    this.audit.append({ kind: req.decision === 'approve' ? 'approval.granted' : 'approval.rejected', actor: req.approver, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id, data: { steps, planHash: plan.hash, ...(req.note === undefined ? {} : { note: req.note }) } });
    if (run.incidentId !== null) this.incidents.addEvent(run.incidentId, `approval.${req.decision}`, `${req.approver} ${req.decision === 'approve' ? 'approved' : 'rejected'} ${steps.join(', ')} of run ${run.id}`, { planHash: plan.hash });
    return { run, steps, planHash: plan.hash };
  }

  /** The approval gates of a run that have not been passed yet (none once the run completed). */
  pendingGates(run: RunRecord): string[] {
    if (run.status === 'completed') return [];
    return this.#gates(run).filter((g) => this.journal.getStep(run.id, `approve-${g}`)?.status !== 'completed');
  }

  #gates(run: RunRecord): string[] {
    const automatic = new Set((run.input as RunEnvelope).automatic ?? []);
    return this.playbook(run.workflow).steps.filter((s) => needsApproval(s, automatic)).map((s) => s.id);
  }

  /** Whether some live process is executing the run (its heartbeat is recent). */
  isExecuting(runId: string): boolean {
    const { owner, heartbeatAt } = this.journal.ownerInfo(runId);
    return owner !== null && heartbeatAt !== null && Date.now() - Date.parse(heartbeatAt) < 5_000;
  }

  /** A run by id or unique prefix. */
  run(ref: string): RunRecord {
    const exact = this.journal.getRun(ref);
    if (exact !== undefined) return exact;
    const found = this.journal.findRuns(ref);
    if (found.length === 1 && found[0] !== undefined) return found[0];
    if (found.length > 1) throw new FirebreakError('CONFLICT', `run id "${ref}" is ambiguous: ${found.map((r) => r.id).join(', ')}`);
    throw new FirebreakError('NOT_FOUND', `no run "${ref}" (firebreak runs list shows them)`);
  }

  async close(): Promise<void> {
    await this.runtime.close();
    // Sign the head so that truncating what this process wrote is detected.
    this.audit.checkpoint();
    this.db.close();
  }

  #automatic(p: AnyPlaybook): ReadonlySet<string> {
    return new Set(this.settings.automatic?.[p.id] ?? []);
  }

  #finished(incidentId: string, outcome: RunOutcome): void {
    const msg = outcome.status === 'waiting' ? 'waits for approval' : `ended ${outcome.status}${outcome.error === undefined ? '' : `: ${outcome.error.message}`}`;
    this.incidents.addEvent(incidentId, `run.${outcome.status}`, `run ${outcome.runId} ${msg}`, { runId: outcome.runId });
  }

  #onJournal(e: JournalEvent): void {
    let incidentId = this.#incidentOfRun.get(e.runId);
    if (incidentId === undefined) {
      incidentId = this.journal.getRun(e.runId)?.incidentId ?? null;
      this.#incidentOfRun.set(e.runId, incidentId);
    }
    const ids = { ...(incidentId === null ? {} : { incidentId }), runId: e.runId };
    switch (e.type) {
      case 'run':
        this.audit.append({ kind: `run.${e.status}`, actor: 'firebreak', ...ids, ...(e.error === undefined ? {} : { data: { error: e.error } }) });
        return;
      case 'step': {
        // The plan can list thousands of items: the audit entry cites its hash, the journal keeps the rest.
        const plan = e.stepId === 'plan' ? (e.output as Plan | null | undefined) : undefined;
        const output = plan === undefined ? e.output : { planHash: plan?.hash, entries: plan?.entries.length };
        this.audit.append({
          kind: e.kind === 'generate' ? 'secret.generated' : `step.${e.status}`, actor: 'firebreak', ...ids, stepId: e.stepId,
          data: { attempt: e.attempt, ...pick(e.meta, ['title', 'phase', 'system', 'effect', 'item']), ...(output === undefined ? {} : { output }), ...(e.error === undefined ? {} : { error: e.error }) },
        });
        return;
      }
      case 'signal':
        this.audit.append({ kind: 'signal.accepted', actor: (e.payload as { approver?: string } | null)?.approver ?? 'unknown', ...ids, data: { name: e.name, payload: e.payload } });
        return;
    }
  }
}

/**
 * The incident status a run has earned: contained, eradicated, recovered in
 * that order, each needing its phase complete (a phase the playbook does not
 * have does not hold the next one back). Recovery finishing before
 * containment does not make an incident "recovered".
 */
function statusReached(p: AnyPlaybook, completed: readonly Phase[]): IncidentStatus | undefined {
  const present = new Set(p.steps.map((s) => s.phase));
  let reached: IncidentStatus | undefined;
  for (const [phase, status] of Object.entries(STATUS_AFTER_PHASE) as [Phase, IncidentStatus][]) {
    if (!present.has(phase)) continue;
    if (!completed.includes(phase)) break;
    reached = status;
  }
  return reached;
}

/** Automatic containment is for steps a rejection can undo: they must exist, change something reversibly and have a compensation. */
function assertAutomaticSteps(playbooks: readonly AnyPlaybook[], automatic: Readonly<Record<string, readonly string[]>>): void {
  const problems: string[] = [];
  for (const [pb, ids] of Object.entries(automatic)) {
    const p = playbooks.find((x) => x.id === pb);
    if (p === undefined) { problems.push(`approvals.automatic.${pb}: no playbook "${pb}" (known: ${playbooks.map((x) => x.id).join(', ')})`); continue; }
    for (const id of ids) {
      const s = p.steps.find((x) => x.id === id);
      if (s === undefined) problems.push(`approvals.automatic.${pb}: no step "${id}" in ${pb} (steps: ${p.steps.map((x) => x.id).join(', ')})`);
      else if (s.effect === 'read') problems.push(`approvals.automatic.${pb}: ${id} only reads: it needs no approval`);
      else if (s.effect === 'irreversible') problems.push(`approvals.automatic.${pb}: ${id} is irreversible: a rejection could not undo it, so it always waits for the approval`);
      else if (s.compensate === undefined || s.manual !== undefined) problems.push(`approvals.automatic.${pb}: ${id} has no compensation: a rejection could not undo it`);
    }
  }
  if (problems.length > 0) throw new FirebreakError('CONFIG_INVALID', `automatic containment is misconfigured:\n  ${problems.join('\n  ')}`, { details: { problems } });
}

function pick(o: Readonly<Record<string, unknown>>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function newRunId(): string {
  return `run-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

function describeEntities(p: AnyPlaybook, input: unknown): string {
  const entities = p.entities?.(input) ?? [];
  return entities.length === 0 ? '' : `: ${entities.map((e) => `${e.type} ${e.id}`).join(', ')}`;
}
