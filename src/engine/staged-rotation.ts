import { createHash } from 'node:crypto';
import { FirebreakError } from '../lib/errors.ts';
import type { Secret } from '../lib/secret.ts';
import { defineStep, type AnyStep, type Phase, type StepContext, type StepDefinition, type VerifyResult } from './playbook-types.ts';

/**
 * What one kind of secret needs to be rotated in stages. A database role's
 * password, a Keycloak client secret, an SMTP password or an API key each
 * implement this; {@link stagedRotation} turns it into playbook steps.
 * Every function may be called again after a crash: checks come first.
 */
export interface RotationAdapter<In, Deps> {
  /** Step id prefix, e.g. "password" → password-create, password-set… */
  readonly id: string;
  /** What is rotated, a noun for titles without article: "database password", "client secret". */
  readonly what: string;
  /** The system holding the credential (rate limit key, plan grouping). */
  readonly system: string;
  /** A stable name of the credential for its stage labels, e.g. "timescaledb:provider/telegraf". */
  readonly ref: (ctx: StepContext<In, Deps>) => string;
  /** A new value from a CSPRNG. */
  readonly generate: (ctx: StepContext<In, Deps>) => Secret;
  /** The current value as the consumers know it (snapshotted, sealed, before anything changes), if readable. */
  readonly current?: (ctx: StepContext<In, Deps>) => Promise<Secret | undefined>;
  /** Does the source already accept `value`? (check of "set"). */
  readonly isSet: (ctx: StepContext<In, Deps>, value: Secret) => Promise<boolean>;
  /**
   * When the source accepted `value`, as the source records it (e.g. an
   * AppRole secret_id's creation_time). Required for a rotation that fans out,
   * whose per-item outputs no later step can read.
   */
  readonly setAt?: (ctx: StepContext<In, Deps>, value: Secret) => Promise<Date | undefined>;
  /** Makes the source accept `value` (and only it). */
  readonly set: (ctx: StepContext<In, Deps>, value: Secret) => Promise<void>;
  /** Independent test: the new value works, the previous one no longer does (when known). */
  readonly test: (ctx: StepContext<In, Deps>, value: Secret, previous: Secret | undefined) => Promise<VerifyResult>;
  /** Do the consumers' configurations hold `value` already? */
  readonly isPropagated: (ctx: StepContext<In, Deps>, value: Secret) => Promise<boolean>;
  /** Writes `value` where the consumers read it (atomically); returns what rollback needs. */
  readonly propagate: (ctx: StepContext<In, Deps>, value: Secret) => Promise<unknown>;
  /**
   * Restores the consumers' previous configuration (the source keeps the new
   * value: the old one leaked). Gets what propagate returned (redacted, as
   * journaled) and the sealed snapshot of the previous value.
   */
  readonly rollbackPropagation?: (ctx: StepContext<In, Deps>, propagated: unknown, previous: Secret | undefined) => Promise<void>;
  /** Have the consumers picked the new value up since `rotatedAt`? (check of "restart") */
  readonly consumersUpdated: (ctx: StepContext<In, Deps>, rotatedAt: Date) => Promise<boolean>;
  readonly restartConsumers: (ctx: StepContext<In, Deps>) => Promise<unknown>;
  /**
   * Makes sure nothing still uses the old value (e.g. terminates sessions
   * opened before `rotatedAt`) and that the consumers use the new one; may act.
   */
  readonly verify: (ctx: StepContext<In, Deps>, value: Secret, rotatedAt: Date) => Promise<VerifyResult>;
}

export interface StagedRotationOptions<In = unknown, Deps = unknown> {
  readonly dependsOn?: readonly string[];
  readonly phase?: Phase;
  /** The source change needs an approval (default true: it cannot be undone, the old value is burnt). */
  readonly approval?: boolean;
  /**
   * One rotation per item (each service of a kind of credential): every stage
   * fans out over the same items, each item with its own value
   * (`ctx.generate` is per item) and stage labels (`ref` reads `ctx.item`).
   * The engine attempts no stage of an item whose stage before failed, so a
   * failure stops that item only; a resumed run retries it stage by stage.
   */
  readonly forEach?: StepDefinition<In, Deps>['forEach'];
}

/** Short, non-reversible identity of a value for stage labels and the audit trail (never the value). */
export function fingerprint(value: Secret): string {
  return `sha256:${createHash('sha256').update(value.reveal()).digest('hex').slice(0, 16)}`;
}

/**
 * The staged rotation, as steps (AWS Secrets Manager's pending / current /
 * previous, made generic):
 *
 *  create     generate the value, seal it in the journal, label it PENDING — before anything changes;
 *  set        make the source accept it (check first: a resumed run never sets it twice);
 *  test       the new value works and the previous one no longer does;
 *  propagate  write it where the consumers read it (compensated by rollback, when configured);
 *  restart    restart the consumers unless they already use it;
 *  verify     nothing still uses the old value, the consumers use the new one;
 *  finish     PENDING becomes CURRENT, the former CURRENT becomes PREVIOUS.
 *
 * The value is generated once per run (`ctx.generate`), so every step and
 * every resumed attempt applies the same one.
 */
