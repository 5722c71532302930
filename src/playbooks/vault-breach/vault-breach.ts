import { FirebreakError } from '../../lib/errors.ts';
import { definePlaybook, type AnyStep, type StepDefinition } from '../../engine/playbook-types.ts';
import { RoleKinds, type RoleKind, type VaultClient } from '../../connectors/vault/vault-client.ts';
import { connectVault, UNSEALED, type VaultBreachDeps, type VaultCtx } from './vault-deps.ts';
import { vaultBreachInput, type VaultBreachInput } from './vault-inputs.ts';
import { rekeySteps } from './vault-rekey.ts';
import { assessAuditLog } from './vault-assess.ts';
import { secretIdSteps } from './vault-secret-ids.ts';
import { liveTokens } from './vault-tokens.ts';

/**
 * Seed "Vault compromise" (002), in the order a Vault allows (docs/playbooks/vault-breach.md):
 * record the auth methods, revoke their tokens, disable the configured ones, seal last; the key
 * holders unseal and rekey to new PGP-encrypted shares, verified, then the encryption key is
 * rotated (vault-rekey.ts); recovery re-creates what was disabled, gives each AppRole service a
 * new secret_id (vault-secret-ids.ts) and revokes the root tokens made during the response. The assessment and rotation phases are not built yet: the
 * descriptor lists them as absent (vault-descriptor.ts).
 */

type Ctx = VaultCtx;
const step = <Out>(s: StepDefinition<VaultBreachInput, VaultBreachDeps, Out>) => s;

export { UNSEALED } from './vault-deps.ts';

/** A role (approle, jwt, oidc) or user (userpass) as Vault returns it: never a secret (Vault returns none: no secret_id, no password). */
export interface RecordedRole {
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** AppRole only: the role_id its services log in with, set again when the role is re-created. */
  readonly roleId?: string;
}

export interface RecordedMount {
  /** As sys/auth keys it: `approle/`. */
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly accessor: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly local: boolean;
  readonly sealWrap: boolean;
  readonly options: Readonly<Record<string, string>>;
  readonly roles: readonly RecordedRole[];
  /** JWT/OIDC: `auth/<mount>/config` (Vault leaves the client secret out). */
  readonly jwtConfig?: Readonly<Record<string, unknown>>;
  /** Why recovery cannot re-create everything of this mount, when it cannot (userpass passwords are not readable). */
  readonly unrestorable?: string;
}

export interface AuthRecord {
  readonly mounts: readonly RecordedMount[];
  /** The mounts containment disables (validated against sys/auth). */
  readonly disable: readonly string[];
  /** The mounts whose tokens containment revokes: every auth method but `token/`. */
  readonly revoke: readonly string[];
  /** The seal's shares and threshold, for the unseal instructions. */
  readonly seal: { readonly shares: number; readonly threshold: number };
  readonly evidence: string | null;
  /** When containment began: root tokens created since were made during the response (revoked in recovery). */
  readonly recordedAt: string;
}

/** Read-back fields that are aliases of others (`policies` of `token_policies`, `period` of `token_period`): written back, they would conflict. */
const ALIASES = new Set(['policies', 'period', 'bound_cidr_list', 'num_uses']);

const sealedError = (url: string) => new FirebreakError('PRECONDITION_FAILED',
  `Vault at ${url} is sealed: containment needs it unsealed (a sealed Vault answers 503 to token revocation and auth disable, so sealing comes last). Unseal it with the quorum, or resume the run that sealed it; nothing was changed`);

