import { randomBytes, randomUUID, scryptSync, timingSafeEqual } from 'node:crypto';
import { parseDuration, badRequest, boolField, intField, type LogicalRequest, type LogicalResponse, mountAccessor, multi, notFound, policyList, str, stringList, unsupportedOperation, unsupportedPath, uuid, VaultError } from './vault-http.ts';
import { DEFAULT_TTL, type TokenEntry, type TokenStore } from './vault-tokens.ts';

/**
 * Auth methods of the lab Vault: the `sys/auth` mount table (list, enable,
 * disable, tune), the token store's endpoints, and three methods with their
 * roles: AppRole (roles, role-id, secret-id, login), userpass (users,
 * login), JWT/OIDC (config and roles; no login). Disabling a mount drops
 * its roles and revokes every token issued through it, as Vault does.
 */

export const AUTH_TYPES = ['approle', 'userpass', 'jwt', 'oidc'] as const;
const VERSIONS: Record<string, string> = { token: 'v1.19.0+builtin.vault', approle: 'v1.19.0+builtin.vault', userpass: 'v1.19.0+builtin.vault', jwt: 'v0.23.0+builtin', oidc: 'v0.23.0+builtin' };

export interface AuthMount {
  readonly type: string;
  readonly accessor: string;
  readonly uuid: string;
  description: string;
  config: { default_lease_ttl: number; max_lease_ttl: number; token_type: string; force_no_cache: boolean };
  readonly roles: Map<string, Record<string, unknown>>;
  readonly secretIds: Map<string, { role: string; accessor: string; created: number; ttl: number }>;
  readonly users: Map<string, { hash: Buffer; salt: Buffer; fields: Record<string, unknown> }>; // scrypt, never the password
  jwtConfig: Record<string, unknown> | undefined;
}

export const mountVersion = (type: string): string => VERSIONS[type] ?? 'v1.19.0+builtin.vault';

/** Vault's tokenutil fields on a role or user: the token_* parameters with their defaults. */
function tokenFields(b: Record<string, unknown> | undefined, prev: Record<string, unknown> = {}): Record<string, unknown> {
  const has = (k: string) => b !== undefined && k in b;
  const policies = has('token_policies') ? policyList(b?.['token_policies']) : has('policies') ? policyList(b?.['policies']) : (prev['token_policies'] as string[] | undefined) ?? [];
  const ttl = has('token_ttl') ? parseDuration(b?.['token_ttl'], 'token_ttl') : (prev['token_ttl'] as number | undefined) ?? 0;
  const maxTtl = has('token_max_ttl') ? parseDuration(b?.['token_max_ttl'], 'token_max_ttl') : (prev['token_max_ttl'] as number | undefined) ?? 0;
  if (maxTtl > 0 && ttl > maxTtl) throw badRequest('\'token_ttl\' cannot be greater than \'token_max_ttl\'');
  return {
    token_bound_cidrs: has('token_bound_cidrs') ? stringList(b?.['token_bound_cidrs']) : prev['token_bound_cidrs'] ?? [],
    token_explicit_max_ttl: has('token_explicit_max_ttl') ? parseDuration(b?.['token_explicit_max_ttl'], 'token_explicit_max_ttl') : prev['token_explicit_max_ttl'] ?? 0,
    token_max_ttl: maxTtl, token_no_default_policy: has('token_no_default_policy') ? boolField(b?.['token_no_default_policy'], 'token_no_default_policy') : prev['token_no_default_policy'] ?? false,
    token_num_uses: has('token_num_uses') ? intField(b?.['token_num_uses'], 'token_num_uses') : prev['token_num_uses'] ?? 0,
    token_period: has('token_period') ? parseDuration(b?.['token_period'], 'token_period') : prev['token_period'] ?? 0,
    token_policies: policies, token_ttl: ttl, token_type: has('token_type') ? str(b?.['token_type']) : prev['token_type'] ?? 'default',
  };
}

function hashPassword(password: string, salt: Buffer = randomBytes(16)): { hash: Buffer; salt: Buffer } {
  return { hash: scryptSync(password, salt, 32), salt };
}

