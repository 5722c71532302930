import { createHash } from 'node:crypto';
import { badRequest, newAccessor, newToken, type Operation, permissionDenied, str, VaultError } from './vault-http.ts';

/**
 * Tokens and a minimal ACL for the lab Vault.
 *
 * Simplified, on purpose:
 * - Policies are stored as the HCL text given; only `path "<glob>" {
 *   capabilities = [...] }` blocks are read. A glob is an exact path, a
 *   trailing `*` (prefix) or `+` (one segment); the most specific match wins
 *   by length (Vault's full priority rules, templating, parameters,
 *   min/max_wrapping_ttl and control groups are not modelled). `deny` wins
 *   within the chosen rules.
 * - Capabilities come from the operation (create / update are both accepted
 *   for writes whose existence is not checked).
 * - Tokens are service tokens only (no batch tokens), no num_uses, no
 *   periodic tokens, no renewal beyond what lookup shows; leases other than
 *   tokens do not exist.
 */

/** Vault's default lease TTL and max (768h). */
export const DEFAULT_TTL = 2_764_800;

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly parent: string | undefined;
  /** Where it was made: `auth/token/root`, `auth/token/create`, `auth/<mount>/login[/<user>]`. */
  readonly path: string;
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly ttl: number;
  readonly creationTime: number;
  readonly orphan: boolean;
  readonly entityId: string;
}