async function recordMount(v: VaultClient, path: string, m: { type: string; description: string; accessor: string; config: Readonly<Record<string, unknown>>; local: boolean; sealWrap: boolean; options: Readonly<Record<string, string>> }, signal: AbortSignal): Promise<RecordedMount> {
  const mount = path.slice(0, -1);
  const base = { path, type: m.type, description: m.description, accessor: m.accessor, config: m.config, local: m.local, sealWrap: m.sealWrap, options: m.options };
  if (!Object.hasOwn(RoleKinds, m.type)) return { ...base, roles: [], ...(m.type === 'token' ? {} : { unrestorable: `roles of auth method type "${m.type}" cannot be read back: only the mount is re-created` }) };
  const kind = m.type as RoleKind;
  const names = await v.auth.listRoles(kind, mount, signal);
  const roles: RecordedRole[] = [];
  for (const name of names) {
    const read = await v.auth.readRole(kind, mount, name, signal);
    if (read === null) continue; // deleted between the list and the read
    const settings = Object.fromEntries(Object.entries(read).filter(([k]) => !ALIASES.has(k)));
    const roleId = kind === 'approle' ? await v.auth.readAppRoleId(mount, name, signal) : null;
    roles.push({ name, settings, ...(roleId === null ? {} : { roleId }) });
  }
  const jwtConfig = kind === 'jwt' || kind === 'oidc' ? await v.auth.readJwtConfig(mount, signal) : null;
  return {
    ...base, roles, ...(jwtConfig === null ? {} : { jwtConfig }),
    ...(kind === 'userpass' && roles.length > 0 ? { unrestorable: `${roles.length} userpass user(s): Vault never returns their passwords, so recovery re-creates the mount but not the users (they need new passwords)` } : {}),
  };
}