export function stagedRotation<In, Deps>(a: RotationAdapter<In, Deps>, o: StagedRotationOptions<In, Deps> = {}): AnyStep<In, Deps>[] {
  const phase = o.phase ?? 'eradication';
  const fanOut = o.forEach !== undefined;
  const of = (ctx: StepContext<In, Deps>) => (ctx.item === undefined ? '' : ` of ${ctx.item.key}`);
  if (fanOut && a.setAt === undefined) throw new FirebreakError('INTERNAL', `staged rotation ${a.id}: a rotation that fans out needs setAt`);
  const id = (s: string) => `${a.id}-${s}`;
  const value = (ctx: StepContext<In, Deps>) => ctx.generate(a.id, () => a.generate(ctx));
  const previous = (ctx: StepContext<In, Deps>) => (a.current === undefined ? undefined : ctx.generate(`${a.id}.previous`, async () => {
    const v = await a.current?.(ctx);
    if (v === undefined) throw new FirebreakError('NOT_FOUND', `the current value of ${a.what} cannot be read`);
    return v;
  }));
  const set = defineStep<In, Deps, { rotatedAt: string }>({
    id: id('set'), title: `Set the new ${a.what} at the source`, phase, system: a.system, effect: 'irreversible', idempotency: 'natural', dependsOn: [id('create')],
    approval: o.approval ?? true,
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: `set a new value of ${a.what}` };
      const done = await a.isSet(ctx, await value(ctx));
      // Already set (a resumed run): the rotation time is now, which errs on the side of ending more old sessions.
      return { done, detail: `set a new value of ${a.what}`, ...(done ? { output: { rotatedAt: new Date().toISOString() } } : {}) };
    },
    apply: async (ctx) => {
      await a.set(ctx, await value(ctx));
      return { rotatedAt: new Date().toISOString() };
    },
  });
  const rotatedAt = async (ctx: StepContext<In, Deps>): Promise<Date> => {
    if (fanOut) {
      const at = await a.setAt?.(ctx, await value(ctx));
      if (at === undefined) throw new FirebreakError('PRECONDITION_FAILED', `the source does not accept the new ${a.what}${of(ctx)}: ${set.id} did not take effect`);
      return at;
    }
    const out = ctx.output(set);
    if (out === undefined) throw new FirebreakError('INTERNAL', `${set.id} has no rotation time`);
    return new Date(out.rotatedAt);
  };
  const steps: AnyStep<In, Deps>[] = [
    {
      id: id('create'), title: `Generate a new ${a.what} (PENDING)`, phase, system: 'firebreak', effect: 'mutate', idempotency: 'natural',
      ...(o.dependsOn === undefined ? {} : { dependsOn: o.dependsOn }),
      apply: async (ctx) => {
        if (a.current !== undefined) await previous(ctx);
        const v = await value(ctx);
        await ctx.credentials.label(a.ref(ctx), 'PENDING', fingerprint(v), ctx.runId);
        return { stage: 'PENDING', fingerprint: fingerprint(v) };
      },
    },
    set,
    {
      id: id('test'), title: `Test: the new ${a.what} works, the old one is refused`, phase, system: a.system, effect: 'read', idempotency: 'natural', dependsOn: [id('set')],
      apply: async (ctx) => {
        if (ctx.planning) return null;
        const r = await a.test(ctx, await value(ctx), await previous(ctx));
        if (!r.ok) throw new FirebreakError('VERIFY_FAILED', `test of ${a.what}${of(ctx)} failed: ${r.detail}`);
        return { tested: r.detail };
      },
    },
    {
      id: id('propagate'), title: `Propagate the new ${a.what} to its consumers`, phase: 'recovery', system: a.system, effect: 'mutate', idempotency: 'natural', dependsOn: [id('test')],
      check: async (ctx) => (ctx.planning ? { done: false, detail: `write the new value of ${a.what} for its consumers` } : { done: await a.isPropagated(ctx, await value(ctx)), detail: `write the new value of ${a.what} for its consumers` }),
      apply: async (ctx) => a.propagate(ctx, await value(ctx)),
      ...(a.rollbackPropagation === undefined ? {} : { compensate: async (ctx: StepContext<In, Deps>, out: unknown) => { await a.rollbackPropagation?.(ctx, out, await previous(ctx)); } }),
    },
    {
      id: id('restart'), title: `Restart the consumers of the ${a.what}`, phase: 'recovery', system: a.system, effect: 'mutate', idempotency: 'natural', dependsOn: [id('propagate')],
      check: async (ctx) => (ctx.planning ? { done: false, detail: 'restart the consumers' } : { done: await a.consumersUpdated(ctx, await rotatedAt(ctx)), detail: 'restart the consumers' }),
      apply: async (ctx) => a.restartConsumers(ctx),
    },
    {
      id: id('verify'), title: `Verify: consumers use the new ${a.what}, nothing uses the old one`, phase: 'recovery', system: a.system, effect: 'mutate', idempotency: 'natural', dependsOn: [id('restart')],
      apply: async (ctx) => {
        const r = await a.verify(ctx, await value(ctx), await rotatedAt(ctx));
        if (!r.ok) throw new FirebreakError('VERIFY_FAILED', `verification of ${a.what}${of(ctx)} failed: ${r.detail}`);
        return { verified: r.detail };
      },
    },
    {
      id: id('finish'), title: `Promote the new ${a.what} to CURRENT (the old one to PREVIOUS)`, phase: 'recovery', system: 'firebreak', effect: 'mutate', idempotency: 'natural', dependsOn: [id('verify')],
      check: async (ctx) => {
        if (ctx.planning) return { done: false, detail: 'PENDING → CURRENT' };
        const stages = await ctx.credentials.stages(a.ref(ctx));
        return { done: stages.CURRENT === fingerprint(await value(ctx)), detail: 'PENDING → CURRENT' };
      },
      apply: async (ctx) => {
        const fp = fingerprint(await value(ctx));
        await ctx.credentials.label(a.ref(ctx), 'CURRENT', fp, ctx.runId);
        return { current: fp };
      },
    },
  ];
  const forEach = o.forEach;
  return forEach === undefined ? steps : steps.map((s) => ({ ...s, forEach }));
}
