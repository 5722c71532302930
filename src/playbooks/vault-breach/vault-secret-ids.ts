import { randomUUID } from 'node:crypto';
import { FirebreakError } from '../../lib/errors.ts';
import { parseDuration } from '../../lib/duration.ts';
import { Secret } from '../../lib/secret.ts';
import type { FanOutItem } from '../../engine/runtime-types.ts';
import { abortableSleep } from '../../engine/retry.ts';
import { stagedRotation, type RotationAdapter } from '../../engine/staged-rotation.ts';
import type { AnyStep, StepContext, StepRef } from '../../engine/playbook-types.ts';
import { readEnvValue, readEnvVariable, rewriteEnvVariable } from '../../connectors/dotenv/dotenv-file.ts';
import type { Executor } from '../../connectors/executor/executor-types.ts';
import { restartService, type RestartSpec } from '../../connectors/restart/restart-service.ts';
import type { VaultSettings } from '../../connectors/vault/vault-connector.ts';
import { vaultReasonOf, type VaultClient } from '../../connectors/vault/vault-client.ts';
import type { VaultBreachDeps, VaultBreachInput } from './vault-deps.ts';
import { liveTokens } from './vault-tokens.ts';

/**
 * Recovery's new AppRole secret_ids. Disabling an AppRole mount destroys every
 * secret_id it issued: the re-created roles keep their role_ids, but no service
 * can log in until it has a new secret_id. Each configured service
 * (provider.vault.services) gets one through the engine's staged rotation,
 * fanned out over the services: generated and journaled sealed, registered
 * with `custom-secret-id` (checked first with `secret-id/lookup`, so a resumed
 * run never registers it twice), tested by a login (the old secret_id is
 * refused), written to the service's .env (and its Vault path), the service
 * restarted, then its own login with the new secret_id awaited.
 */

/** A service that logs in with AppRole, its executors resolved. */
export interface AppRoleService {
  readonly name: string;
  /** As sys/auth keys it: `approle/`. */
  readonly mount: string;
  readonly role: string;
  readonly envFile: string;
  readonly variable: string;
  readonly roleIdVariable: string;
  /** KV `mount/path` and key, when the secret_id is also kept in Vault. */
  readonly vaultPath: { readonly path: string; readonly key: string } | undefined;
  readonly envExecutor: Executor;
  readonly restart: RestartSpec;
  readonly restartExecutor: Executor;
  readonly loginTimeoutMs: number;
}

type Ctx = StepContext<VaultBreachInput, VaultBreachDeps>;

/** Builds the services from provider.vault.services (executors resolved, nothing contacted). */
export async function appRoleServices(settings: VaultSettings, executor: (name: string) => Promise<Executor>): Promise<AppRoleService[]> {
  const out: AppRoleService[] = [];
  for (const [name, s] of Object.entries(settings.services)) {
    const { executor: restartExecutor, ...restart } = s.restart;
    const [path, key] = s.vaultPath === undefined ? [] : s.vaultPath.split('#');
    out.push({
      name, mount: `${s.mount.replace(/^\/+|\/+$/g, '')}/`, role: s.role, envFile: s.envFile, variable: s.variable, roleIdVariable: s.roleIdVariable,
      vaultPath: path === undefined || key === undefined ? undefined : { path, key },
      envExecutor: await executor(s.executor), restart, restartExecutor: await executor(restartExecutor ?? s.executor),
      loginTimeoutMs: parseDuration(s.loginTimeout) ?? 60_000,
    });
  }
  return out;
}

const serviceOf = (ctx: Ctx): AppRoleService => {
  const s = ctx.deps.services.find((x) => x.name === ctx.item?.key);
  if (s === undefined) throw new FirebreakError('NOT_FOUND', `service ${JSON.stringify(ctx.item?.key)} is no longer in provider.vault.services: its secret_id cannot be rotated by this run`);
  return s;
};
const mountName = (s: AppRoleService) => s.mount.slice(0, -1);

