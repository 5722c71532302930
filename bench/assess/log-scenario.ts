// The everyday traffic of the synthetic Vault audit log: services reading
// their secrets, people using the CLI, a tenant provisioner writing (never
// reading) tenants' secrets, logins, transit, PKI, database leases, and the
// errors of every kind docs/assess.md names. Response bodies take the shapes of
// the real lines (L<n>), with new hashed values. The breach is log-breach.ts.
import { Actors, from, type Actor } from './log-actors.ts';
import type { Op } from './log-ops.ts';
import { hex, type Hashes, type Rng } from './log-random.ts';
import { rehash, sortKeys, type Era, type Json, type Mount, type Obj, type Templates } from './log-templates.ts';

const kvMount = (point: string, accessor: string): Mount => ({ type: 'kv', point, accessor, core: false, cls: 'secret' });
const mount = (type: string, point: string, accessor: string, core: boolean, cls: 'secret' | 'auth'): Mount => ({ type, point, accessor, core, cls });
export const MOUNTS = {
  secret: kvMount('secret/', 'kv_d906bfe9'), kv: kvMount('kv/', 'kv_bf4b26f3'), apiKeys: kvMount('api_keys/', 'kv_5c1e07aa'), blue: kvMount('blue/kv/', 'kv_0046b77f'),
  sys: mount('system', 'sys/', 'system_ac732fc5', true, 'secret'), token: mount('token', 'auth/token/', 'auth_token_5be3eba0', true, 'auth'),
  userpass: mount('userpass', 'auth/userpass/', 'auth_userpass_9d1a2b3c', false, 'auth'), approle: mount('approle', 'auth/approle/', 'auth_approle_8e3308f6', false, 'auth'),
  jwt: mount('jwt', 'auth/jwt/', 'auth_jwt_ecc6d73c', false, 'auth'), transit: mount('transit', 'transit/', 'transit_4f1d2a9e', false, 'secret'),
  database: mount('database', 'database/', 'database_77b0c1d2', false, 'secret'), pki: mount('pki', 'pki_int/', 'pki_3e9a5b70', false, 'secret'),
  cubbyhole: mount('cubbyhole', 'cubbyhole/', 'cubbyhole_2e8f1c4d', true, 'secret'),
};

/** Error texts as Vault writes them (FORMAT.md §6), one at least for each kind of docs/assess.md. */
export const ERR = {
  denied: 'permission denied', deniedMulti: '1 error occurred:\n\t* permission denied\n\n', deniedV0: '1 error occurred:\n\n* permission denied',
  missing: 'missing client token', invalid: '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n', invalidOnly: 'invalid token',
  unsupported: '1 error occurred:\n\t* unsupported path\n\n', badLogin: 'invalid username or password', badRole: 'invalid role or secret ID',
  invalidRequest: '1 error occurred:\n\t* invalid request\n\n', wrapping: 'wrapping token is not valid or does not exist',
  converting: '1 error occurred:\n\t* error converting input for field "ttl": time: unknown unit "x" in duration "5x"\n\n',
  egp: '1 error occurred:\n\t* egp standard policy "root/business-hours" evaluation resulted in denial.\n\nThe specific error was:\n<nil>\n\n',
  rateLimit: 'request path "auth/userpass/login/admin": rate limit quota exceeded',
};

export const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'wonka', 'tyrell', 'cyberdyne', 'soylent', 'oscorp', 'vandelay', 'dunder', 'pied-piper', 'aperture', 'black-mesa', 'massive-dynamic', 'monarch', 'nakatomi', 'oceanic', 'prestige', 'sterling', 'virtucon', 'weyland', 'zorg', 'gringotts', 'kramerica', 'bluth', 'krusty', 'duff', 'ollivanders', 'paper-street', 'gekko', 'rekall', 'spacely', 'cogswell', 'yoyodyne', 'buynlarge', 'contoso'];
const APPS = ['billing', 'checkout', 'search', 'ledger', 'payments', 'notifications', 'catalog', 'inventory', 'shipping', 'auth-gateway', 'reporting', 'analytics', 'webhooks', 'scheduler', 'exporter', 'importer', 'mailer', 'pricing', 'recommendations', 'fraud', 'kyc', 'invoicing', 'subscriptions', 'support-portal', 'cms', 'media', 'geo', 'chat', 'audit-sink', 'feature-flags'].flatMap((a) => [`${a}-prod`, `${a}-staging`]);
export const KEYS = ['db', 'redis', 'stripe', 'smtp', 's3', 'oauth', 'jwt-signing', 'sentry'];
const TEAMS = ['platform', 'dataeng', 'mobile', 'web', 'sre', 'security', 'growth', 'infra', 'ml', 'qa', 'identity', 'search', 'ops', 'devex', 'edge', 'storage', 'network', 'compliance', 'finance', 'legal'];
export const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'zoë'];
const BLUE = { json: '{"id":"MDDzG","path":"blue/"}', path: 'blue/' };

