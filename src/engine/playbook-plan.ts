import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical.ts';
import { FirebreakError, toErrorData } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { mapWithConcurrency } from './rate-limit.ts';
import { DEFAULT_RETRY, withRetry } from './retry.ts';
import { topologicalOrder } from './playbook-validate.ts';
import type { AnyPlaybook, Effect, EvidenceRef, Phase, StepContext, StepDefinition, StepRef } from './playbook-types.ts';
import type { FanOutItem } from './runtime-types.ts';

export interface PlanEntry {
  readonly stepId: string;
  readonly title: string;
  readonly phase: Phase;
  readonly system: string;
  readonly effect: Effect;
  readonly item?: string;
  /** read: a read-only step that ran; change: would change; none: already in the target state; unknown: the check failed. */
  readonly action: 'read' | 'change' | 'none' | 'unknown';
  readonly detail: string;
  readonly approval: boolean;
  /** Configured as automatic containment: applied before the approval; a rejection compensates it. */
  readonly automatic?: true;
}

export interface Plan {
  readonly playbook: string;
  readonly version: number;
  /** SHA-256 over the playbook, its input and every entry: what an approval is bound to. */
  readonly hash: string;
  readonly entries: readonly PlanEntry[];
}

/**
 * Whether a step waits for the plan's approval: every step that changes
 * something, unless the configuration names it as automatic containment
 * (`approvals.automatic`). Nothing changes before the plan is approved.
 */
export function needsApproval(s: { readonly id: string; readonly approval?: boolean; readonly effect: Effect }, automatic: ReadonlySet<string> = NONE): boolean {
  if (automatic.has(s.id)) return false;
  return s.approval ?? s.effect !== 'read';
}

const NONE: ReadonlySet<string> = new Set();

/** Why a step does not apply (its `when` said false or gave a reason), or undefined when it applies. */
export function notApplicable<In, Deps>(s: StepDefinition<In, Deps>, ctx: StepContext<In, Deps>): string | undefined {
  const applies = s.when?.(ctx) ?? true;
  if (applies === true) return undefined;
  return applies === false ? 'not applicable' : applies;
}

/**
 * `ctx.output`: reads the recorded output of a step by its declaration. The
 * one place where an output is given its type back: the step that produced it
 * declared it. A fan-out step has one output per item, read by no step.
 */
export function outputReader(steps: readonly { readonly id: string; readonly forEach?: unknown }[], outputs: Readonly<Record<string, unknown>>): <Out>(step: StepRef<Out>) => Out | undefined {
  const fanOuts = new Set(steps.filter((s) => s.forEach !== undefined).map((s) => s.id));
  const known = new Set(steps.map((s) => s.id));
  return <Out>(step: StepRef<Out>): Out | undefined => {
    if (!known.has(step.id) || fanOuts.has(step.id)) throw new FirebreakError('INTERNAL', `ctx.output: ${step.id} is ${known.has(step.id) ? 'a fan-out step' : 'not a step of this playbook'}`);
    return outputs[step.id] as Out | undefined;
  };
}

const PLAN_EVIDENCE: EvidenceRef = { name: 'plan', ref: '(not stored while planning)', sha256: '', bytes: 0 };

/**
 * The plan: every read-only step runs (its output feeds the checks after it),
 * every other step only runs its check, per fan-out item. Nothing changes.
 * Each read and check is retried on its own for transient errors.
 * A failing read step fails the plan (e.g. an unknown device: refused before
 * anything changes); a failing check is reported as `unknown`.
 */