const DEFAULT_POLICY = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to renew a lease via lease_id in the request body
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}
`;

interface Rule { readonly glob: string; readonly caps: ReadonlySet<string> }

/** The `path "…" { capabilities = [...] }` blocks of an HCL policy; a text that has none parses to no rules. */
export function parsePolicy(hcl: string): Rule[] {
  const rules: Rule[] = [];
  const re = /path\s+"([^"]*)"\s*\{([^}]*)\}/g;
  for (let m = re.exec(hcl); m !== null; m = re.exec(hcl)) {
    const caps = /capabilities\s*=\s*\[([^\]]*)\]/.exec(m[2] ?? '');
    rules.push({ glob: m[1] ?? '', caps: new Set([...(caps?.[1] ?? '').matchAll(/"([^"]*)"/g)].map((c) => c[1] ?? '')) });
  }
  return rules;
}

function globMatches(glob: string, path: string): boolean {
  const prefix = glob.endsWith('*');
  const body = prefix ? glob.slice(0, -1) : glob;
  const re = new RegExp(`^${body.split('+').map((s) => s.replace(/[.*?^${}()|[\]\\]/g, '\\$&')).join('[^/]+')}${prefix ? '' : '$'}`);
  return re.test(path);
}

/** The capability an operation needs (vault/acl.go operationToCapability). */
const CAPABILITY: Record<Operation, string> = { read: 'read', list: 'list', update: 'update', create: 'create', delete: 'delete', patch: 'patch' };

export class TokenStore {
  readonly tokens = new Map<string, TokenEntry>();
  readonly byAccessor = new Map<string, string>();
  readonly policies = new Map<string, string>([['default', DEFAULT_POLICY]]);

  /** The root token made at init or by generate-root (path auth/token/root, no TTL). */
  createRoot(): TokenEntry {
    return this.#store({ id: newToken(), accessor: newAccessor(), policies: ['root'], parent: undefined, path: 'auth/token/root', displayName: 'root', meta: null, ttl: 0, creationTime: Date.now(), orphan: true, entityId: '' });
  }

  /** A token issued by an auth mount's login, or by auth/token/create. */
  issue(o: { policies: readonly string[]; path: string; displayName: string; parent?: TokenEntry; meta?: Record<string, string>; ttl?: number; noDefault?: boolean; orphan?: boolean }): TokenEntry {
    const policies = [...new Set([...o.policies, ...(o.noDefault === true || o.policies.includes('root') ? [] : ['default'])])].sort();
    return this.#store({
      id: newToken(), accessor: newAccessor(), policies, parent: o.orphan === true ? undefined : o.parent?.id, path: o.path, displayName: o.displayName,
      meta: o.meta ?? null, ttl: o.ttl === undefined || o.ttl === 0 ? DEFAULT_TTL : o.ttl, creationTime: Date.now(), orphan: o.orphan === true || o.parent === undefined, entityId: '',
    });
  }

  #store(t: TokenEntry): TokenEntry {
    this.tokens.set(t.id, t);
    this.byAccessor.set(t.accessor, t.id);
    return t;
  }

  /** A live token (an expired one is gone, as Vault's expiration manager would have revoked it). */
  lookup(id: string | undefined): TokenEntry | undefined {
    if (id === undefined) return undefined;
    const t = this.tokens.get(id);
    if (t !== undefined && t.ttl > 0 && Date.now() > t.creationTime + t.ttl * 1000) { this.revoke(t.id); return undefined; }
    return t;
  }

  /** Revokes a token and, unless `orphan`, its whole tree of children. Returns how many were revoked. */
  revoke(id: string, orphan = false): number {
    const t = this.tokens.get(id);
    if (t === undefined) return 0;
    this.tokens.delete(id);
    this.byAccessor.delete(t.accessor);
    let n = 1;
    for (const c of [...this.tokens.values()].filter((x) => x.parent === id)) {
      if (orphan) this.tokens.set(c.id, { ...c, parent: undefined, orphan: true });
      else n += this.revoke(c.id);
    }
    return n;
  }

  /** sys/leases/revoke-prefix: every token whose creation path starts with the prefix, with its children. */
  revokePrefix(prefix: string): number {
    let n = 0;
    for (const t of [...this.tokens.values()]) if (t.path.startsWith(prefix) && this.tokens.has(t.id)) n += this.revoke(t.id);
    return n;
  }

  /** Vault's client id for a token without an entity: base64 sha256 of its sorted policies and namespace. */
  clientId(t: TokenEntry): string {
    return createHash('sha256').update([...t.policies].sort().join('') + 'root').digest('base64');
  }

  /** The ACL check (vault/request_handling.go checkToken): throws Vault's error, returns the granting policies. */
  authorize(token: string | undefined, path: string, op: Operation, sudo: boolean): { entry: TokenEntry; granting: string[] } {
    if (token === undefined || token === '') throw new VaultError(400, ['missing client token']);
    const entry = this.lookup(token);
    if (entry === undefined) throw new VaultError(403, ['permission denied']);
    if (entry.policies.includes('root')) return { entry, granting: ['root'] };
    const need = CAPABILITY[op];
    const matches: { policy: string; rule: Rule }[] = [];
    for (const p of entry.policies) for (const rule of parsePolicy(this.policies.get(p) ?? '')) if (globMatches(rule.glob, path)) matches.push({ policy: p, rule });
    if (matches.length === 0) throw permissionDenied();
    const longest = Math.max(...matches.map((m) => m.rule.glob.length));
    const chosen = matches.filter((m) => m.rule.glob.length === longest);
    const caps = new Set(chosen.flatMap((m) => [...m.rule.caps]));
    const writeOk = (op === 'update' || op === 'create') && (caps.has('update') || caps.has('create'));
    if (caps.has('deny') || (!caps.has(need) && !writeOk) || (sudo && !caps.has('sudo'))) throw permissionDenied();
    return { entry, granting: [...new Set(chosen.map((m) => m.policy))].sort() };
  }

  /** The data of auth/token/lookup(-self) for one token. */
  lookupData(t: TokenEntry): Record<string, unknown> {
    const remaining = t.ttl === 0 ? 0 : Math.max(0, Math.round(t.ttl - (Date.now() - t.creationTime) / 1000));
    return {
      accessor: t.accessor, creation_time: Math.floor(t.creationTime / 1000), creation_ttl: t.ttl, display_name: t.displayName, entity_id: t.entityId,
      expire_time: t.ttl === 0 ? null : new Date(t.creationTime + t.ttl * 1000).toISOString(), explicit_max_ttl: 0, id: t.id,
      ...(t.ttl === 0 ? {} : { issue_time: new Date(t.creationTime).toISOString() }),
      meta: t.meta, num_uses: 0, orphan: t.orphan, path: t.path, policies: t.policies, renewable: t.ttl !== 0, ttl: remaining, type: 'service',
    };
  }

  /** The `auth` block of a login or token-create response. */
  authBlock(t: TokenEntry, tokenPolicies?: readonly string[]): Record<string, unknown> {
    return {
      client_token: t.id, accessor: t.accessor, policies: t.policies, token_policies: tokenPolicies ?? t.policies, metadata: t.meta,
      lease_duration: t.ttl, renewable: t.ttl !== 0, entity_id: t.entityId, token_type: 'service', orphan: t.orphan, mfa_requirement: null, num_uses: 0,
    };
  }

  /** POST auth/token/create (token_store.go handleCreateCommon, the parts used here). */
  create(parent: TokenEntry, body: Record<string, unknown> | undefined, policies: readonly string[], ttl: number, orphan: boolean): TokenEntry {
    const parentIsRoot = parent.policies.includes('root');
    const wanted = policies.length === 0 ? parent.policies.filter((p) => p !== 'root' || parentIsRoot) : policies;
    if (!parentIsRoot && wanted.some((p) => p !== 'default' && !parent.policies.includes(p))) throw badRequest('child policies must be subset of parent');
    if (orphan && !parentIsRoot) throw badRequest('root or sudo privileges required to create orphan token');
    const meta = typeof body?.['meta'] === 'object' && body['meta'] !== null ? Object.fromEntries(Object.entries(body['meta'] as Record<string, unknown>).map(([k, v]) => [k, str(v)])) : undefined;
    const name = typeof body?.['display_name'] === 'string' && body['display_name'] !== '' ? `token-${body['display_name']}` : 'token';
    return this.issue({ policies: wanted, path: 'auth/token/create', displayName: name, parent, ...(meta === undefined ? {} : { meta }), ttl: ttl === 0 && parentIsRoot ? DEFAULT_TTL : ttl, noDefault: body?.['no_default_policy'] === true, orphan });
  }
}