export class AuthMethods {
  readonly mounts = new Map<string, AuthMount>();
  readonly #tokens: TokenStore;

  constructor(tokens: TokenStore) {
    this.#tokens = tokens;
    this.#mount('token/', 'token', 'token based credentials');
  }

  #mount(path: string, type: string, description = ''): AuthMount {
    const m: AuthMount = {
      type, accessor: mountAccessor(`auth_${type}`), uuid: uuid(), description, config: { default_lease_ttl: 0, max_lease_ttl: 0, token_type: type === 'token' ? 'default-service' : 'default-service', force_no_cache: false },
      roles: new Map(), secretIds: new Map(), users: new Map(), jwtConfig: undefined,
    };
    this.mounts.set(path, m);
    return m;
  }

  /** The auth mount a request path falls under (`auth/approle/login` → `approle/`). */
  mountFor(path: string): { path: string; mount: AuthMount; rest: string } | undefined {
    const p = path.slice('auth/'.length);
    const key = [...this.mounts.keys()].filter((k) => `${p}/`.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    const mount = key === undefined ? undefined : this.mounts.get(key);
    return key === undefined || mount === undefined ? undefined : { path: key, mount, rest: p.slice(key.length) };
  }

  #describe(m: AuthMount): Record<string, unknown> {
    return {
      accessor: m.accessor, config: { ...m.config }, deprecation_status: 'supported', description: m.description, external_entropy_access: false, local: false,
      options: null, plugin_version: '', running_plugin_version: mountVersion(m.type), running_sha256: '', seal_wrap: false, type: m.type, uuid: m.uuid,
    };
  }

  /** sys/auth and sys/auth/<path>[/tune]. */
  sys(req: LogicalRequest, rest: string): LogicalResponse {
    if (rest === '') {
      if (req.operation !== 'read') throw unsupportedOperation();
      return { data: Object.fromEntries([...this.mounts].map(([k, m]) => [k, this.#describe(m)])), topLevel: true };
    }
    const tune = rest.endsWith('/tune');
    const path = `${(tune ? rest.slice(0, -'/tune'.length) : rest).replace(/\/$/, '')}/`;
    const m = this.mounts.get(path);
    if (tune) {
      if (req.operation !== 'read' && req.operation !== 'update') throw unsupportedOperation();
      if (m === undefined) throw badRequest(`cannot fetch sysview for path "auth/${path}"`);
      if (req.operation === 'read') {
        return { data: { default_lease_ttl: m.config.default_lease_ttl || DEFAULT_TTL, max_lease_ttl: m.config.max_lease_ttl || DEFAULT_TTL, force_no_cache: false, token_type: m.config.token_type, description: m.description } };
      }
      const d = req.data ?? {};
      if ('default_lease_ttl' in d) m.config.default_lease_ttl = parseDuration(d['default_lease_ttl'], 'default_lease_ttl');
      if ('max_lease_ttl' in d) m.config.max_lease_ttl = parseDuration(d['max_lease_ttl'], 'max_lease_ttl');
      if (typeof d['description'] === 'string') m.description = d['description'];
      if (typeof d['token_type'] === 'string') m.config.token_type = d['token_type'];
      return {};
    }
    if (!['read', 'delete', 'update', 'create'].includes(req.operation)) throw unsupportedOperation();
    if (req.operation === 'read') {
      if (m === undefined) throw badRequest(`No auth engine at auth/${path}`);
      return { data: this.#describe(m) };
    }
    if (req.operation === 'delete') {
      if (path === 'token/') throw badRequest('token credential backend cannot be disabled');
      if (m !== undefined) {
        // Vault revokes every lease and token under the mount, then drops its storage (roles, users, config).
        this.#tokens.revokePrefix(`auth/${path}`);
        this.mounts.delete(path);
      }
      return {};
    }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const type = str(req.data?.['type'] ?? '');
    if (type === '') throw badRequest('backend type must be specified as a string');
    if (m !== undefined || [...this.mounts.keys()].some((k) => k.startsWith(path) || path.startsWith(k))) throw badRequest(`path is already in use at ${path}`);
    if (!(AUTH_TYPES as readonly string[]).includes(type)) throw badRequest(`plugin not found in the catalog: ${type}`);
    const created = this.#mount(path, type, typeof req.data?.['description'] === 'string' ? req.data['description'] : '');
    const cfg = req.data?.['config'] as Record<string, unknown> | undefined;
    if (cfg !== undefined) {
      if ('default_lease_ttl' in cfg) created.config.default_lease_ttl = parseDuration(cfg['default_lease_ttl'], 'default_lease_ttl');
      if ('max_lease_ttl' in cfg) created.config.max_lease_ttl = parseDuration(cfg['max_lease_ttl'], 'max_lease_ttl');
    }
    return {};
  }

  /** A request under auth/<mount>/. */
  handle(req: LogicalRequest, caller: TokenEntry | undefined): LogicalResponse {
    const at = this.mountFor(req.path);
    if (at === undefined) throw new VaultError(404, [`no handler for route ${JSON.stringify(req.path)}. route entry not found.`]);
    const { mount, rest } = at;
    if (mount.type === 'token') return this.#token(req, rest, caller);
    if (mount.type === 'approle') return this.#approle(req, at.path, mount, rest);
    if (mount.type === 'userpass') return this.#userpass(req, at.path, mount, rest);
    return this.#jwt(req, mount, rest);
  }

  /** The paths of a mount that need no token (Vault's PathsSpecial.Unauthenticated). */
  static isLogin(type: string, rest: string): boolean {
    return (type === 'approle' && rest === 'login') || (type === 'userpass' && rest.startsWith('login/')) || ((type === 'jwt' || type === 'oidc') && (rest === 'login' || rest.startsWith('oidc/')));
  }

  #list<T>(req: LogicalRequest, m: Map<string, T>): LogicalResponse {
    if (req.operation !== 'list') throw unsupportedOperation();
    if (m.size === 0) throw notFound();
    return { data: { keys: [...m.keys()].sort() } };
  }

  #login(mountPath: string, path: string, fields: Record<string, unknown>, displayName: string, meta: Record<string, string>): LogicalResponse {
    const policies = fields['token_policies'] as string[];
    const t = this.#tokens.issue({ policies, path: `auth/${mountPath}${path}`, displayName, meta, ttl: Number(fields['token_ttl'] ?? 0), noDefault: fields['token_no_default_policy'] === true });
    const tokenPolicies = [...new Set([...policies, ...(fields['token_no_default_policy'] === true ? [] : ['default'])])].sort();
    return { auth: this.#tokens.authBlock(t, tokenPolicies) };
  }

  #approle(req: LogicalRequest, mountPath: string, m: AuthMount, rest: string): LogicalResponse {
    if (rest === 'login') {
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const roleId = str(req.data?.['role_id'] ?? '');
      if (roleId === '') throw badRequest('missing role_id');
      const entry = [...m.roles].find(([, r]) => r['role_id'] === roleId);
      if (entry === undefined) throw badRequest('invalid role or secret ID');
      const [name, role] = entry;
      if (role['bind_secret_id'] === true) {
        const sid = str(req.data?.['secret_id'] ?? '');
        if (sid === '') throw badRequest('missing secret_id');
        const s = m.secretIds.get(sid);
        if (s === undefined || s.role !== name || (s.ttl > 0 && Date.now() > s.created + s.ttl * 1000)) throw badRequest('invalid role or secret ID');
      }
      return this.#login(mountPath, 'login', role, 'approle', { role_name: name });
    }
    if (rest === 'role' || rest === 'role/') return this.#list(req, m.roles);
    const parts = /^role\/([^/]+)(?:\/(role-id|secret-id|secret-id\/|custom-secret-id|secret-id\/lookup|secret-id\/destroy))?$/.exec(rest);
    if (parts === null) throw unsupportedPath();
    const name = (parts[1] ?? '').toLowerCase();
    const role = m.roles.get(name);
    const sub = parts[2];
    if (sub === undefined) {
      if (req.operation === 'read') {
        if (role === undefined) throw notFound();
        const shown = Object.fromEntries(Object.entries(role).filter(([k]) => k !== 'role_id'));
        return { data: { ...shown, policies: shown['token_policies'], period: shown['token_period'] } };
      }
      if (req.operation === 'delete') { m.roles.delete(name); for (const [k, s] of m.secretIds) if (s.role === name) m.secretIds.delete(k); return {}; }
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const d = req.data ?? {};
      m.roles.set(name, {
        bind_secret_id: 'bind_secret_id' in d ? boolField(d['bind_secret_id'], 'bind_secret_id') : role?.['bind_secret_id'] ?? true,
        local_secret_ids: false, secret_id_bound_cidrs: [], secret_id_num_uses: intField(d['secret_id_num_uses'], 'secret_id_num_uses', Number(role?.['secret_id_num_uses'] ?? 0)),
        secret_id_ttl: 'secret_id_ttl' in d ? parseDuration(d['secret_id_ttl'], 'secret_id_ttl') : role?.['secret_id_ttl'] ?? 0,
        ...tokenFields(d, role), role_id: typeof d['role_id'] === 'string' && d['role_id'] !== '' ? d['role_id'] : role?.['role_id'] ?? randomUUID(),
      });
      return {};
    }
    // Lookup and destroy fail inside Vault for a missing role (a plain error: 500); the others refuse the request (400).
    if (role === undefined) throw sub === 'secret-id/lookup' || sub === 'secret-id/destroy' ? new VaultError(500, [multi(`role "${name}" does not exist`)]) : badRequest(`role "${name}" does not exist`);
    if (sub === 'secret-id/lookup' || sub === 'secret-id/destroy') return this.#secretIdByValue(req, m, name, sub);
    if (sub === 'role-id') {
      if (req.operation === 'read') return { data: { role_id: role['role_id'] } };
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const id = str(req.data?.['role_id'] ?? '');
      if (id === '') throw badRequest('missing role_id');
      role['role_id'] = id;
      return {};
    }
    if (sub === 'secret-id/') {
      const ids = new Map([...m.secretIds.values()].filter((s) => s.role === name).map((s) => [s.accessor, s]));
      return this.#list(req, ids);
    }
    if (req.operation === 'list') {
      const ids = new Map([...m.secretIds.values()].filter((s) => s.role === name).map((s) => [s.accessor, s]));
      return this.#list(req, ids);
    }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    let secretId: string = randomUUID();
    if (sub === 'custom-secret-id') {
      secretId = str(req.data?.['secret_id'] ?? '');
      if (secretId === '') throw badRequest('missing secret_id');
      // registerSecretIDEntry: a plain error, so Vault answers 500.
      if (m.secretIds.has(secretId)) throw new VaultError(500, [multi('SecretID is already registered')]);
    }
    const accessor = randomUUID();
    const ttl = Number(role['secret_id_ttl'] ?? 0);
    m.secretIds.set(secretId, { role: name, accessor, created: Date.now(), ttl });
    return { data: { secret_id: secretId, secret_id_accessor: accessor, secret_id_num_uses: Number(role['secret_id_num_uses'] ?? 0), secret_id_ttl: ttl } };
  }

  /** `secret-id/lookup` (its properties, or 204 when the role holds no such secret_id) and `secret-id/destroy` (204 either way). */
  #secretIdByValue(req: LogicalRequest, m: AuthMount, role: string, sub: 'secret-id/lookup' | 'secret-id/destroy'): LogicalResponse {
    if (sub === 'secret-id/destroy' ? req.operation !== 'update' && req.operation !== 'create' && req.operation !== 'delete' : req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const sid = str(req.data?.['secret_id'] ?? '');
    if (sid === '') throw badRequest('missing secret_id');
    const s = m.secretIds.get(sid);
    if (s === undefined || s.role !== role) return {};
    if (sub === 'secret-id/destroy') { m.secretIds.delete(sid); return {}; }
    const created = new Date(s.created).toISOString();
    return {
      data: {
        secret_id_accessor: s.accessor, secret_id_num_uses: 0, secret_id_ttl: s.ttl, creation_time: created, last_updated_time: created,
        expiration_time: s.ttl > 0 ? new Date(s.created + s.ttl * 1000).toISOString() : '0001-01-01T00:00:00Z', metadata: {}, cidr_list: [], token_bound_cidrs: [],
      },
    };
  }

  #userpass(req: LogicalRequest, mountPath: string, m: AuthMount, rest: string): LogicalResponse {
    const login = /^login\/([^/]+)$/.exec(rest);
    if (login !== null) {
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const name = (login[1] ?? '').toLowerCase();
      const u = m.users.get(name);
      const password = str(req.data?.['password'] ?? '');
      if (password === '') throw badRequest('missing password');
      if (u === undefined || !timingSafeEqual(hashPassword(password, u.salt).hash, u.hash)) throw badRequest('invalid username or password');
      return this.#login(mountPath, `login/${name}`, u.fields, `userpass-${name}`, { username: name });
    }
    if (rest === 'users' || rest === 'users/') return this.#list(req, m.users);
    const user = /^users\/([^/]+)(\/password)?$/.exec(rest);
    if (user === null) throw unsupportedPath();
    const name = (user[1] ?? '').toLowerCase();
    const u = m.users.get(name);
    if (user[2] !== undefined) {
      if (u === undefined) throw badRequest('username does not exist');
      const pw = str(req.data?.['password'] ?? '');
      if (pw === '') throw badRequest('missing password');
      Object.assign(u, hashPassword(pw));
      return {};
    }
    if (req.operation === 'read') { if (u === undefined) throw notFound(); return { data: { ...u.fields, policies: u.fields['token_policies'] } }; }
    if (req.operation === 'delete') { m.users.delete(name); return {}; }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const pw = req.data?.['password'];
    if (u === undefined && (typeof pw !== 'string' || pw === '')) throw badRequest('missing password');
    const secret = typeof pw === 'string' && pw !== '' ? hashPassword(pw) : { hash: u?.hash ?? Buffer.alloc(0), salt: u?.salt ?? Buffer.alloc(0) };
    m.users.set(name, { ...secret, fields: tokenFields(req.data, u?.fields) });
    return {};
  }

  #jwt(req: LogicalRequest, m: AuthMount, rest: string): LogicalResponse {
    if (rest === 'config') {
      if (req.operation === 'read') {
        if (m.jwtConfig === undefined) throw notFound();
        return { data: { ...m.jwtConfig } };
      }
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const d = req.data ?? {};
      const sources = ['oidc_discovery_url', 'jwks_url', 'jwt_validation_pubkeys'].filter((k) => d[k] !== undefined && d[k] !== '' && !(Array.isArray(d[k]) && d[k].length === 0));
      if (sources.length !== 1) throw badRequest('exactly one of \'jwt_validation_pubkeys\', \'jwks_url\' or \'oidc_discovery_url\' must be set');
      m.jwtConfig = {
        bound_issuer: str(d['bound_issuer'] ?? ''), default_role: str(d['default_role'] ?? ''), jwks_ca_pem: str(d['jwks_ca_pem'] ?? ''), jwks_url: str(d['jwks_url'] ?? ''),
        jwt_supported_algs: stringList(d['jwt_supported_algs']), jwt_validation_pubkeys: stringList(d['jwt_validation_pubkeys']), namespace_in_state: true,
        oidc_client_id: str(d['oidc_client_id'] ?? ''), oidc_discovery_ca_pem: str(d['oidc_discovery_ca_pem'] ?? ''), oidc_discovery_url: str(d['oidc_discovery_url'] ?? ''),
        oidc_response_mode: '', oidc_response_types: [], provider_config: {},
      };
      return {};
    }
    if (rest === 'login') throw badRequest('login with a JWT is not supported by the lab Vault');
    if (rest === 'role' || rest === 'role/') return this.#list(req, m.roles);
    const role = /^role\/([^/]+)$/.exec(rest);
    if (role === null) throw unsupportedPath();
    const name = (role[1] ?? '').toLowerCase();
    const prev = m.roles.get(name);
    if (req.operation === 'read') { if (prev === undefined) throw notFound(); return { data: { ...prev, policies: prev['token_policies'] } }; }
    if (req.operation === 'delete') { m.roles.delete(name); return {}; }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const d = req.data ?? {};
    const userClaim = str(d['user_claim'] ?? prev?.['user_claim'] ?? '');
    if (userClaim === '') throw badRequest('a user claim must be defined on the role');
    const roleType = str(d['role_type'] ?? prev?.['role_type'] ?? (m.type === 'oidc' ? 'oidc' : 'jwt'));
    const audiences = 'bound_audiences' in d ? stringList(d['bound_audiences']) : (prev?.['bound_audiences'] as string[] | undefined) ?? [];
    const claims = (d['bound_claims'] ?? prev?.['bound_claims'] ?? null) as Record<string, unknown> | null;
    if (roleType === 'jwt' && audiences.length === 0 && str(d['bound_subject'] ?? prev?.['bound_subject'] ?? '') === '' && claims === null) {
      throw badRequest('must have at least one bound constraint when creating/updating a role');
    }
    m.roles.set(name, {
      role_type: roleType, bound_audiences: audiences, bound_subject: str(d['bound_subject'] ?? prev?.['bound_subject'] ?? ''), bound_claims: claims,
      bound_claims_type: str(d['bound_claims_type'] ?? prev?.['bound_claims_type'] ?? 'string'), claim_mappings: d['claim_mappings'] ?? prev?.['claim_mappings'] ?? null,
      user_claim: userClaim, groups_claim: str(d['groups_claim'] ?? prev?.['groups_claim'] ?? ''), allowed_redirect_uris: stringList(d['allowed_redirect_uris'] ?? prev?.['allowed_redirect_uris']),
      clock_skew_leeway: 0, expiration_leeway: 0, not_before_leeway: 0, verbose_oidc_logging: false, oidc_scopes: stringList(d['oidc_scopes'] ?? prev?.['oidc_scopes']),
      ...tokenFields(d, prev),
    });
    return {};
  }

  /** The token store (auth/token/…). */
  #token(req: LogicalRequest, rest: string, caller: TokenEntry | undefined): LogicalResponse {
    const t = this.#tokens;
    const d = req.data ?? {};
    const self = caller ?? (() => { throw new VaultError(403, ['permission denied']); })();
    const needWrite = () => { if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation(); };
    switch (rest) {
      case 'lookup-self':
        if (req.operation !== 'read' && req.operation !== 'update') throw unsupportedOperation();
        return { data: t.lookupData(self) };
      case 'lookup': {
        const target = t.lookup(typeof d['token'] === 'string' ? d['token'] : self.id);
        if (target === undefined) throw new VaultError(403, ['bad token']);
        return { data: t.lookupData(target) };
      }
      case 'lookup-accessor': {
        needWrite();
        const id = t.byAccessor.get(str(d['accessor'] ?? ''));
        const target = t.lookup(id);
        if (target === undefined) throw badRequest('invalid accessor');
        return { data: { ...t.lookupData(target), id: '' } };
      }
      case 'create': case 'create-orphan': {
        needWrite();
        const ttl = parseDuration(d['ttl'], 'ttl');
        const entry = t.create(self, d, policyList(d['policies']), ttl, rest === 'create-orphan' || d['no_parent'] === true);
        return { auth: t.authBlock(entry) };
      }
      case 'revoke': needWrite(); t.revoke(str(d['token'] ?? '')); return {};
      case 'revoke-orphan': needWrite(); t.revoke(str(d['token'] ?? ''), true); return {};
      case 'revoke-self': needWrite(); t.revoke(self.id); return {};
      case 'revoke-accessor': {
        needWrite();
        const id = t.byAccessor.get(str(d['accessor'] ?? ''));
        if (id === undefined) throw badRequest('invalid accessor');
        t.revoke(id);
        return {};
      }
      case 'accessors': case 'accessors/':
        if (req.operation !== 'list') throw unsupportedOperation();
        return { data: { keys: [...t.byAccessor.keys()].sort() } };
      default: throw unsupportedPath();
    }
  }
}