/** The role_id the service logs in with, from its .env (recovery kept it). */
async function roleIdOf(s: AppRoleService): Promise<string> {
  const v = readEnvValue((await s.envExecutor.readFile(s.envFile)).toString('utf8'), s.roleIdVariable);
  if (v === undefined || v === '') throw new FirebreakError('NOT_FOUND', `${s.envFile} on ${s.envExecutor.describe} has no ${s.roleIdVariable}: service ${s.name} cannot log in with AppRole`);
  return v;
}

/** A login as the service would make it; the token is revoked at once (it must not count as the service's own login). */
async function tryLogin(v: VaultClient, s: AppRoleService, secretId: Secret, signal: AbortSignal): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const login = await v.auth.appRoleLogin(mountName(s), await roleIdOf(s), secretId, signal);
    await v.auth.revokeAccessor(login.accessor, signal);
    return { ok: true };
  } catch (err) {
    // Vault refuses a wrong role_id or secret_id with 400 "invalid role or secret ID".
    if (vaultReasonOf(err) === 'bad-request') return { ok: false, why: (err as Error).message };
    throw err;
  }
}

/** Live tokens the service got by logging in through its AppRole mount since `at` (accessors; never a token). */
async function loginsSince(v: VaultClient, s: AppRoleService, at: Date, signal: AbortSignal): Promise<string[]> {
  const since = Math.floor(at.getTime() / 1000);
  return (await liveTokens(v, signal)).filter((t) => t.path === `auth/${s.mount}login` && t.meta['role_name'] === s.role && t.creationTime >= since).map((t) => t.accessor);
}

async function readVaultCopy(v: VaultClient, s: AppRoleService, signal: AbortSignal): Promise<Secret | undefined> {
  if (s.vaultPath === undefined) return undefined;
  try {
    return await v.readReference(s.vaultPath.path, s.vaultPath.key, signal);
  } catch (err) {
    if (err instanceof FirebreakError && err.code === 'SECRET_UNAVAILABLE') return undefined;
    throw err;
  }
}

/** Writes the secret_id as a new KV version, the secret's other keys kept. */
async function writeVaultCopy(v: VaultClient, s: AppRoleService, value: Secret, signal: AbortSignal): Promise<void> {
  if (s.vaultPath === undefined) return;
  const loc = await v.kv.locate(s.vaultPath.path, signal);
  if (loc.version === 2) {
    const read = await v.kv.v2.read(loc.mount, loc.path, {}, signal);
    const data = read?.state === 'present' ? read.data : {};
    await v.kv.v2.write(loc.mount, loc.path, { ...data, [s.vaultPath.key]: value }, { cas: read?.metadata.version ?? 0 }, signal);
  } else {
    await v.kv.v1.write(loc.mount, loc.path, { ...(await v.kv.v1.read(loc.mount, loc.path, signal) ?? {}), [s.vaultPath.key]: value }, signal);
  }
}

/** The secret_id as the service's role holds it in Vault, or null (`secret-id/lookup`). */
const lookup = (ctx: Ctx, v: Secret) => { const s = serviceOf(ctx); return ctx.deps.vault.auth.lookupSecretId(mountName(s), s.role, v, ctx.signal); };