/** Live tokens created through each prefix (`auth/approle/`), found from their accessors (never the tokens). */
async function tokensUnder(v: VaultClient, prefixes: readonly string[], signal: AbortSignal): Promise<Map<string, number>> {
  const counts = new Map(prefixes.map((p) => [p, 0]));
  if (prefixes.length === 0) return counts;
  for (const t of await liveTokens(v, signal)) {
    const p = prefixes.find((x) => t.path.startsWith(x));
    if (p !== undefined) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return counts;
}

const prefixesOf = (r: AuthRecord) => r.revoke.map((m) => `auth/${m}`);
const recordOf = (ctx: Ctx): AuthRecord => {
  const r = ctx.output(recordAuth);
  if (r === undefined) throw new FirebreakError('INTERNAL', 'vault-breach: the auth methods were not recorded');
  return r;
};
const disabledMounts = (r: AuthRecord) => r.mounts.filter((m) => r.disable.includes(m.path));
const list = (xs: readonly string[]) => xs.join(', ') || 'none';

const recordAuth = step<AuthRecord>({
  id: 'record-auth', title: 'Record every auth method\'s configuration and roles (for recovery)', phase: 'containment', system: 'vault', effect: 'read', idempotency: 'natural',
  requires: [UNSEALED],
  apply: async (ctx) => {
    const { vault: v, url, disable, disableFrom } = ctx.deps;
    const seal = await v.sys.sealStatus(ctx.signal);
    if (seal.sealed) throw sealedError(url);
    const table = await v.auth.listAuthMethods(ctx.signal);
    const missing = disable.filter((m) => table[m] === undefined);
    if (missing.length > 0) {
      throw new FirebreakError('NOT_FOUND', `${disableFrom} names auth mount(s) that Vault does not have: ${missing.join(', ')} (sys/auth lists: ${list(Object.keys(table).sort())}); nothing was changed`);
    }
    const mounts: RecordedMount[] = [];
    for (const [path, m] of Object.entries(table).sort(([a], [b]) => a.localeCompare(b))) mounts.push(await recordMount(v, path, m, ctx.signal));
    const revoke = mounts.filter((m) => m.type !== 'token').map((m) => m.path);
    const recorded = { mounts, disable, revoke, seal: { shares: seal.n, threshold: seal.t }, recordedAt: new Date().toISOString() };
    // What recovery re-creates from, kept with the incident (no secret: Vault returns none of them).
    const evidence = ctx.planning ? null : (await ctx.evidence('auth-methods', recorded)).ref;
    return { ...recorded, evidence };
  },
});

const revokeTokens = step<{ revoked: Record<string, number> }>({
  id: 'revoke-tokens', title: 'Revoke every token issued through an auth method (revoke-prefix auth/<mount>/)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural',
  dependsOn: ['record-auth'], requires: [UNSEALED],
  check: async (ctx) => {
    const counts = await tokensUnder(ctx.deps.vault, prefixesOf(recordOf(ctx)), ctx.signal);
    const live = [...counts].filter(([, n]) => n > 0);
    if (live.length === 0) return { done: true, detail: `no live token was issued through ${list(recordOf(ctx).revoke)}`, output: { revoked: {} } };
    return { done: false, detail: `revoke ${live.map(([p, n]) => `${n} token(s) under ${p}`).join(', ')}` };
  },
  apply: async (ctx) => {
    const counts = await tokensUnder(ctx.deps.vault, prefixesOf(recordOf(ctx)), ctx.signal);
    // Per mount, never `auth/`: that prefix also covers auth/token/, i.e. the root token and Firebreak's own, and sealing would then be refused.
    for (const prefix of prefixesOf(recordOf(ctx))) await ctx.deps.vault.auth.revokePrefix(prefix, { sync: true }, ctx.signal);
    return { revoked: Object.fromEntries(counts) };
  },
  verify: async (ctx) => {
    const left = [...await tokensUnder(ctx.deps.vault, prefixesOf(recordOf(ctx)), ctx.signal)].filter(([, n]) => n > 0);
    return left.length === 0 ? { ok: true, detail: `no live token under ${list(prefixesOf(recordOf(ctx)))}` } : { ok: false, detail: `still live: ${left.map(([p, n]) => `${n} under ${p}`).join(', ')}` };
  },
});

const disableAuth = step<{ disabled: string[] }>({
  id: 'disable-auth', title: 'Disable the configured auth methods', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural',
  dependsOn: ['revoke-tokens'], requires: [UNSEALED],
  check: async (ctx) => {
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const present = recordOf(ctx).disable.filter((m) => table[m] !== undefined);
    if (present.length === 0) return { done: true, detail: `${list(recordOf(ctx).disable)} already disabled`, output: { disabled: [] } };
    const roles = (m: string) => recordOf(ctx).mounts.find((x) => x.path === m)?.roles.length ?? 0;
    return { done: false, detail: `disable ${present.map((m) => `${m} (${roles(m)} role(s), recorded)`).join(', ')}` };
  },
  apply: async (ctx) => {
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    // Only what is still there: after a crash halfway, each mount is disabled once.
    const present = recordOf(ctx).disable.filter((m) => table[m] !== undefined);
    for (const m of present) await ctx.deps.vault.auth.disableAuthMethod(m.slice(0, -1), ctx.signal);
    return { disabled: present };
  },
  verify: async (ctx) => {
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const left = recordOf(ctx).disable.filter((m) => table[m] !== undefined);
    return left.length === 0 ? { ok: true, detail: `sys/auth no longer lists ${list(recordOf(ctx).disable)}` } : { ok: false, detail: `sys/auth still lists ${left.join(', ')}` };
  },
});

const sealVault = step<{ sealed: true }>({
  id: 'seal-vault', title: 'Seal Vault (last: a sealed Vault refuses revocation and auth changes)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural',
  dependsOn: ['disable-auth'], invalidates: [UNSEALED],
  check: async (ctx) => {
    const s = await ctx.deps.vault.sys.sealStatus(ctx.signal);
    return s.sealed ? { done: true, detail: `Vault at ${ctx.deps.url} is sealed`, output: { sealed: true } } : { done: false, detail: `seal Vault at ${ctx.deps.url} (unsealing it again takes ${s.t} of ${s.n} key holders)` };
  },
  apply: async (ctx) => { await ctx.deps.vault.sys.seal(ctx.signal); return { sealed: true }; },
  verify: async (ctx) => {
    const s = await ctx.deps.vault.sys.sealStatus(ctx.signal);
    return s.sealed ? { ok: true, detail: 'seal-status: sealed' } : { ok: false, detail: 'seal-status still says unsealed' };
  },
});

/** What differs between a recorded mount and sys/auth's entry for it, or undefined when it is re-created as recorded. */
function mountDifference(m: RecordedMount, now: { type: string; description: string; config: Readonly<Record<string, unknown>> } | undefined): string | undefined {
  if (now === undefined) return `${m.path} is not enabled`;
  if (now.type !== m.type) return `${m.path} is a ${now.type} mount, recorded as ${m.type}`;
  if (now.description !== m.description) return `${m.path}: description ${JSON.stringify(now.description)}, recorded ${JSON.stringify(m.description)}`;
  for (const k of ['default_lease_ttl', 'max_lease_ttl', 'token_type'] as const) {
    if (m.config[k] !== undefined && JSON.stringify(now.config[k]) !== JSON.stringify(m.config[k])) return `${m.path}: config.${k} ${JSON.stringify(now.config[k])}, recorded ${JSON.stringify(m.config[k])}`;
  }
  return undefined;
}

const restoreAuth = step<{ enabled: string[] }>({
  id: 'restore-auth', title: 'Re-enable the disabled auth methods with their recorded configuration', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural',
  dependsOn: ['rotate-key'], requires: [UNSEALED],
  check: async (ctx) => {
    const mounts = disabledMounts(recordOf(ctx));
    if (ctx.planning) return { done: false, detail: `re-enable ${list(mounts.map((m) => `${m.path} (${m.type})`))} as recorded, after containment disabled them` };
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const absent = mounts.filter((m) => table[m.path] === undefined);
    return absent.length === 0 ? { done: true, detail: `${list(mounts.map((m) => m.path))} enabled`, output: { enabled: [] } } : { done: false, detail: `re-enable ${absent.map((m) => m.path).join(', ')}` };
  },
  apply: async (ctx) => {
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const enabled: string[] = [];
    for (const m of disabledMounts(recordOf(ctx))) {
      const now = table[m.path];
      if (now !== undefined) {
        // Something else took the path while it was free: never overwrite it.
        if (now.type !== m.type) throw new FirebreakError('CONFLICT', `auth mount ${m.path} is now a ${now.type} mount (recorded: ${m.type}); disable it by hand if it is not legitimate, then resume`);
        continue;
      }
      await ctx.deps.vault.auth.enableAuthMethod(m.path.slice(0, -1), { type: m.type, description: m.description, config: m.config, local: m.local, sealWrap: m.sealWrap, ...(Object.keys(m.options).length === 0 ? {} : { options: m.options }) }, ctx.signal);
      enabled.push(m.path);
    }
    return { enabled };
  },
  verify: async (ctx) => {
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const diffs = disabledMounts(recordOf(ctx)).map((m) => mountDifference(m, table[m.path])).filter((d) => d !== undefined);
    return diffs.length === 0 ? { ok: true, detail: `sys/auth lists ${list(disabledMounts(recordOf(ctx)).map((m) => m.path))} as recorded` } : { ok: false, detail: diffs.join('; ') };
  },
});

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** The recorded settings a role's read-back does not match, by key. */
function roleDifference(recorded: RecordedRole, now: Readonly<Record<string, unknown>> | null, roleId: string | null): string | undefined {
  if (now === null) return `role ${recorded.name} is missing`;
  const keys = Object.keys(recorded.settings).filter((k) => !same(recorded.settings[k], now[k]));
  if (keys.length > 0) return `role ${recorded.name}: ${keys.join(', ')} differ`;
  if (recorded.roleId !== undefined && roleId !== recorded.roleId) return `role ${recorded.name}: role_id differs from the recorded one`;
  return undefined;
}

/** Per restorable mount, what differs from the record (missing roles, settings, role_ids, JWT config). */
async function rolesDifferences(ctx: Ctx): Promise<string[]> {
  const v = ctx.deps.vault;
  const out: string[] = [];
  for (const m of disabledMounts(recordOf(ctx))) {
    if (!Object.hasOwn(RoleKinds, m.type) || m.type === 'userpass') continue;
    const kind = m.type as RoleKind;
    const mount = m.path.slice(0, -1);
    if (m.jwtConfig !== undefined) {
      const now = await v.auth.readJwtConfig(mount, ctx.signal);
      const keys = Object.keys(m.jwtConfig).filter((k) => !same(m.jwtConfig?.[k], now?.[k]));
      if (now === null || keys.length > 0) out.push(`${m.path}config${now === null ? ' missing' : `: ${keys.join(', ')} differ`}`);
    }
    for (const r of m.roles) {
      const now = await v.auth.readRole(kind, mount, r.name, ctx.signal);
      // Vault answers role-id of a missing role with 400: read it only for a role that is there.
      const d = roleDifference(r, now, now !== null && kind === 'approle' ? await v.auth.readAppRoleId(mount, r.name, ctx.signal) : null);
      if (d !== undefined) out.push(`${m.path}${d}`);
    }
  }
  return out;
}

/** Drops what Vault returns empty (`""`, `[]`): written back, an empty source field would count as set. */
const nonEmpty = (o: Readonly<Record<string, unknown>>) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== '' && !(Array.isArray(x) && x.length === 0)));