export class Scenario {
  readonly actors: Actors;
  readonly apps: readonly { readonly app: string; readonly actor: Actor }[];
  readonly users: readonly { readonly user: string; readonly actor: Actor }[];
  private readonly k8s: readonly Actor[];
  readonly provisioner: Actor;
  readonly backup: Actor;
  readonly admin: Actor;
  readonly root: Actor;
  readonly anonLogin: Actor;
  readonly anonNone: Actor;
  private readonly expired: Actor;
  private readonly probe: Actor;
  /** Each tenant's API key ids (`api_keys/<tenant>/<id>`, a KV v1 mount). */
  readonly apiKeys = new Map<string, string[]>();
  private readonly bodies = new Map<string, string>();
  private readonly mix: readonly (readonly [number, (era: Era) => Op[]])[];
  private readonly weight: number;

  readonly t: Templates;
  readonly h: Hashes;
  readonly rng: Rng;

  constructor(t: Templates, h: Hashes, rng: Rng) {
    this.t = t;
    this.h = h;
    this.rng = rng;
    const a = this.actors = new Actors(t, h, rng);
    const net = (prefix: string, n: number) => Array.from({ length: n }, () => `${prefix}.${rng.int(250) + 2}`);
    this.apps = APPS.map((app) => ({ app, actor: a.token(app, { display: 'approle', policies: ['default', `app-${app}`], metadata: { role_name: app }, entity: true, ttl: 3600, remotes: net(`10.20.${rng.int(30)}`, 2) }) }));
    this.k8s = ['checkout', 'search', 'billing', 'mailer', 'geo', 'chat'].map((ns) => a.token(ns, { display: `kubernetes-${ns}-default`, policies: ['default', `k8s-${ns}`], batch: true, metadata: { role: ns, service_account_name: 'default', service_account_namespace: ns }, remotes: net('10.84.3', 3) }));
    this.users = USERS.map((user, i) => ({ user, actor: a.token(user, { display: `userpass-${user}`, policies: ['default', 'ops'], metadata: { username: user }, entity: true, ttl: 2764800, remotes: i % 5 === 4 ? ['2001:db8:10::15'] : net('192.168.10', 1) }) }));
    this.provisioner = a.token('provisioner', { display: 'approle', policies: ['default', 'tenant-writer'], metadata: { role_name: 'tenant-provisioner' }, entity: true, ttl: 3600, remotes: ['10.20.40.7'] });
    this.backup = a.token('backup', { display: 'token-backup', policies: ['backup'], ttl: 86400, remotes: ['10.20.41.9'] });
    this.admin = a.token('admin', { display: 'userpass-ops-admin', policies: ['default', 'vault-admin'], metadata: { username: 'ops-admin' }, entity: true, ttl: 3600, remotes: ['192.168.10.5'] });
    this.root = a.token('root', { display: 'root', policies: ['root'], remotes: ['127.0.0.1'] });
    this.anonLogin = a.anonymous('anon-login', 'login', [...net('10.20.7', 4), ...net('192.168.10', 4)]);
    this.anonNone = a.anonymous('anon', 'none', net('10.20.9', 3));
    this.expired = a.anonymous('expired', 'expired', net('10.20.12', 2));
    this.probe = a.anonymous('probe', 'probe', []);
    for (const tn of TENANTS) this.apiKeys.set(tn, [0, 1, 2].map(() => `ak_${hex(rng, 6)}`));
    this.mix = [
      [30, (era) => this.appRead(era)], [10, (era) => this.appKv1(era)], [6, (era) => this.batchRead(era)], [8, (era) => this.tokenSelf(era)],
      [8, (era) => this.cli(era)], [5, (era) => this.provision(era)], [8, (era) => this.transit(era)], [3, (era) => this.dbCreds(era)],
      [2, (era) => [{ actor: this.app().actor, operation: 'update', path: 'pki_int/issue/web', mount: MOUNTS.pki, data: this.reqData(), body: this.sample('pki', era, MOUNTS.pki, 625) }]],
      [6, (era) => this.login(era)], [2, (era) => [{ actor: this.user(), operation: 'update', path: 'sys/capabilities-self', mount: MOUNTS.sys, data: `{"paths":["${this.h.any()}"]}`, body: this.sample('caps', era, MOUNTS.sys, 14) }]],
      [0.5, (era) => [{ actor: this.app().actor, operation: 'read', path: 'cubbyhole/response', mount: MOUNTS.cubbyhole, body: this.sample('kv1', era, MOUNTS.cubbyhole, 26) }]],
      [1.5, (era) => this.sysAdmin(era)], [1.3, (era) => this.errors(era)],
      [0.3, (era) => this.help(era)],
    ];
    this.weight = this.mix.reduce((s, [w]) => s + w, 0);
  }

