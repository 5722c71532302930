import type { z } from 'zod';
import type { Logger } from '../lib/log.ts';
import type { Secret } from '../lib/secret.ts';
import type { FanOutItem, RetryPolicy } from './runtime-types.ts';

/** Incident response phases, in order. RTO targets are set per phase. */
export const Phases = ['containment', 'assessment', 'eradication', 'recovery', 'notification', 'review'] as const;
export type Phase = (typeof Phases)[number];

/** What a step does to the world. `read` steps run during `plan`; `irreversible` steps need approval by default. */
export const Effects = ['read', 'mutate', 'irreversible'] as const;
export type Effect = (typeof Effects)[number];

/**
 * How a step may be repeated after an attempt that did not finish (a crash,
 * a timeout, an error after the request left):
 * - `natural`: repeating is harmless (the check sees a landed effect; "already
 *   revoked" counts as done);
 * - `keyed`: the step applies with a key it persisted before applying
 *   (`ctx.generate`, named with `ctx.generation`) that the target accepts once,
 *   so a repeat either is the first effect or is refused; a refusal the step
 *   cannot explain is thrown as IN_DOUBT;
 * - `none`: never repeated without the operator: automatic retries are off,
 *   and after an interrupted attempt the run waits for the operator to
 *   confirm that the first attempt had no effect (or was undone).
 */
export const Idempotencies = ['natural', 'keyed', 'none'] as const;
export type Idempotency = (typeof Idempotencies)[number];

