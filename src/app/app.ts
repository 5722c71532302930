import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { FirebreakError } from '../lib/errors.ts';
import { checkIdentity } from '../lib/identity.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { approvalSignal, parseInput, resolveSignal, playbookWorkflow, type ApprovalPayload, type RunEnvelope } from '../engine/playbook-executor.ts';
import { computePlan, needsApproval, type Plan } from '../engine/playbook-plan.ts';
import { assertValidPlaybook } from '../engine/playbook-validate.ts';
import { DEFAULT_RETRY, withRetry } from '../engine/retry.ts';
import type { EvidenceRef, EvidenceSink, Phase } from '../engine/playbook-types.ts';
import type { Platform } from '../playbooks/platform.ts';
import type { PlatformPlaybook } from '../playbooks/index.ts';
import { TERMINAL_STATUSES, progressOf, type ProgressEvent, type RunOutcome, type RunRecord } from '../engine/runtime-types.ts';
import type { Incident } from '../incidents/incident-store.ts';
import { createEvidenceStore } from '../incidents/evidence-store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { openEmbeddedBackend, type Backend } from './app-backend.ts';
import { AuditRecorder } from './app-audit.ts';
import { assertAutomaticSteps, describeEntities, statusReached } from './app-rules.ts';
import { AppQueries, type AuditReader } from './app-queries.ts';

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
  /** The configuration as playbooks see it: systems, executors, credentials. */
  readonly config: Platform;
}

export interface AppOptions {
  readonly settings: AppSettings;
  readonly playbooks: readonly PlatformPlaybook[];
  readonly logger?: Logger;
  readonly waitMode?: 'block' | 'suspend';
  /** Builds the audit log over the opened database. */
  readonly audit: (db: DatabaseSync) => AuditLog;
  readonly pollMs?: number;
  /**
   * Called synchronously right after each commit of a run this process
   * executes (tests that must act at an exact step boundary). Anything else
   * follows runs with {@link App.follow}.
   */
  readonly onCommitted?: (e: ProgressEvent) => void;
}

export interface StartRequest {
  readonly playbook: string;
  readonly input: unknown;
  readonly initiator: string;
  readonly yes: boolean;
  readonly incidentId?: string;
  readonly detectedAt?: string;
  /**
   * Two identical triggers (a retried alert, a double click) carry the same
   * key: the first opens the incident and the run, the others get that run.
   */
  readonly idempotencyKey?: string;
}

/** A run that is durable: its id and incident at once, its outcome when it ends or waits. */
export interface RunHandle {
  readonly runId: string;
  readonly incidentId: string | null;
  /** True when an earlier start with the same idempotency key made this run. */
  readonly duplicate: boolean;
  readonly outcome: Promise<RunOutcome>;
}

/** How often a follower reads new journal events, and an awaited outcome the run's status. */
const FOLLOW_MS = 100;

/**
 * The application services the CLI and the HTTP server both call: commands
 * (plan, start, resume, approve, cancel, close an incident) and, through
 * `queries`, reads that return plain data. Its state (runtime, journal,
 * incidents, audit) stays inside.
 */
export class App {
  readonly settings: AppSettings;
  readonly playbooks: readonly PlatformPlaybook[];
  readonly log: Logger;
  /** Reads: runs, plans, incidents, evidence, reports, the audit trail, as plain data. */
  readonly queries: AppQueries;
  readonly #b: Backend;
  readonly #audit: AuditRecorder;
  readonly #pollMs: number;
  readonly #evidence: EvidenceSink;