  /** One burst of everyday traffic. */
  benign(era: Era): Op[] {
    let x = (this.rng.u32() / 4294967296) * this.weight;
    for (const [w, f] of this.mix) if ((x -= w) < 0) return f(era);
    return this.appRead(era);
  }

  app() { return this.rng.pick(this.apps); }
  user(): Actor { return this.rng.pick(this.users).actor; }

  /** Raw JSON, one of a few variants per key (the same plaintext, the same HMAC: a few variants are realistic). */
  private cached(key: string, make: () => string, variants: number): string {
    const k = `${key}|${this.rng.int(variants)}`;
    let s = this.bodies.get(k);
    if (s === undefined) this.bodies.set(k, s = make());
    return s;
  }

  /** A response body (raw JSON), one of a few variants per kind, era and mount. */
  body(kind: string, era: Era, m: Mount | null, make: () => Obj, variants = 8): string {
    return this.cached(`${kind}|${era}|${m?.point ?? ''}`, () => this.t.response(era, m, make()), variants);
  }

  /** A `request.data` map (raw JSON, keys sorted as Go writes a map). */
  data(kind: string, make: () => Obj): string {
    return this.cached(`data-${kind}`, () => JSON.stringify(sortKeys(make())), 8);
  }

  /** The response of real line n, its hashed values replaced (and L47's KV v2 read, L26's KV v1 read, L8's 0.x read). */
  sample(kind: string, era: Era, m: Mount | null, n: number): string {
    return this.body(kind, era, m, () => {
      const r = this.t.samples.get(era === 'v0' && n === 26 ? 8 : n, 'response');
      const o: Obj = {};
      for (const k of ['auth', 'secret', 'data', 'wrap_info']) if (k in r) o[k] = rehash(r[k] ?? null, this.h);
      return o;
    });
  }

  reqData(): string { return this.data('issue', () => ({ common_name: this.h.any(), ttl: this.h.any() })); }
  kv2(era: Era, m: Mount = MOUNTS.secret): string { return this.sample('kv2', era, m, 47); }
  list(era: Era, m: Mount, n: number): string { return this.body(`list${n}`, era, m, () => ({ data: { keys: Array.from({ length: n }, () => this.h.any()) } })); }
  /** The caller's own token block in `response.auth` (a login, a renewal). */
  tokenAuth(era: Era, m: Mount, a: Actor): string { return this.body(`auth-${a.name}`, era, m, () => ({ auth: a.authObj[era] }), 1); }
  wrapped(era: Era, m: Mount, path: string): string {
    const w = rehash(this.t.samples.get(6, 'response', 'wrap_info'), this.h) as Obj;
    return this.t.response(era, m, { wrap_info: { ...w, ttl: 300, accessor: this.h.any(), creation_path: path, wrapped_accessor: '' } });
  }

  /** The same operation refused: the request entry's short error, the response's (multierror in 1.x), `allowed: false`. */
  refuse(era: Era, o: { readonly actor: Actor; readonly operation: string; readonly path: string; readonly mount: Mount | null }): Op {
    const body = this.rng.chance(0.5) ? { body: this.body('denied', era, o.mount, () => ({ data: rehash(this.t.samples.get(16, 'response', 'data'), this.h) })) } : {};
    return { ...o, ...body, reqError: ERR.denied, error: era === 'v0' ? ERR.deniedV0 : this.rng.chance(0.6) ? ERR.deniedMulti : ERR.denied, denied: era !== 'v0' };
  }