const restoreRoles = step<{ roles: number; notRestored: string[] }>({
  id: 'restore-roles', title: 'Re-create the roles from their recorded definitions (AppRole role_ids kept)', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural',
  dependsOn: ['restore-auth'], requires: [UNSEALED],
  check: async (ctx) => {
    const mounts = disabledMounts(recordOf(ctx));
    const count = mounts.reduce((n, m) => n + (m.type === 'userpass' ? 0 : m.roles.length), 0);
    if (ctx.planning) return { done: false, detail: `re-create ${count} role(s) of ${list(mounts.map((m) => m.path))} as recorded, AppRole role_ids kept` };
    const diffs = await rolesDifferences(ctx);
    return diffs.length === 0 ? { done: true, detail: `${count} role(s) as recorded`, output: { roles: 0, notRestored: notRestored(ctx) } } : { done: false, detail: `re-create: ${diffs.join('; ')}` };
  },
  apply: async (ctx) => {
    const v = ctx.deps.vault;
    let roles = 0;
    for (const m of disabledMounts(recordOf(ctx))) {
      if (!Object.hasOwn(RoleKinds, m.type) || m.type === 'userpass') continue;
      const kind = m.type as RoleKind;
      const mount = m.path.slice(0, -1);
      if (m.jwtConfig !== undefined) await v.auth.writeJwtConfig(mount, nonEmpty(m.jwtConfig), ctx.signal);
      for (const r of m.roles) {
        // The same values every time: a repeat after a crash writes the same role again.
        await v.auth.writeRole(kind, mount, r.name, r.settings, ctx.signal);
        // A re-created AppRole role would get a new role_id: set the recorded one (POST role-id), which its services log in with.
        if (r.roleId !== undefined) await v.auth.writeAppRoleId(mount, r.name, r.roleId, ctx.signal);
        roles++;
      }
    }
    return { roles, notRestored: notRestored(ctx) };
  },
  verify: async (ctx) => {
    const diffs = await rolesDifferences(ctx);
    return diffs.length === 0 ? { ok: true, detail: 'every recorded role reads back as recorded (AppRole role_ids included)' } : { ok: false, detail: diffs.join('; ') };
  },
});

