import { FirebreakError } from '../../lib/errors.ts';
import { generatePassword } from '../../lib/password.ts';
import { definePlaybook, type AnyStep } from '../../engine/playbook-types.ts';
import { abortableSleep } from '../../engine/retry.ts';
import { stagedRotation, type RotationAdapter } from '../../engine/staged-rotation.ts';
import { readEnvVariable, rewriteEnvVariable } from '../../connectors/dotenv/dotenv-file.ts';
import { restartService } from '../../connectors/restart/restart-service.ts';
import { connectDb, type DbDeps } from './db-deps.ts';
import { dbCredentialLeakInput, type DbCredentialLeakInput } from './db-inputs.ts';


/** The staged rotation's adapter for a PostgreSQL role's password (exported for the benchmark's timing wrapper). */
export const passwordRotation: RotationAdapter<DbCredentialLeakInput, DbDeps> = {
  id: 'password', what: 'database password', system: 'timescaledb',
  ref: (ctx) => ctx.deps.ref,
  generate: (ctx) => generatePassword(ctx.deps.passwordLength),
  current: (ctx) => readEnvVariable(ctx.deps.envExecutor, ctx.deps.envFile, ctx.deps.variable),
  isSet: async (ctx, v) => (await ctx.deps.db.testLogin(ctx.deps.role, v)).ok,
  set: (ctx, v) => ctx.deps.db.setRolePassword(ctx.deps.role, v),
  test: async (ctx, v, previous) => {
    const fresh = await ctx.deps.db.testLogin(ctx.deps.role, v);
    if (!fresh.ok) return { ok: false, detail: `logging in with the new password failed: ${fresh.message}` };
    if (previous === undefined || previous.equals(v)) return { ok: true, detail: 'the new password logs in' };
    const old = await ctx.deps.db.testLogin(ctx.deps.role, previous);
    if (old.ok) return { ok: false, detail: 'the old password still logs in' };
    return { ok: true, detail: 'the new password logs in over TCP; the old one is refused' };
  },
  isPropagated: async (ctx, v) => (await readEnvVariable(ctx.deps.envExecutor, ctx.deps.envFile, ctx.deps.variable)).equals(v),
  propagate: async (ctx, v) => {
    const r = await rewriteEnvVariable(ctx.deps.envExecutor, ctx.deps.envFile, ctx.deps.variable, v);
    return { file: ctx.deps.envFile, backup: r.backup };
  },
  rollbackPropagation: async (ctx, out) => {
    if (!ctx.deps.rollback) { ctx.log.warn('rollback is not configured for this role: the .env keeps the new password', { file: ctx.deps.envFile }); return; }
    const backup = (out as { backup?: string } | null)?.backup;
    if (backup === undefined) return;
    await ctx.deps.envExecutor.writeFileAtomic(ctx.deps.envFile, await ctx.deps.envExecutor.readFile(backup));
  },
  consumersUpdated: async (ctx, at) => (await ctx.deps.db.sessionsOf(ctx.deps.role)).some((s) => s.backendStart > at && (ctx.deps.applicationName === undefined || s.applicationName === ctx.deps.applicationName)),
  restartConsumers: (ctx) => restartService(ctx.deps.restart, ctx.deps.restartExecutor, ctx.signal),
  verify: async (ctx, _v, at) => {
    const { db, role, applicationName } = ctx.deps;
    // A leaked password's sessions survive ALTER ROLE: every session opened before the rotation is ended.
    const terminated = await db.terminateSessions(role, at);
    const deadline = Date.now() + ctx.deps.reconnectTimeoutMs;
    for (;;) {
      ctx.signal.throwIfAborted();
      const sessions = await db.sessionsOf(role);
      const fresh = sessions.find((s) => s.backendStart > at && (applicationName === undefined || s.applicationName === applicationName));
      const stale = sessions.filter((s) => s.backendStart <= at);
      if (fresh !== undefined && stale.length === 0) {
        return { ok: true, detail: `${applicationName ?? role} reconnected with the new password (pid ${fresh.pid}); ${terminated.length} session(s) from before the rotation terminated` };
      }
      if (stale.length > 0) await db.terminateSessions(role, at);
      if (Date.now() > deadline) {
        return { ok: false, detail: fresh === undefined ? `${applicationName ?? role} did not reconnect within ${ctx.deps.reconnectTimeoutMs} ms` : `${stale.length} session(s) from before the rotation could not be terminated` };
      }
      // A cancelled run stops waiting at once (the sleep rejects with the signal's reason).
      await abortableSleep(250, ctx.signal);
    }
  },
};

const steps: AnyStep<DbCredentialLeakInput, DbDeps>[] = [
  {
    id: 'resolve-role', title: 'Resolve the role, its .env file and its service', phase: 'assessment', system: 'timescaledb', effect: 'read', idempotency: 'natural',
    apply: async (ctx) => {
      const { db, role, envFile, variable, envExecutor } = ctx.deps;
      if (!(await db.roleExists(role))) throw new FirebreakError('NOT_FOUND', `role ${JSON.stringify(role)} does not exist in the ${ctx.deps.stack} database (nothing was changed)`);
      await readEnvVariable(envExecutor, envFile, variable);
      return { role, envFile, variable, host: envExecutor.describe };
    },
  },
  {
    id: 'capture-sessions', title: 'Capture the role\'s open sessions as evidence', phase: 'assessment', system: 'evidence', effect: 'read', idempotency: 'natural', dependsOn: ['resolve-role'],
    apply: async (ctx) => {
      const sessions = await ctx.deps.db.sessionsOf(ctx.deps.role);
      const ref = await ctx.evidence('sessions', sessions.map((s) => ({ ...s, backendStart: s.backendStart.toISOString() })));
      return { sessions: sessions.length, evidence: ref.ref };
    },
  },
  ...stagedRotation(passwordRotation, { dependsOn: ['capture-sessions'], phase: 'containment' }),
];

/** Seed Scenario 2: a TimescaleDB role's password exposed in logs or a commit (listed from db-descriptor.ts, which must say the same). */
export const dbCredentialLeak = definePlaybook({
  id: 'db-credential-leak',
  title: 'Leaked database credential',
  summary: 'Rotate a TimescaleDB role\'s password in stages (SCRAM verifier computed client side), update the .env, restart the consumer, end every session of the old password.',
  version: 1,
  incidentKind: 'credential-leak',
  severity: 'high',
  input: dbCredentialLeakInput,
  rto: { assessment: 2 * 60_000, containment: 5 * 60_000, recovery: 15 * 60_000 },
  targets: (i) => [`database-role:${i.stack}/${i.role}`],
  entities: (i) => [{ type: 'stack', id: i.stack }, { type: 'database-role', id: i.role }],
  compensateOnFailure: true,
  connect: connectDb,
  disconnect: (deps) => deps.db.close(),
  steps,
});