  /** `help` (`vault path-help`): no request.id (issue #32026), so its request and response are two operations. */
  private help(era: Era): Op[] {
    const [path, m] = this.rng.chance(0.5) ? ['pki_int/roles/web', MOUNTS.pki] : [`secret/data/apps/${this.app().app}/db`, MOUNTS.secret];
    return [{ actor: this.user(), operation: 'help', path, mount: m, emit: 'noid', body: this.body('help', era, m, () => ({ data: { help: this.h.any() } })) }];
  }

  private appRead(era: Era): Op[] {
    const { app, actor } = this.app();
    const path = `secret/data/apps/${app}/${this.rng.pick(KEYS)}`;
    if (this.rng.chance(0.03)) return [this.refuse(era, { actor, operation: 'read', path: `secret/data/apps/${this.app().app}/db`, mount: MOUNTS.secret })];
    if (era === 'v0' || !this.rng.chance(0.005)) return [{ actor, operation: 'read', path, mount: MOUNTS.secret, body: this.kv2(era), kv: 'read' }];
    // A wrapped read (FORMAT.md §7.2) is a read; the unwrap is an update on sys/.
    return [{ actor, operation: 'read', path, mount: MOUNTS.secret, wrap: 300, body: this.wrapped(era, MOUNTS.secret, path), kv: 'read' },
      { actor: this.rng.pick(this.k8s), operation: 'update', path: 'sys/wrapping/unwrap', mount: MOUNTS.sys, body: this.kv2(era, MOUNTS.sys) }];
  }

  /** KV v1 (`kv/<team>/<service>`): a secret read only where the entry names its mount (1.13+); 0.x entries do not. */
  private appKv1(era: Era): Op[] {
    const { actor } = this.app();
    const read: Op = { actor, operation: 'read', path: `kv/${this.rng.pick(TEAMS)}/${this.rng.pick(APPS)}`, mount: MOUNTS.kv, body: this.sample('kv1', era, MOUNTS.kv, 26) };
    return [era === 'v0' ? read : { ...read, kv: 'read' }];
  }

  private batchRead(era: Era): Op[] {
    const actor = era === 'v0' ? this.app().actor : this.rng.pick(this.k8s);
    return [{ actor, operation: 'read', path: `secret/data/apps/${this.app().app}/${this.rng.pick(KEYS)}`, mount: MOUNTS.secret, body: this.kv2(era), kv: 'read' }];
  }

  private tokenSelf(era: Era): Op[] {
    const { actor } = this.app();
    if (this.rng.chance(0.5)) return [{ actor, operation: 'read', path: 'auth/token/lookup-self', mount: MOUNTS.token, body: this.sample('lookup', era, MOUNTS.token, 4) }];
    return [{ actor, operation: 'update', path: 'auth/token/renew-self', mount: MOUNTS.token, data: `{"increment":"${this.h.any()}"}`, body: this.tokenAuth(era, MOUNTS.token, actor) }];
  }

