import { FirebreakError, toErrorData, type ErrorData } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { DEFAULT_RETRY, NO_RETRY } from './retry.ts';
import { computePlan, needsApproval, notApplicable, outputReader, type Plan } from './playbook-plan.ts';
import { topologicalOrder } from './playbook-validate.ts';
import { Phases, type AnyPlaybook, type CredentialStages, type EvidenceSink, type Phase, type StepContext, type StepDefinition } from './playbook-types.ts';
import type { FanOutItem, RetryPolicy, WorkflowContext, WorkflowFn } from './runtime-types.ts';

/** The input of a playbook run as the runtime journals it. */
export interface RunEnvelope {
  readonly playbook: string;
  readonly input: unknown;
  readonly initiator: string;
  readonly incidentId: string | null;
  readonly twoPersonRule: boolean;
  /** `--yes`: the initiator approves the plan up front (refused under the two-person rule). */
  readonly autoApprove: boolean;
  /** Steps the configuration names as automatic containment: applied before the approval, compensated on a rejection. */
  readonly automatic?: readonly string[];
}

export interface ApprovalPayload {
  readonly planHash: string;
  readonly approver: string;
  readonly decision: 'approve' | 'reject';
  readonly note?: string;
}

export interface ExecutorServices<Env = unknown> {
  /** What the playbook's `connect` builds its connectors from (the application's platform); opaque to the engine. */
  readonly env: Env;
  readonly evidence: EvidenceSink;
  readonly credentials: CredentialStages;
  readonly log: Logger;
  /** Called (durably, once) when every step of a phase has succeeded. */
  readonly phaseCompleted?: (incidentId: string | null, runId: string, phase: Phase) => Promise<void>;
}

/** What a step's journal row holds as output. */
export interface StepOutcome {
  readonly outcome: 'applied' | 'already';
  readonly detail?: string;
  readonly output?: unknown;
  readonly verified?: string;
  /** The step's own one-line account of its output ({@link StepDefinition.summary}). */
  readonly summary?: string;
  /** The step's `when` said it does not apply (the reason is `detail`); nothing was checked, applied or verified. */
  readonly skipped?: true;
}

export function approvalSignal(stepId: string): string {
  return `approval:${stepId}`;
}

/** The signal by which the operator resolves an interrupted attempt of a step (or fan-out item) in doubt. */
export function resolveSignal(stepId: string): string {
  return `resolve:${stepId}`;
}