/** The result of a read-only check: is the target state already reached? */
export interface CheckResult<Out = unknown> {
  readonly done: boolean;
  /** What would change (plan) or what was found, in words: "revoke certificate 0x1f… at acme Sub-CA". */
  readonly detail: string;
  /** When done: the output a fresh apply would have produced, for the steps that depend on it. */
  readonly output?: Out;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** A reference to captured evidence, stored with the incident and cited in the audit trail. */
export interface EvidenceRef {
  readonly name: string;
  readonly ref: string;
  readonly sha256: string;
  readonly bytes: number;
}

export const CredentialStageNames = ['PENDING', 'CURRENT', 'PREVIOUS'] as const;
export type CredentialStage = (typeof CredentialStageNames)[number];

/** Where the stage of each credential version is kept (AWS Secrets Manager's labels, made generic). */
export interface CredentialStages {
  /** Labels `fingerprint` of credential `ref` with `stage`; the version that had it loses it (CURRENT → PREVIOUS on promotion). */
  label(ref: string, stage: CredentialStage, fingerprint: string, runId: string): Promise<void>;
  /** The fingerprint holding each stage of `ref`. */
  stages(ref: string): Promise<Partial<Record<CredentialStage, string>>>;
}

/** Where evidence goes (the engine does no I/O itself). */
export interface EvidenceSink {
  store(scope: { readonly incidentId: string | null; readonly runId: string; readonly stepId: string }, name: string, data: unknown): Promise<EvidenceRef>;
}

/** What a step's functions receive. */
export interface StepContext<In, Deps> {
  /** The run this step belongs to ("plan" while planning). */
  readonly runId: string;
  readonly input: In;
  readonly deps: Deps;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /**
   * The output of a step this one depends on (directly or transitively), typed
   * by that step's declaration: `ctx.output(resolveDevice)`. Undefined when
   * that step produced none (skipped, not yet run). Not for fan-out steps.
   */
  readonly output: <Out>(step: StepRef<Out>) => Out | undefined;
  /** The fan-out item this call is for, if the step fans out. */
  readonly item: FanOutItem<unknown> | undefined;
  readonly attempt: number;
  /** True when an earlier attempt of this step did not finish (crash, error): check before acting. */
  readonly resumed: boolean;
  /**
   * Changes only when the operator resolved an interrupted attempt of this step
   * (IN_DOUBT): a `keyed` step names its key with it, so that after the
   * operator's confirmation it applies with a fresh key, and otherwise with the
   * key persisted before the first attempt.
   */
  readonly generation: number;
  /** True while planning: nothing may change, evidence is not stored. */
  readonly planning: boolean;
  /** Stage labels of rotated credentials (PENDING → CURRENT → PREVIOUS), by fingerprint, never by value. */
  readonly credentials: CredentialStages;
  /**
   * A secret generated once per run (and per fan-out item) under `name`,
   * sealed in the journal before it is returned; every step asking for the
   * same name gets the same value, also after a crash.
   */
  readonly generate: (name: string, fn: () => Secret | Promise<Secret>) => Promise<Secret>;
  readonly evidence: (name: string, data: unknown) => Promise<EvidenceRef>;
}

/** What names a step's output for {@link StepContext.output}: the step's declaration itself. */
export interface StepRef<Out> {
  readonly id: string;
  readonly apply: (ctx: never) => Promise<Out>;
}

/**
 * One step of a playbook. `Out` is what `apply` returns (and a done check's
 * `output`): the steps after it read it with `ctx.output(thisStep)`.
 * `verify` and `compensate` are methods so that a list of steps with
 * different outputs is one array type.
 */
export interface StepDefinition<In = unknown, Deps = unknown, Out = unknown> {
  readonly id: string;
  readonly title: string;
  readonly phase: Phase;
  /** The target system ("step-ca", "wireguard", "thingsboard"…): groups the plan and keys the rate limit. */
  readonly system: string;
  readonly effect: Effect;
  readonly idempotency: Idempotency;
  readonly dependsOn?: readonly string[];
  /** Conditions this step needs ("vault.unsealed"); checked statically against the order of the steps. */
  readonly requires?: readonly string[];
  readonly establishes?: readonly string[];
  readonly invalidates?: readonly string[];
  /**
   * Needs an approval bound to the plan. Defaults to true for every step
   * that changes something: nothing changes before the plan is approved,
   * unless the configuration names the step as automatic containment.
   */
  readonly approval?: boolean;
  /**
   * What the operator must check when an attempt of this step was
   * interrupted and its effect cannot be proven either way (IN_DOUBT): what
   * may have happened, where to look, what to undo.
   */
  readonly inDoubt?: (ctx: StepContext<In, Deps>) => string;
  /** Text shown to the approver (e.g. the manual steps for an offline CA). */
  readonly approvalNote?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
  /**
   * When the step applies: `true`, or `false` / a reason why not (a system
   * not configured for the tenant, no replacement requested). A step that does
   * not apply is recorded as done with that reason (plan and journal), counts
   * as done for its dependents and its phase, and runs no check, apply or
   * verify. Evaluated while planning and inside the journaled step.
   */
  readonly when?: (ctx: StepContext<In, Deps>) => boolean | string;
  /** Fan out over items: one journaled apply per item, bounded concurrency, failures isolated. */
  readonly forEach?: {
    readonly items: (ctx: StepContext<In, Deps>) => Promise<readonly FanOutItem<unknown>[]>;
    /** Items in flight at once (default 8); a function reads it from the deps (configuration). */
    readonly concurrency?: number | ((ctx: StepContext<In, Deps>) => number);
  };
  /**
   * A step a person performs (e.g. on a CA kept offline): when this returns
   * instructions, the step's approval gate is that person's confirmation that
   * it is done. The instructions are shown while the run waits; `--yes` never
   * gives this confirmation. The step then applies and verifies as usual.
   */
  readonly manual?: (ctx: StepContext<In, Deps>) => string | undefined;
  /** Read-only: has the target state been reached already? Missing = always apply. */
  readonly check?: (ctx: StepContext<In, Deps>) => Promise<CheckResult<Out>>;
  /** What the step found or did, in one line, from its output: recorded with the outcome, shown by the report. */
  readonly summary?: (out: Out) => string;
  readonly apply: (ctx: StepContext<In, Deps>) => Promise<Out>;
  /** Independent confirmation that the effect holds; a failed verify fails the step. */
  verify?(ctx: StepContext<In, Deps>, output: Out | undefined): Promise<VerifyResult>;
  /** Undoes the step, when undoing makes sense; run only if the playbook asks for it on failure. */
  compensate?(ctx: StepContext<In, Deps>, output: Out | undefined): Promise<void>;
}

/**
 * A playbook over an environment `Env`: what the application hands `connect`
 * to build the connectors (Firebreak's `Platform`: configuration, executors,
 * credentials). The engine never looks into it.
 */
export interface PlaybookDefinition<In = unknown, Deps = unknown, Env = unknown> {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly version: number;
  /** Incident kind opened for a run of this playbook. */
  readonly incidentKind: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly input: z.ZodType<In>;
  /** Phase RTO targets in ms (overridable in config). */
  readonly rto: Partial<Record<Phase, number>>;
  /** Conditions that hold when the playbook starts. */
  readonly assumes?: readonly string[];
  /**
   * What a run acts on, as stable keys ("device:acme/device-001"): one active
   * run per target at a time; a second run for the same target is refused.
   */
  readonly targets?: (input: In) => readonly string[];
  /** Affected entities for the incident record, from the input. */
  readonly entities?: (input: In) => readonly { readonly type: string; readonly id: string }[];
  /** Run compensations of completed steps, newest first, when the run fails. */
  readonly compensateOnFailure?: boolean;
  readonly connect: (env: Env, input: In) => Promise<Deps>;
  /** Releases what `connect` opened (connection pools…) once the run or plan ends, however it ends. */
  readonly disconnect?: (deps: Deps) => Promise<void>;
  /** In declaration order, which is also the order steps start in (dependencies permitting). */
  readonly steps: readonly AnyStep<In, Deps>[];
}

/** A step of a playbook whatever its output, as the playbook's list holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- outputs differ per step; each step is type-checked where it is declared
export type AnyStep<In, Deps> = StepDefinition<In, Deps, any>;

/** Identity function that lets TypeScript infer `In`, `Deps` and `Env` for a playbook literal. */
export function definePlaybook<In, Deps, Env = unknown>(p: PlaybookDefinition<In, Deps, Env>): PlaybookDefinition<In, Deps, Env> {
  return p;
}

/** Identity function that fixes a step's output type, so `ctx.output(step)` is typed: `defineStep<In, Deps, Out>({…})`. */
export function defineStep<In, Deps, Out>(s: StepDefinition<In, Deps, Out>): StepDefinition<In, Deps, Out> {
  return s;
}

/** A playbook with its input and deps erased, as registries hold them (the registry fixes `Env`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry is heterogeneous; each playbook is type-checked where it is defined
export type AnyPlaybook<Env = any> = PlaybookDefinition<any, any, Env>;