/** The staged rotation's adapter for one service's AppRole secret_id (the fan-out item is the service). */
export const secretIdRotation: RotationAdapter<VaultBreachInput, VaultBreachDeps> = {
  id: 'secret-id', what: 'AppRole secret_id', system: 'vault',
  ref: (ctx) => { const s = serviceOf(ctx); return `vault-approle:${s.mount}${s.role}/${s.name}`; },
  // Vault's own form (a UUID, 122 random bits from the CSPRNG): what services and tooling expect.
  generate: () => new Secret(randomUUID()),
  current: async (ctx) => {
    const s = serviceOf(ctx);
    return readEnvVariable(s.envExecutor, s.envFile, s.variable);
  },
  isSet: async (ctx, v) => (await lookup(ctx, v)) !== null,
  setAt: async (ctx, v) => (await lookup(ctx, v))?.creationTime,
  set: async (ctx, v) => { const s = serviceOf(ctx); await ctx.deps.vault.auth.writeCustomSecretId(mountName(s), s.role, v, ctx.signal); },
  test: async (ctx, v, previous) => {
    const s = serviceOf(ctx);
    const fresh = await tryLogin(ctx.deps.vault, s, v, ctx.signal);
    if (!fresh.ok) return { ok: false, detail: `logging in as ${s.role} with the new secret_id failed: ${fresh.why}` };
    if (previous === undefined || previous.equals(v)) return { ok: true, detail: `the new secret_id logs in as ${s.role}` };
    const old = await tryLogin(ctx.deps.vault, s, previous, ctx.signal);
    if (old.ok) return { ok: false, detail: `the old secret_id of ${s.name} still logs in as ${s.role}` };
    return { ok: true, detail: `the new secret_id logs in as ${s.role}; the old one is refused` };
  },
  isPropagated: async (ctx, v) => {
    const s = serviceOf(ctx);
    if (!(await readEnvVariable(s.envExecutor, s.envFile, s.variable)).equals(v)) return false;
    return s.vaultPath === undefined || ((await readVaultCopy(ctx.deps.vault, s, ctx.signal))?.equals(v) ?? false);
  },
  propagate: async (ctx, v) => {
    const s = serviceOf(ctx);
    const r = await rewriteEnvVariable(s.envExecutor, s.envFile, s.variable, v);
    await writeVaultCopy(ctx.deps.vault, s, v, ctx.signal);
    return { file: s.envFile, host: s.envExecutor.describe, backup: r.backup, ...(s.vaultPath === undefined ? {} : { vaultPath: `${s.vaultPath.path}#${s.vaultPath.key}` }) };
  },
  consumersUpdated: async (ctx, at) => (await loginsSince(ctx.deps.vault, serviceOf(ctx), at, ctx.signal)).length > 0,
  restartConsumers: (ctx) => { const s = serviceOf(ctx); return restartService(s.restart, s.restartExecutor, ctx.signal); },
  verify: async (ctx, _v, at) => {
    const s = serviceOf(ctx);
    const deadline = Date.now() + s.loginTimeoutMs;
    for (;;) {
      const logins = await loginsSince(ctx.deps.vault, s, at, ctx.signal);
      // Every secret_id of the role before this one was destroyed with the mount: a login since is with the new one.
      if (logins.length > 0) return { ok: true, detail: `${s.name} logged in as ${s.role} with the new secret_id (token accessor ${logins[0] ?? ''})` };
      if (Date.now() > deadline) return { ok: false, detail: `${s.name} did not log in as ${s.role} within ${s.loginTimeoutMs} ms of its restart` };
      await abortableSleep(250, ctx.signal);
    }
  },
};

/**
 * The services whose secret_ids recovery rotates: those of a mount this run
 * disabled (the others' secret_ids were not destroyed), each checked against
 * the recorded roles, so a service naming a role that Vault never had is a
 * clear error while planning.
 */
export function secretIdSteps(recordAuth: StepRef<{ mounts: readonly { path: string; type: string; roles: readonly { name: string }[] }[]; disable: readonly string[] }>, dependsOn: string): AnyStep<VaultBreachInput, VaultBreachDeps>[] {
  const items = async (ctx: Ctx): Promise<FanOutItem<null>[]> => {
    const record = ctx.output(recordAuth);
    if (record === undefined) throw new FirebreakError('INTERNAL', 'vault-breach: the auth methods were not recorded');
    const out: FanOutItem<null>[] = [];
    for (const s of ctx.deps.services) {
      if (!record.disable.includes(s.mount)) { ctx.log.info('not rotated: its mount is not disabled by this run', { service: s.name, mount: s.mount }); continue; }
      const m = record.mounts.find((x) => x.path === s.mount);
      if (m?.type !== 'approle') throw new FirebreakError('CONFIG_INVALID', `provider.vault.services.${s.name}: ${s.mount} is ${m === undefined ? 'not an auth mount of this Vault' : `a ${m.type} mount, not AppRole`}`);
      if (!m.roles.some((r) => r.name === s.role)) throw new FirebreakError('CONFIG_INVALID', `provider.vault.services.${s.name}: ${s.mount} has no role "${s.role}" (its roles: ${m.roles.map((r) => r.name).join(', ') || 'none'})`);
      out.push({ key: s.name, value: null });
    }
    return out;
  };
  return stagedRotation(secretIdRotation, { dependsOn: [dependsOn], phase: 'recovery', forEach: { items, concurrency: 8 } });
}