export async function computePlan<In, Deps>(p: AnyPlaybook, input: In, deps: Deps, log: Logger, outer: AbortSignal, automatic: ReadonlySet<string> = NONE): Promise<Plan> {
  // The first failure stops every other branch (their retries and calls), so nothing outlives the plan.
  const stop = new AbortController();
  const forward = () => { stop.abort(outer.reason); };
  outer.addEventListener('abort', forward, { once: true });
  const signal = stop.signal;
  const ordered = topologicalOrder(p.steps as readonly StepDefinition<In, Deps>[]);
  const outputs: Record<string, unknown> = {};
  const output = outputReader(ordered, outputs);
  const base = (s: StepDefinition<In, Deps>, item: FanOutItem<unknown> | undefined): StepContext<In, Deps> => ({
    runId: 'plan', input, deps, signal, log: log.child({ step: s.id }), output, item, attempt: 1, resumed: false, generation: 0, planning: true,
    generate: () => Promise.reject(new Error('steps cannot generate values while planning')),
    evidence: (name) => Promise.resolve({ ...PLAN_EVIDENCE, name }),
    credentials: { label: () => Promise.reject(new Error('no credential stage changes while planning')), stages: () => Promise.resolve({}) },
  });
  const planStep = async (s: StepDefinition<In, Deps>): Promise<PlanEntry[]> => {
    const common = { stepId: s.id, title: s.title, phase: s.phase, system: s.system, effect: s.effect, approval: needsApproval(s, automatic), ...(automatic.has(s.id) ? { automatic: true as const } : {}) };
    // A step that does not apply is shown with its reason, among what the approval covers.
    const skipped = notApplicable(s, base(s, undefined));
    if (skipped !== undefined) return [{ ...common, action: 'none', detail: skipped }];
    if (s.forEach !== undefined) {
      const forEach = s.forEach;
      const items = await withRetry(DEFAULT_RETRY, signal, () => forEach.items(base(s, undefined)));
      const check = s.check;
      const checked = await mapWithConcurrency(items, 8, async (item) => (check === undefined ? undefined : withRetry(DEFAULT_RETRY, signal, () => check(base(s, item)))));
      const out: PlanEntry[] = checked.map((r, i) => {
        const key = (items[i] as FanOutItem<unknown>).key;
        return r.status === 'rejected'
          ? { ...common, item: key, action: 'unknown' as const, detail: toErrorData(r.reason).message }
          : { ...common, item: key, action: r.value?.done === true ? 'none' as const : 'change' as const, detail: r.value?.detail ?? s.title };
      });
      return items.length === 0 ? [{ ...common, action: 'none', detail: 'no items' }] : out;
    }
    if (s.effect === 'read') {
      outputs[s.id] = await withRetry(DEFAULT_RETRY, signal, () => s.apply(base(s, undefined)));
      return [{ ...common, action: 'read', detail: s.title }];
    }
    const check = s.check;
    if (check === undefined) return [{ ...common, action: 'change', detail: s.title }];
    try {
      const r = await withRetry(DEFAULT_RETRY, signal, () => check(base(s, undefined)));
      if (r.output !== undefined) outputs[s.id] = r.output;
      return [{ ...common, action: r.done ? 'none' : 'change', detail: r.detail }];
    } catch (err) {
      return [{ ...common, action: 'unknown', detail: toErrorData(err).message }];
    }
  };
  // Independent steps are planned in parallel, as they run; entries keep the topological order.
  const planned = new Map<string, Promise<PlanEntry[]>>();
  const plan = (s: StepDefinition<In, Deps>): Promise<PlanEntry[]> => {
    let pending = planned.get(s.id);
    if (pending === undefined) {
      pending = Promise.all((s.dependsOn ?? []).map((d) => plan(ordered.find((x) => x.id === d) as StepDefinition<In, Deps>))).then(() => planStep(s));
      planned.set(s.id, pending);
    }
    return pending;
  };
  let entries: PlanEntry[];
  try {
    entries = (await Promise.all(ordered.map(plan))).flat();
  } catch (err) {
    stop.abort(err);
    throw err;
  } finally {
    outer.removeEventListener('abort', forward);
  }
  const hash = createHash('sha256').update(canonicalJson({ playbook: p.id, version: p.version, input, entries })).digest('hex');
  return { playbook: p.id, version: p.version, hash, entries };
}