  /** `vault kv get` and friends: the preflight, then the read, sometimes the metadata, a list, a put, another namespace. */
  private cli(era: Era): Op[] {
    const actor = this.user();
    const app = this.app().app;
    const key = this.rng.pick(KEYS);
    const ops: Op[] = [{ actor, operation: 'read', path: `sys/internal/ui/mounts/secret/apps/${app}/${key}`, mount: MOUNTS.sys, body: this.sample('preflight', era, MOUNTS.sys, 537) },
      { actor, operation: 'read', path: `secret/data/apps/${app}/${key}`, mount: MOUNTS.secret, body: this.kv2(era), kv: 'read' }];
    if (this.rng.chance(0.3)) ops.push({ actor, operation: 'read', path: `secret/metadata/apps/${app}/${key}`, mount: MOUNTS.secret, body: this.metadata(era) });
    if (this.rng.chance(0.2)) ops.push({ actor, operation: 'list', path: `secret/metadata/apps/${app}/`, mount: MOUNTS.secret, body: this.list(era, MOUNTS.secret, KEYS.length), kv: 'list' });
    if (era !== 'v0' && this.rng.chance(0.1)) ops.push({ actor, operation: 'list', path: `kv/${this.rng.pick(TEAMS)}/`, mount: MOUNTS.kv, body: this.list(era, MOUNTS.kv, 12), kv: 'list' });
    if (era !== 'v0' && this.rng.chance(0.05)) ops.push({ actor, operation: 'read', path: `kv/data/app/${key}`, ns: BLUE, mount: MOUNTS.blue, body: this.kv2(era, MOUNTS.blue), kv: 'read' });
    if (era === 'v2' && this.rng.chance(0.03)) ops.push({ actor, operation: 'list', path: 'secret/metadata/apps/', mount: MOUNTS.secret, body: this.body('elided', era, MOUNTS.secret, () => ({ data: { keys: APPS.length } })), kv: 'list' });
    if (this.rng.chance(0.03)) ops.push({ actor, operation: this.rng.chance(0.5) ? 'create' : 'update', path: `secret/data/apps/${app}/${key}`, mount: MOUNTS.secret, data: this.put(), body: this.sample('put', era, MOUNTS.secret, 581) });
    return ops;
  }

  metadata(era: Era): string {
    return this.body('metadata', era, MOUNTS.secret, () => ({ data: { cas_required: false, created_time: this.h.any(), current_version: 2, custom_metadata: null, delete_version_after: this.h.any(), max_versions: 0, oldest_version: 0, updated_time: this.h.any(), versions: { 1: { created_time: this.h.any(), deletion_time: this.h.any(), destroyed: false }, 2: { created_time: this.h.any(), deletion_time: this.h.any(), destroyed: false } } } }));
  }

  put(): string { return this.data('put', () => ({ data: { password: this.h.any(), username: this.h.any() }, options: {} })); }

  /** Writes tenants' secrets, reads their metadata (neither a read nor a list), never reads a value (one refused try). */
  private provision(era: Era): Op[] {
    const actor = this.provisioner;
    const tn = this.rng.pick(TENANTS);
    const key = this.rng.pick(KEYS);
    const ops: Op[] = [{ actor, operation: 'read', path: `sys/internal/ui/mounts/secret/tenants/${tn}/${key}`, mount: MOUNTS.sys, body: this.sample('preflight', era, MOUNTS.sys, 537) },
      { actor, operation: 'update', path: `secret/data/tenants/${tn}/${key}`, mount: MOUNTS.secret, data: this.put(), body: this.sample('put', era, MOUNTS.secret, 581) }];
    if (this.rng.chance(0.4)) ops.push({ actor, operation: 'read', path: `secret/metadata/tenants/${tn}/${key}`, mount: MOUNTS.secret, body: this.metadata(era) });
    if (this.rng.chance(0.3)) ops.push({ actor, operation: 'update', path: `api_keys/${tn}/${this.rng.pick(this.apiKeys.get(tn) ?? [])}`, mount: MOUNTS.apiKeys, data: `{"value":"${this.h.any()}"}` });
    if (this.rng.chance(0.02)) ops.push(this.refuse(era, { actor, operation: 'read', path: `secret/data/tenants/${tn}/${key}`, mount: MOUNTS.secret }));
    return ops;
  }

  private transit(era: Era): Op[] {
    const { app, actor } = this.app();
    const op: Op = { actor, operation: 'update', path: `transit/${this.rng.chance(0.5) ? 'encrypt' : 'decrypt'}/${app}`, mount: MOUNTS.transit, data: `{"plaintext":"${this.h.any()}"}`, body: this.sample('transit', era, MOUNTS.transit, 725) };
    return [this.rng.chance(0.01) ? { ...op, error: ERR.invalidRequest, body: this.body('denied', era, MOUNTS.transit, () => ({ data: { error: this.h.any() } })) } : op];
  }

  private dbCreds(era: Era): Op[] {
    const { app, actor } = this.app();
    const body = this.body('lease', era, MOUNTS.database, () => ({ secret: { lease_id: `database/creds/${app}/${hex(this.rng, 12)}` }, data: { password: this.h.any(), username: this.h.any() } }));
    return [{ actor, operation: 'read', path: `database/creds/${app}`, mount: MOUNTS.database, body }];
  }