/** What recovery could not bring back, in words (the report shows it with the step). */
function notRestored(ctx: Ctx): string[] {
  return disabledMounts(recordOf(ctx)).flatMap((m) => (m.unrestorable === undefined ? [] : [`${m.path}: ${m.unrestorable}`]));
}

/** Root tokens created since containment began (generate-root, or auth/token/create by a root token), by accessor; never Firebreak's own. */
async function rootTokensSince(ctx: Ctx): Promise<string[]> {
  const v = ctx.deps.vault;
  const since = Date.parse(recordOf(ctx).recordedAt) / 1000;
  const self = (await v.auth.lookupSelf(ctx.signal)).accessor;
  return (await liveTokens(v, ctx.signal)).filter((t) => t.accessor !== self && t.policies.includes('root') && t.creationTime >= Math.floor(since)).map((t) => t.accessor).sort();
}

const revokeRootTokens = step<{ revoked: string[] }>({
  id: 'revoke-root-tokens', title: 'Revoke every root token generated during the response', phase: 'recovery', system: 'vault', effect: 'irreversible', idempotency: 'natural',
  dependsOn: ['restore-roles'], requires: [UNSEALED],
  check: async (ctx) => {
    if (ctx.planning) return { done: false, detail: 'revoke the root tokens created since containment began (generate-root during the response), by accessor; Firebreak\'s own token is kept' };
    const left = await rootTokensSince(ctx);
    return left.length === 0 ? { done: true, detail: 'no root token was created during the response', output: { revoked: [] } } : { done: false, detail: `revoke ${left.length} root token(s): accessors ${left.join(', ')}` };
  },
  apply: async (ctx) => {
    const left = await rootTokensSince(ctx);
    for (const a of left) await ctx.deps.vault.auth.revokeAccessor(a, ctx.signal);
    return { revoked: left };
  },
  verify: async (ctx) => {
    const left = await rootTokensSince(ctx);
    return left.length === 0 ? { ok: true, detail: 'no root token created since containment is live' } : { ok: false, detail: `still live: ${left.join(', ')}` };
  },
});