export function parseInput<In>(p: AnyPlaybook, raw: unknown): In {
  const parsed = p.input.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(input)'}: ${i.message}`);
    throw new FirebreakError('INVALID_INPUT', `invalid input for playbook ${p.id}:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
  return parsed.data as In;
}

/**
 * Turns a playbook definition into a workflow for the durable runtime: plan
 * (checks only), then every step once its dependencies are done, independent
 * steps in parallel; approvals before gated steps; per step
 * check → apply → verify inside one journaled step, so a resumed run
 * re-checks the step that was in flight instead of blindly re-applying it.
 *
 * Steps *start* in declaration order (topological order, stable), whatever
 * the timing: step k issues its journaled call (the step itself, or a
 * fan-out's item list) only after every step before it has issued its own,
 * was skipped, or waits for a person (an approval or in-doubt wait, which
 * counts as its start, so that automatic containment declared after a gated
 * step does not wait for the approval). Runtimes that replay by call order
 * (DBOS, Temporal) need that; once started, steps still run in parallel.
 * What happens after a person's answer follows the answer's timing.
 */
export function playbookWorkflow<Env>(p: AnyPlaybook<Env>, svc: ExecutorServices<Env>): WorkflowFn {
  return async (ctx: WorkflowContext, raw: unknown) => {
    const envelope = raw as RunEnvelope;
    const input: unknown = parseInput(p, envelope.input);
    const automatic: ReadonlySet<string> = new Set(envelope.automatic ?? []);
    const deps: unknown = await p.connect(svc.env, input);
    try {
      const log = svc.log.child({ run: ctx.runId, ...(envelope.incidentId === null ? {} : { incident: envelope.incidentId }) });
      // The plan only reads: transient failures are retried like any idempotent step.
      const plan = await ctx.step('plan', () => computePlan(p, input, deps, log, ctx.signal, automatic), {
        retry: DEFAULT_RETRY,
        meta: { title: 'Plan: run read-only steps and every check', phase: 'assessment', system: 'firebreak', effect: 'read' },
      });
      const steps = topologicalOrder(p.steps as readonly StepDefinition[]);
      const outputs: Record<string, unknown> = {};
      const output = outputReader(steps, outputs);
      const failures: { stepId: string; error: ErrorData }[] = [];
      const settled = new Map<string, Promise<'ok' | 'failed' | 'skipped'>>();

      const stepContext = (s: StepDefinition, c: WorkflowContext, item: FanOutItem<unknown> | undefined, attempt: number, resumed: boolean, signal: AbortSignal, generation = 0): StepContext<unknown, unknown> => ({
        runId: ctx.runId, input, deps, signal, output, item, attempt, resumed, generation, planning: false,
        log: log.child({ step: s.id, ...(item === undefined ? {} : { item: item.key }) }),
        // Scoped to the run (and the fan-out item, by its key), not the step: every step of a rotation sees the
        // same value, also when each of its stages fans out over the same items (an item's own context would scope it to that stage).
        generate: (name, fn) => (item === undefined ? c.generate(`generated.${name}`, fn) : ctx.generate(`generated.${name}[${item.key}]`, fn)),
        credentials: svc.credentials,
        evidence: (name, data) => svc.evidence.store({ incidentId: envelope.incidentId, runId: ctx.runId, stepId: item === undefined ? s.id : `${s.id}[${item.key}]` }, name, data),
      });

      /**
       * A step (or fan-out item) that cannot safely be repeated, whose earlier
       * attempt did not finish, waits for the operator's word before it is
       * applied again: never a silent second effect. Returns the generation
       * the step applies under (the attempt the operator last resolved).
       */
      const settleDoubt = async (s: StepDefinition, c: WorkflowContext, item: FanOutItem<unknown> | undefined, id: string, onStart: () => void): Promise<number> => {
        const prior = await c.stepState(id);
        if (prior === undefined || prior.status === 'completed') return 0;
        // A naturally idempotent step is simply re-run (its check sees a landed effect), unless it said it cannot tell.
        if (s.idempotency === 'natural' && prior.error?.code !== 'IN_DOUBT') return 0;
        let generation = 0;
        for (let k = prior.attempts; k > 0 && generation === 0; k--) if ((await c.stepState(`resolve-${id}@${k}`))?.status === 'completed') generation = k;
        const doubt = prior.error?.code === 'IN_DOUBT' || (s.idempotency === 'none' && prior.attempts > generation);
        if (!doubt || generation === prior.attempts) return generation;
        const where = item === undefined ? s.id : `${s.id}[${item.key}]`;
        const what = prior.error?.code === 'IN_DOUBT' ? prior.error.message
          : `attempt ${prior.attempts} of "${s.title}"${item === undefined ? '' : ` for ${item.key}`} ${prior.status === 'running' ? 'was in flight when the process stopped' : `ended with ${prior.error?.code ?? 'an error'}${prior.error === null ? '' : `: ${prior.error.message}`}`}, and this step cannot prove whether it took effect`;
        const advice = s.inDoubt?.(stepContext(s, c, item, prior.attempts, true, ctx.signal, generation));
        const note = `${what}. ${advice ?? 'Check the target system'}. When you have made sure that the first attempt had no effect (or undone it), confirm with \`firebreak approve ${ctx.runId} --step ${s.id}\` to apply it again, or reject to stop.`;
        const wait = c.waitForSignal(`resolve-${id}@${prior.attempts}`, resolveSignal(where), {
          meta: { title: `In doubt: ${s.title}`, phase: s.phase, system: 'firebreak', effect: 'read', planHash: plan.hash, note, manual: true, inDoubt: true, step: s.id, ...(item === undefined ? {} : { item: item.key }) },
          accept: (payload) => acceptApproval(payload, plan, envelope, where),
        });
        onStart();
        await wait;
        return prior.attempts;
      };

      const once = async (s: StepDefinition, c: WorkflowContext, item: FanOutItem<unknown> | undefined, id: string, onStart: () => void): Promise<StepOutcome> => {
        for (;;) {
          const generation = await settleDoubt(s, c, item, id, onStart);
          try {
            const attempt = attemptStep(s, c, item, id, generation);
            onStart();
            return await attempt;
          } catch (err) {
            // The step itself found it cannot tell (a one-time key refused): ask the operator, then go on.
            if (toErrorData(err).code !== 'IN_DOUBT' || ctx.signal.aborted) throw err;
          }
        }
      };

      const attemptStep = (s: StepDefinition, c: WorkflowContext, item: FanOutItem<unknown> | undefined, id: string, generation: number) =>
        c.step<StepOutcome>(id, async ({ attempt, resumed, signal }) => {
          const sc = stepContext(s, c, item, attempt, resumed, signal, generation);
          const skipped = notApplicable(s, sc);
          if (skipped !== undefined) return { outcome: 'already', detail: skipped, skipped: true };
          let outcome: StepOutcome;
          const check = s.check === undefined ? undefined : await s.check(sc);
          if (check?.done === true) {
            outcome = { outcome: 'already', detail: check.detail, ...(check.output === undefined ? {} : { output: check.output }) };
          } else {
            const output = await s.apply(sc);
            outcome = { outcome: 'applied', ...(check === undefined ? {} : { detail: check.detail }), ...(output === undefined ? {} : { output }), ...(s.summary === undefined || output === undefined ? {} : { summary: s.summary(output) }) };
          }
          if (s.verify !== undefined) {
            const v = await s.verify(sc, outcome.output);
            if (!v.ok) throw new FirebreakError('VERIFY_FAILED', `${s.title}${item === undefined ? '' : ` (${item.key})`}: verification failed: ${v.detail}`);
            outcome = { ...outcome, verified: v.detail };
          }
          return outcome;
        }, {
          retry: retryPolicy(s),
          ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
          rateLimitKey: s.system,
          meta: { title: s.title, phase: s.phase, system: s.system, effect: s.effect, ...(item === undefined ? {} : { item: item.key }) },
        });

      const approve = async (s: StepDefinition, onStart: () => void) => {
        // A manual step waits for the person who does it, whatever --yes says.
        const manual = s.manual?.(stepContext(s, ctx, undefined, 1, false, ctx.signal));
        const note = manual ?? s.approvalNote;
        const meta = { title: manual === undefined ? `Approval: ${s.title}` : `Manual: ${s.title}`, phase: s.phase, system: 'firebreak', effect: 'read', planHash: plan.hash, ...(note === undefined ? {} : { note }), ...(manual === undefined ? {} : { manual: true }) };
        if (envelope.autoApprove && manual === undefined) {
          // Recorded at once: the step counts as started at its own call, right after.
          await ctx.step(`approve-${s.id}`, async () => ({ approver: envelope.initiator, planHash: plan.hash, auto: true }), { meta });
          return;
        }
        const gate = ctx.waitForSignal(`approve-${s.id}`, approvalSignal(s.id), {
          meta,
          accept: (payload) => acceptApproval(payload, plan, envelope, s.id),
        });
        // A wait for a person counts as the start: the steps after it (automatic containment) do not wait for the approval.
        onStart();
        await gate;
      };

      /** Runs one step; `onStart` is called as soon as its first durable call has been issued. */
      const execute = async (s: StepDefinition, onStart: () => void): Promise<void> => {
        if (needsApproval(s, automatic)) await approve(s, onStart);
        if (s.forEach === undefined) {
          const r = await once(s, ctx, undefined, s.id, onStart);
          outputs[s.id] = r.output;
          return;
        }
        const forEach = s.forEach;
        // A fan-out that does not apply lists no items (the plan says why).
        const listing = ctx.step(`${s.id}.items`, async ({ signal }) => {
          const sc = stepContext(s, ctx, undefined, 1, false, signal);
          return notApplicable(s, sc) === undefined ? forEach.items(sc) : [];
        }, { meta: { title: `${s.title}: list items`, phase: s.phase, system: s.system, effect: 'read' }, retry: retryPolicy(s) });
        onStart();
        const items = await listing;
        // An item that failed in a fan-out this one depends on is not attempted here (stages of one rotation over the
        // same services): it fails, and a resumed run retries it once the earlier fan-out has succeeded for it.
        const blocked = new Map<string, string>();
        for (const d of s.dependsOn ?? []) for (const key of (outputs[d] as { failed?: readonly string[] } | undefined)?.failed ?? []) blocked.set(key, d);
        // Items start in index order (mapWithConcurrency), each with its own journal row.
        const r = await ctx.fanOut(s.id, items, async (item, ictx) => {
          const d = blocked.get(item.key);
          if (d !== undefined) throw new FirebreakError('PRECONDITION_FAILED', `${s.title} (${item.key}): not attempted, because ${d} failed for ${item.key}; resume the run once it succeeds`);
          return (await once(s, ictx, item, 'apply', NOOP)).output;
        }, {
          concurrency: typeof forEach.concurrency === 'function' ? forEach.concurrency(stepContext(s, ctx, undefined, 1, false, ctx.signal)) : forEach.concurrency ?? 8,
          meta: { title: s.title, phase: s.phase, system: s.system, effect: s.effect },
        });
        // What a fan-out's compensation gets: counts and failed keys, its items' outputs read back on demand.
        outputs[s.id] = { done: r.done, failed: r.failed.map((f) => f.key), succeeded: () => r.succeeded() };
        if (r.failed.length > 0) ctx.markPartial(r.failed.map((f) => ({ stepId: s.id, key: f.key, error: f.error })));
      };

      // started[k] resolves once step k has started (see above) or was skipped: step k+1 waits for it.
      const started = steps.map(() => Promise.withResolvers<undefined>());
      const run = (s: StepDefinition): Promise<'ok' | 'failed' | 'skipped'> => {
        let pending = settled.get(s.id);
        if (pending !== undefined) return pending;
        const k = steps.indexOf(s);
        const onStart = () => { started[k]?.resolve(undefined); };
        pending = (async () => {
          try {
            await started[k - 1]?.promise;
            const deps = await Promise.all((s.dependsOn ?? []).map((d) => run(steps.find((x) => x.id === d) as StepDefinition)));
            if (deps.some((d) => d !== 'ok')) return 'skipped';
            await execute(s, onStart);
            return 'ok';
          } catch (err) {
            failures.push({ stepId: s.id, error: toErrorData(err) });
            return 'failed';
          } finally {
            onStart();
          }
        })();
        settled.set(s.id, pending);
        return pending;
      };

      await Promise.all(Phases.map(async (phase) => {
        const mine = steps.filter((s) => s.phase === phase);
        const results = await Promise.all(mine.map(run));
        if (mine.length > 0 && results.every((r) => r === 'ok') && svc.phaseCompleted !== undefined) {
          const notify = svc.phaseCompleted;
          await ctx.step(`phase-${phase}`, async () => { await notify(envelope.incidentId, ctx.runId, phase); return { phase }; },
            { meta: { title: `Phase ${phase} complete`, phase, system: 'firebreak', effect: 'read' } });
        }
      }));

      if (failures.length > 0) {
        // A rejected plan undoes what automatic containment did before the approval.
        const rejected = failures.some((f) => f.error.code === 'APPROVAL_INVALID' && f.error.details?.['rejected'] === true);
        if (p.compensateOnFailure === true) await compensate(ctx, steps, outputs, stepContext);
        else if (rejected) await compensate(ctx, steps.filter((s) => automatic.has(s.id)), outputs, stepContext);
        const first = failures[0] as { stepId: string; error: ErrorData };
        throw new FirebreakError(first.error.code, failures.length === 1
          ? `step ${first.stepId} failed: ${first.error.message}`
          : `${failures.length} steps failed: ${failures.map((f) => `${f.stepId} (${f.error.message})`).join('; ')}`,
          { details: { failures }, retryable: false });
      }
      return { planHash: plan.hash, steps: Object.keys(outputs).length };
    } finally {
      // However the run ends, the playbook's connections (pools, sessions) are released.
      await p.disconnect?.(deps).catch((err: unknown) => { svc.log.warn('releasing the playbook\'s connections failed', { error: String(err) }); });
    }
  };
}