  /** A userpass or approle login; a few fail (0.x approle: no error, only `response.data.error`, issue #3340). */
  login(era: Era, o: { readonly anon?: Actor; readonly who?: Actor; readonly userpass?: boolean; readonly fail?: boolean } = {}): Op[] {
    const up = o.userpass ?? this.rng.chance(0.5);
    const u = this.rng.pick(this.users);
    const actor = o.who ?? (up ? u.actor : this.app().actor);
    const m = up ? MOUNTS.userpass : MOUNTS.approle;
    const base = { actor: o.anon ?? this.anonLogin, operation: 'update', path: up ? `auth/userpass/login/${u.user}` : 'auth/approle/login', mount: m, data: up ? `{"password":"${this.h.any()}"}` : `{"role_id":"${this.h.any()}","secret_id":"${this.h.any()}"}` };
    if (!(o.fail ?? this.rng.chance(0.03))) return [{ ...base, respActor: actor, body: this.tokenAuth(era, m, actor), login: 'ok' }];
    const errBody = { body: this.body('denied', era, m, () => ({ data: { error: this.h.any() } })) };
    if (era === 'v0' && !up && this.rng.chance(0.5)) return [{ ...base, ...errBody, login: 'failed' }];
    return [{ ...base, ...errBody, error: up ? ERR.badLogin : ERR.badRole, login: 'failed' }];
  }

  private sysAdmin(era: Era): Op[] {
    const a = this.admin;
    const sys = MOUNTS.sys;
    const app = this.app().app;
    const r = this.rng.int(100);
    if (r < 30) return [{ actor: a, operation: 'read', path: this.rng.pick(['sys/mounts', 'sys/auth', 'sys/audit', 'sys/policies/acl/default']), mount: sys, body: this.sample('caps', era, sys, 14) }];
    if (r < 45) return [{ actor: a, operation: 'list', path: 'sys/policies/acl', mount: sys, body: this.list(era, sys, 20) }];
    if (r < 55) return [{ actor: a, operation: 'update', path: 'sys/audit-hash/file', mount: sys, data: `{"input":"${this.h.any()}"}`, body: this.body('hash', era, sys, () => ({ data: { hash: this.h.any() } })) }];
    if (r < 62) return [{ actor: this.root, operation: 'read', path: 'sys/mounts', mount: sys, body: this.sample('caps', era, sys, 14) }];
    if (r < 68) return [{ actor: this.root, operation: 'update', path: 'auth/token/create', mount: MOUNTS.token, data: this.reqData(), body: this.sample('create', era, MOUNTS.token, 59) }];
    if (r < 80) return [{ actor: a, operation: 'update', path: era === 'v0' ? `sys/policy/app-${app}` : `sys/policies/acl/app-${app}`, mount: sys, data: `{"policy":"${this.h.any()}"}`, change: 'policy' }];
    if (r < 84) return [{ actor: a, operation: 'delete', path: `sys/policies/acl/old-${app}`, mount: sys, change: 'policy' }];
    if (r < 90) return [{ actor: a, operation: 'update', path: 'sys/policies/password/app-pw', mount: sys, data: `{"policy":"${this.h.any()}"}` }];
    if (r < 96) return [{ actor: a, operation: 'update', path: 'sys/auth/approle/tune', mount: sys, data: `{"default_lease_ttl":"${this.h.any()}"}`, change: 'auth' }];
    if (r < 98) return [{ actor: a, operation: 'update', path: 'sys/config/auditing/request-headers/x-correlation-id', mount: sys, data: '{"hmac":false}', change: 'audit' }];
    // A device someone enables at the path `test` (answered, from an address): a change, unlike the probe.
    return [{ actor: a, operation: 'update', path: 'sys/audit/test', mount: sys, data: JSON.stringify(rehash(this.t.samples.get(29, 'request', 'data'), this.h)), change: 'audit' }];
  }