  constructor(o: AppOptions) {
    this.settings = o.settings;
    this.log = o.logger ?? silentLogger;
    this.playbooks = o.playbooks;
    for (const p of o.playbooks) assertValidPlaybook(p);
    assertAutomaticSteps(o.playbooks, o.settings.automatic ?? {});
    this.#pollMs = Math.min(o.pollMs ?? FOLLOW_MS, FOLLOW_MS);
    let recorder: AuditRecorder | undefined;
    this.#b = openEmbeddedBackend({
      stateDir: o.settings.stateDir, journalKeyFile: o.settings.journalKeyFile, waitMode: o.waitMode ?? 'block', audit: o.audit,
      onCommit: (events) => { recorder?.schedule(events); },
      ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
    });
    const { runtime, incidents } = this.#b;
    this.#audit = recorder = new AuditRecorder(runtime, this.#b.audit, this.log);
    // Events a crashed process committed but did not append yet.
    recorder.schedule();
    const trail = this.#b.audit;
    // What is read of the audit trail includes every event committed so far.
    const audit: AuditReader = {
      verify: async (options) => { await recorder.flush(); return trail.verify(options); },
      list: async (filter) => { await recorder.flush(); return trail.list(filter); },
      tail: async (n) => { await recorder.flush(); return trail.tail(n); },
      export: async (out) => { await recorder.flush(); return trail.export(out); },
    };
    this.queries = new AppQueries({ journal: this.#b.journal, incidents, audit, playbooks: o.playbooks, settings: o.settings });
    for (const [system, perSecond] of Object.entries(o.settings.rateLimits)) runtime.setRateLimit(system, { perSecond });
    if (o.onCommitted !== undefined) runtime.onProgress(o.onCommitted);
    this.#evidence = createEvidenceStore(o.settings.stateDir);
    const evidence = createEvidenceStore(o.settings.stateDir, (scope, ref) => {
      void this.#audit.record({ kind: 'evidence.captured', actor: 'firebreak', ...(scope.incidentId === null ? {} : { incidentId: scope.incidentId }), runId: scope.runId, stepId: scope.stepId, data: { ...ref } });
      if (scope.incidentId !== null) incidents.addEvent(scope.incidentId, 'evidence.captured', `evidence ${ref.name} captured by ${scope.stepId}`, { ...ref });
    });
    for (const p of o.playbooks) {
      runtime.register(p.id, playbookWorkflow(p, {
        env: { config: o.settings.config, log: this.log },
        evidence,
        credentials: this.#b.credentials,
        log: this.log,
        phaseCompleted: async (incidentId, runId, phase) => {
          if (incidentId === null) return;
          incidents.addEvent(incidentId, 'phase.completed', `${phase} completed by run ${runId}`, { phase, runId });
          const status = statusReached(p, incidents.events(incidentId).filter((e) => e.kind === 'phase.completed' && e.data['runId'] === runId).map((e) => e.data['phase'] as Phase));
          if (status !== undefined && incidents.advance(incidentId, status, `${phase} phase of ${runId} completed`)) {
            await this.#audit.record({ kind: 'incident.status', actor: 'firebreak', incidentId, runId, data: { status, phase } });
          }
        },
      }));
    }
  }

  playbook(id: string): PlatformPlaybook {
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

  /**
   * Opens (or joins) the incident and journals the run; resolves as soon as
   * the run is durable. The run executes in this process; `outcome` settles
   * when it ends or waits.
   */
  async start(req: StartRequest): Promise<RunHandle> {
    checkIdentity(req.initiator, 'the initiator');
    const p = this.playbook(req.playbook);
    const input: unknown = parseInput(p, req.input);
    if (req.yes && this.settings.twoPersonRule) {
      throw new FirebreakError('APPROVAL_INVALID', 'the two-person rule is on (approvals.twoPersonRule): --yes is refused; another person approves with `firebreak approve <run>`');
    }
    if (req.idempotencyKey !== undefined && (req.idempotencyKey.length === 0 || req.idempotencyKey.length > 200 || /[\p{Cc}]/u.test(req.idempotencyKey))) {
      throw new FirebreakError('INVALID_INPUT', 'the idempotency key must be 1-200 characters without control characters');
    }
    const runId = newRunId();
    const { incidents, targets, startKeys } = this.#b;
    // The key, the targets and the incident are taken together: a duplicate or a second run for the same device opens nothing.
    const opened = this.#b.atomically(() => {
      const prior = req.idempotencyKey === undefined ? undefined : startKeys.get(req.idempotencyKey);
      if (prior !== undefined) return { prior };
      targets.acquire(runId, p.targets?.(input) ?? []);
      const incident = req.incidentId === undefined
        ? incidents.create({
          kind: p.incidentKind, title: `${p.title}${describeEntities(p, input)}`, severity: p.severity,
          ...(req.detectedAt === undefined ? {} : { detectedAt: req.detectedAt }),
          entities: p.entities?.(input) ?? [], rto: { ...p.rto, ...this.settings.rto[p.id] },
        })
        : incidents.get(req.incidentId);
      if (req.idempotencyKey !== undefined) startKeys.put(req.idempotencyKey, runId, incident.id);
      return { incident };
    });
    if (opened.prior !== undefined) {
      const { runId: existing, incidentId } = opened.prior;
      return { runId: existing, incidentId, duplicate: true, outcome: this.#settled(existing) };
    }
    const incident = opened.incident;
    const automatic = [...this.#automatic(p)];
    const envelope: RunEnvelope = { playbook: p.id, input, initiator: req.initiator, incidentId: incident.id, twoPersonRule: this.settings.twoPersonRule, autoApprove: req.yes, ...(automatic.length === 0 ? {} : { automatic }) };
    await this.#audit.record({ kind: 'run.requested', actor: req.initiator, incidentId: incident.id, runId, data: { playbook: p.id, input, autoApprove: req.yes } });
    incidents.addEvent(incident.id, 'run.started', `run ${runId} of ${p.id} started by ${req.initiator}`, { runId, playbook: p.id });
    await this.#b.runtime.create({ runId, workflow: p.id, input: envelope, initiator: req.initiator, incidentId: incident.id });
    return { runId, incidentId: incident.id, duplicate: false, outcome: this.#execute(runId, incident.id) };
  }

  /** Continues a run (after a crash, an approval, a cancel, or to retry its failed items). */
  async resume(runRef: string, actor: string): Promise<RunHandle> {
    const run = this.run(runRef);
    if (run.status !== 'completed') {
      const p = this.playbook(run.workflow);
      this.#b.targets.acquire(run.id, p.targets?.(parseInput(p, (run.input as RunEnvelope).input)) ?? []);
    }
    await this.#audit.record({ kind: 'run.resumed', actor, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id });
    return { runId: run.id, incidentId: run.incidentId, duplicate: false, outcome: this.#execute(run.id, run.incidentId) };
  }

  async cancel(runRef: string, actor: string): Promise<RunRecord> {
    const run = this.run(runRef);
    await this.#audit.record({ kind: 'run.cancel-requested', actor, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id });
    await this.#b.runtime.cancel(run.id, `cancelled by ${actor}`);
    return this.run(run.id);
  }

  /**
   * Approves (or rejects) the plan of a run: every approval gate of the
   * playbook, or one step. Refused when the approver is the initiator under
   * the two-person rule, or when the run has no plan yet.
   */
  async approve(req: { runRef: string; approver: string; decision: 'approve' | 'reject'; note?: string; step?: string }): Promise<{ run: RunRecord; steps: string[]; planHash: string }> {
    checkIdentity(req.approver, 'the approver');
    const { journal, runtime, incidents } = this.#b;
    const run = this.run(req.runRef);
    if (run.status === 'completed') throw new FirebreakError('CONFLICT', `run ${run.id} has ended (completed): there is nothing to approve`);
    const envelope = run.input as RunEnvelope;
    const plan = journal.getStep(run.id, 'plan')?.output as Plan | null | undefined;
    if (plan === undefined || plan === null) throw new FirebreakError('CONFLICT', `run ${run.id} has no plan yet: nothing to approve`);
    if (this.settings.twoPersonRule && req.approver === envelope.initiator) {
      throw new FirebreakError('APPROVAL_INVALID', `two-person rule: ${req.approver} started run ${run.id} and cannot approve it`);
    }
    const p = this.playbook(run.workflow);
    const gates = this.#gates(run);
    // Steps (or fan-out items) whose interrupted attempt waits for the operator's word: only ever resolved by name.
    const doubts = req.step === undefined ? [] : journal.waitingSteps(run.id).filter((s) => s.meta['inDoubt'] === true && s.meta['step'] === req.step)
      .map((s) => resolveSignal(typeof s.meta['item'] === 'string' ? `${req.step}[${s.meta['item']}]` : String(req.step)));
    if (req.step !== undefined && !gates.includes(req.step) && doubts.length === 0) throw new FirebreakError('NOT_FOUND', `step "${req.step}" of ${p.id} needs no approval (gated steps: ${gates.join(', ') || 'none'})`);
    const open = this.#pendingGates(run).filter((g) => req.step === undefined || g === req.step);
    if (open.length === 0 && doubts.length === 0) {
      throw new FirebreakError('CONFLICT', `run ${run.id}: ${req.step === undefined ? 'every approval gate' : `step ${req.step}`} is already approved; nothing to approve`);
    }
    const steps = req.step === undefined ? open : [req.step];
    const payload: ApprovalPayload = { planHash: plan.hash, approver: req.approver, decision: req.decision, ...(req.note === undefined ? {} : { note: req.note }) };
    for (const s of open) await runtime.signal(run.id, approvalSignal(s), payload);
    for (const name of doubts) await runtime.signal(run.id, name, payload);
    await this.#audit.record({ kind: req.decision === 'approve' ? 'approval.granted' : 'approval.rejected', actor: req.approver, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id, data: { steps, planHash: plan.hash, ...(req.note === undefined ? {} : { note: req.note }) } });
    if (run.incidentId !== null) incidents.addEvent(run.incidentId, `approval.${req.decision}`, `${req.approver} ${req.decision === 'approve' ? 'approved' : 'rejected'} ${steps.join(', ')} of run ${run.id}`, { planHash: plan.hash });
    return { run, steps, planHash: plan.hash };
  }

  /**
   * Records, as the CURRENT stage of credential `ref`, what a person (or the drill in their place) saw happen outside
   * the run's steps and what the system cannot show afterwards (the new unseal shares of a rekey took effect). Audited.
   */
  async labelCredential(req: { runRef: string; ref: string; fingerprint: string; actor: string; note: string }): Promise<void> {
    checkIdentity(req.actor, 'the actor');
    const run = this.run(req.runRef);
    await this.#b.credentials.label(req.ref, 'CURRENT', req.fingerprint, run.id);
    await this.#audit.record({ kind: 'credential.labelled', actor: req.actor, ...(run.incidentId === null ? {} : { incidentId: run.incidentId }), runId: run.id, data: { ref: req.ref, stage: 'CURRENT', fingerprint: req.fingerprint, note: req.note } });
  }

  /**
   * Stores what a command run by hand found (an assessment) as evidence of an open incident: a file with its
   * SHA-256 under the incident's evidence, an entry in its timeline (the report lists it), and the audit trail
   * under the person's name.
   */
  async attachEvidence(req: { incidentRef: string; name: string; source: string; data: unknown; actor: string }): Promise<EvidenceRef & { incidentId: string }> {
    checkIdentity(req.actor, 'the actor');
    const { incidents } = this.#b;
    const i = incidents.get(req.incidentRef);
    if (i.status === 'closed') throw new FirebreakError('CONFLICT', `incident ${i.id} is closed: evidence is added to an open incident`);
    const at = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const ref = await this.#evidence.store({ incidentId: i.id, runId: `by-hand-${at}`, stepId: req.source }, req.name, req.data);
    incidents.addEvent(i.id, 'evidence.captured', `evidence ${ref.name} captured by ${req.source} (run by ${req.actor})`, { ...ref });
    await this.#audit.record({ kind: 'evidence.captured', actor: req.actor, incidentId: i.id, data: { ...ref, source: req.source } });
    return { ...ref, incidentId: i.id };
  }

  /** Closes an incident (after review). */
  async closeIncident(ref: string, actor: string, note?: string): Promise<Incident> {
    checkIdentity(actor, 'the actor');
    const { incidents } = this.#b;
    const i = incidents.get(ref);
    if (!incidents.advance(i.id, 'closed', note ?? `closed by ${actor}`)) throw new FirebreakError('CONFLICT', `incident ${i.id} is already closed`);
    await this.#audit.record({ kind: 'incident.status', actor, incidentId: i.id, data: { status: 'closed', ...(note === undefined ? {} : { note }) } });
    return incidents.get(i.id);
  }

  /**
   * Delivers the progress of a run as the journal records it, also for a run
   * that another process executes; from its first event. The returned
   * function stops following once every event recorded so far is delivered.
   */
  follow(runId: string, listener: (e: ProgressEvent) => void): () => Promise<void> {
    let after = 0;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const read = async (): Promise<void> => {
      for (;;) {
        const events = await this.#b.runtime.events({ runId, afterId: after, limit: 1000 });
        for (const r of events) {
          after = r.id;
          const p = progressOf(r.event);
          if (p !== undefined) listener(p);
        }
        if (events.length < 1000) return;
      }
    };
    let reading: Promise<void> = Promise.resolve();
    const tick = () => {
      reading = read().catch((err: unknown) => { this.log.warn('following a run: cannot read its events', { runId, error: String(err) }); });
      void reading.then(() => { if (!stopped) timer = setTimeout(tick, this.#pollMs); });
    };
    tick();
    return async () => {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await reading;
      await read();
    };
  }

  /** The approval gates of a run that have not been passed yet (none once the run completed). */
  async pendingGates(run: RunRecord): Promise<string[]> {
    return this.#pendingGates(run);
  }

  #pendingGates(run: RunRecord): string[] {
    if (run.status === 'completed') return [];
    return this.#gates(run).filter((g) => this.#b.journal.getStep(run.id, `approve-${g}`)?.status !== 'completed');
  }

  #gates(run: RunRecord): string[] {
    const automatic = new Set((run.input as RunEnvelope).automatic ?? []);
    return this.playbook(run.workflow).steps.filter((s) => needsApproval(s, automatic)).map((s) => s.id);
  }

  /** Whether some live process is executing the run (its heartbeat is recent). */
  async isExecuting(runId: string): Promise<boolean> {
    const { owner, heartbeatAt } = this.#b.journal.ownerInfo(runId);
    return owner !== null && heartbeatAt !== null && Date.now() - Date.parse(heartbeatAt) < 5_000;
  }

  /** A run by id or unique prefix. */
  run(ref: string): RunRecord {
    const { journal } = this.#b;
    const exact = journal.getRun(ref);
    if (exact !== undefined) return exact;
    const found = journal.findRuns(ref);
    if (found.length === 1 && found[0] !== undefined) return found[0];
    if (found.length > 1) throw new FirebreakError('CONFLICT', `run id "${ref}" is ambiguous: ${found.map((r) => r.id).join(', ')}`);
    throw new FirebreakError('NOT_FOUND', `no run "${ref}" (firebreak runs list shows them)`);
  }

  async close(): Promise<void> {
    await this.#b.runtime.close();
    await this.#audit.close();
    // Sign the head so that truncating what this process wrote is detected.
    this.#b.audit.checkpoint();
    this.#b.close();
  }

  /** Executes a durable run here; the incident's timeline records how it ended. */
  #execute(runId: string, incidentId: string | null): Promise<RunOutcome> {
    const outcome = this.#b.runtime.resume(runId).then((o) => {
      if (incidentId !== null) this.#finished(incidentId, o);
      return o;
    });
    // A caller that only wanted the run durable may never await it: its failure is then logged, not unhandled.
    outcome.catch((err: unknown) => { this.log.error('run failed', { runId, error: String(err) }); });
    return outcome;
  }

  /** The outcome of a run executed elsewhere (or earlier): when it ends or waits. */
  async #settled(runId: string): Promise<RunOutcome> {
    for (;;) {
      const run = await this.#b.runtime.get(runId);
      if (run !== undefined && (TERMINAL_STATUSES.includes(run.status) || run.status === 'waiting')) {
        return { runId, status: run.status, result: run.result, ...(run.error === null ? {} : { error: run.error }) };
      }
      await new Promise((r) => setTimeout(r, this.#pollMs));
    }
  }

  #automatic(p: PlatformPlaybook): ReadonlySet<string> {
    return new Set(this.settings.automatic?.[p.id] ?? []);
  }

  #finished(incidentId: string, outcome: RunOutcome): void {
    const msg = outcome.status === 'waiting' ? 'waits for approval' : `ended ${outcome.status}${outcome.error === undefined ? '' : `: ${outcome.error.message}`}`;
    this.#b.incidents.addEvent(incidentId, `run.${outcome.status}`, `run ${outcome.runId} ${msg}`, { runId: outcome.runId });
  }
}

function newRunId(): string {
  return `run-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}