const NOOP = (): void => undefined;

function retryPolicy(s: StepDefinition): RetryPolicy {
  if (s.idempotency === 'none') return NO_RETRY;
  return { ...DEFAULT_RETRY, ...s.retry };
}

/** An approval counts only for this plan, and under the two-person rule only from someone else. */
function acceptApproval(payload: unknown, plan: Plan, envelope: RunEnvelope, stepId: string): ApprovalPayload | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const a = payload as Partial<ApprovalPayload>;
  if (a.planHash !== plan.hash || typeof a.approver !== 'string') return undefined;
  if (envelope.twoPersonRule && a.approver === envelope.initiator) return undefined;
  if (a.decision === 'reject') {
    throw new FirebreakError('APPROVAL_INVALID', `step ${stepId} was rejected by ${a.approver}${a.note === undefined ? '' : `: ${a.note}`}`, { details: { rejected: true, approver: a.approver } });
  }
  return a.decision === 'approve' ? (a as ApprovalPayload) : undefined;
}

async function compensate(
  ctx: WorkflowContext,
  steps: readonly StepDefinition[],
  outputs: Record<string, unknown>,
  stepContext: (s: StepDefinition, c: WorkflowContext, item: undefined, attempt: number, resumed: boolean, signal: AbortSignal) => StepContext<unknown, unknown>,
): Promise<void> {
  for (const s of [...steps].reverse()) {
    if (s.compensate === undefined || !(s.id in outputs)) continue;
    await ctx.step(`compensate-${s.id}`, async ({ attempt, resumed, signal }) => { await s.compensate?.(stepContext(s, ctx, undefined, attempt, resumed, signal), outputs[s.id]); return null; },
      { meta: { title: `Compensate: ${s.title}`, phase: s.phase, system: s.system, effect: 'mutate' } });
  }
}