const healthCheck = step<{ state: string; mounts: string[] }>({
  id: 'health-check', title: 'Health check: Vault active and unsealed, the auth methods back', phase: 'recovery', system: 'vault', effect: 'read', idempotency: 'natural',
  dependsOn: ['revoke-root-tokens', 'secret-id-finish'], requires: [UNSEALED],
  apply: async (ctx) => {
    const h = await ctx.deps.vault.sys.health(ctx.signal);
    if (h.state !== 'active' || h.sealed) throw new FirebreakError('VERIFY_FAILED', `Vault at ${ctx.deps.url} is ${h.state}${h.sealed ? ' (sealed)' : ''}, not active`);
    const table = await ctx.deps.vault.auth.listAuthMethods(ctx.signal);
    const missing = disabledMounts(recordOf(ctx)).filter((m) => table[m.path] === undefined).map((m) => m.path);
    if (missing.length > 0) throw new FirebreakError('VERIFY_FAILED', `sys/auth does not list ${missing.join(', ')}`);
    return { state: h.state, mounts: Object.keys(table).sort() };
  },
});

const steps: AnyStep<VaultBreachInput, VaultBreachDeps>[] = [recordAuth, revokeTokens, disableAuth, sealVault, assessAuditLog, ...rekeySteps(recordAuth), restoreAuth, restoreRoles, ...secretIdSteps(recordAuth, 'restore-roles'), revokeRootTokens, healthCheck];

/** The seed's Vault compromise (listed from vault-descriptor.ts, which must say the same, and lists the phases not built yet). */
export const vaultBreach = definePlaybook({
  id: 'vault-breach',
  title: 'Vault breach',
  summary: 'Contain a breached Vault in an order it allows (record the auth methods, revoke their tokens, disable them, seal last); the key holders unseal and rekey to new shares encrypted to each holder\'s OpenPGP key, verified, then the encryption key is rotated; restore the auth methods and roles, give every AppRole service a new secret_id (staged: .env, Vault path, restart, its login verified), revoke root tokens made during the response. Between containment and the rekey, the breach is assessed from the audit log (suspicious events, secrets read, affected tenants). Tenant rotation is not built yet.',
  version: 1,
  incidentKind: 'vault-breach',
  severity: 'critical',
  input: vaultBreachInput,
  rto: { containment: 5 * 60_000, assessment: 15 * 60_000, eradication: 30 * 60_000, recovery: 60 * 60_000 },
  assumes: [UNSEALED],
  targets: () => ['vault-cluster:provider'],
  entities: () => [{ type: 'vault-cluster', id: 'provider' }],
  connect: connectVault,
  disconnect: (deps) => deps.vault.close(),
  steps,
});