  /** The other errors: no token, a token Vault does not know, unsupported paths, bad input, a Sentinel denial. */
  private errors(era: Era): Op[] {
    const { app, actor } = this.app();
    const r = this.rng.int(100);
    const path = `secret/data/apps/${app}/db`;
    if (r < 25) return [this.rng.chance(0.5) ? { actor: this.anonNone, operation: 'read', path, mount: MOUNTS.secret, reqError: ERR.missing, error: ERR.missing }
      : { actor: this.anonNone, operation: 'read', path: `sys/internal/ui/mounts/secret/apps/${app}`, mount: MOUNTS.sys, error: ERR.missing, body: '{}' }];
    if (r < 45) return [{ actor: this.expired, operation: 'read', path, mount: MOUNTS.secret, reqError: ERR.denied, error: ERR.invalid }];
    if (r < 55) return [{ actor: this.expired, operation: 'update', path: 'auth/token/revoke-self', mount: MOUNTS.token, error: ERR.invalidOnly }];
    if (r < 70) return [{ actor: this.user(), operation: 'list', path: 'approle/role/', mount: null, error: ERR.unsupported, body: this.body('denied', era, null, () => ({ data: { error: this.h.any() } })) }];
    if (r < 80) return [{ actor: this.rng.pick(this.k8s), operation: 'update', path: 'sys/wrapping/unwrap', mount: MOUNTS.sys, error: ERR.wrapping }];
    if (r < 90) return [{ actor: this.admin, operation: 'update', path: 'auth/token/create', mount: MOUNTS.token, data: this.reqData(), error: ERR.converting }];
    if (r < 93 && era !== 'v0') return [{ actor, operation: 'update', path, mount: MOUNTS.secret, data: this.put(), reqError: ERR.egp, error: ERR.egp, denied: true }];
    return [{ ...this.refuse(era, { actor, operation: 'read', path: `secret/data/apps/${this.app().app}/stripe`, mount: MOUNTS.secret }), emit: 'request' }];
  }

  /**
   * The device's own lines when it is enabled: the `sys/audit/test` probe (no response, no address: not a change,
   * docs/assess.md) and the enabling response (no request).
   */
  eraStart(): Op[] {
    return [{ actor: this.probe, operation: 'update', path: 'sys/audit/test', mount: null, emit: 'request' },
      { actor: this.root, operation: 'update', path: 'sys/audit/file', mount: MOUNTS.sys, data: JSON.stringify(rehash(this.t.samples.get(29, 'request', 'data'), this.h)), emit: 'response', change: 'audit' }];
  }

  /** A list response of thousands of keys (a line of megabytes): the backup job walking a mount. */
  longList(era: Era, bytes: number): Op {
    const n = Math.max(100, Math.floor(bytes / 79));
    const keys: Json = Array.from({ length: n }, () => this.h.any());
    const which = era === 'v0' ? this.rng.int(2) * 2 : this.rng.int(3);
    const [path, m] = which === 0 ? ['secret/metadata/apps/', MOUNTS.secret] : which === 1 ? ['kv/', MOUNTS.kv] : ['pki_int/certs/', MOUNTS.pki];
    const op: Op = { actor: this.backup, operation: 'list', path, mount: m, body: this.t.response(era, m, { data: { keys } }), emit: 'pair' };
    return which === 2 ? op : { ...op, kv: 'list' };
  }

  /** A pasted fixture whose author redacted ids and tokens to `****` (S14): no usable id, each entry its own operation. */
  redacted(era: Era): Op[] {
    const tfc = this.actors.redacted('tfc', ['3.93.200.217']);
    const anon = from(this.anonLogin, ['3.93.200.217']);
    const noid = { emit: 'noid', id: '****' } as const;
    return [{ ...noid, actor: anon, respActor: tfc, operation: 'update', path: 'auth/jwt/login', mount: MOUNTS.jwt, data: '{"jwt":"****","role":"****"}', body: this.tokenAuth(era, MOUNTS.jwt, tfc), login: 'ok' },
      { actor: tfc, operation: 'update', path: 'auth/token/renew-self', mount: MOUNTS.token, data: '{"increment":"****"}', body: this.tokenAuth(era, MOUNTS.token, tfc), emit: 'pair' },
      { ...noid, actor: tfc, operation: 'read', path: 'auth/token/lookup-self', mount: MOUNTS.token, body: this.sample('lookup', era, MOUNTS.token, 4) },
      { ...noid, actor: tfc, operation: 'read', path: 'secret/data/s3', mount: MOUNTS.secret, body: this.kv2(era), kv: 'read' },
      { ...noid, actor: tfc, operation: 'update', path: 'auth/token/revoke-self', mount: MOUNTS.token }];
  }
}
