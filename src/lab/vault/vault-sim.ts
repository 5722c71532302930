import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { startSimulator, type Simulator, type SimulatorOptions } from '../lab-server.ts';
import { AuditBroker, type MountInfo } from './vault-audit.ts';
import { AuthMethods, mountVersion } from './vault-auth.ts';
import { coreRoute } from './vault-core-routes.ts';
import { goJson, type LogicalRequest, type LogicalResponse, type Operation, parseBody, SEALED, uuid, VaultError } from './vault-http.ts';
import { KV_VERSION, SecretEngines } from './vault-kv.ts';
import { VaultSeal } from './vault-seal.ts';
import { needsSudo, sysRoute } from './vault-sys.ts';
import { TokenStore, type TokenEntry } from './vault-tokens.ts';

export interface VaultSimOptions extends SimulatorOptions {
  /** Initialise at start (default true); otherwise `sys/init` must be called. */
  readonly initialized?: boolean;
  /** Unseal at start with the threshold of shares (default true; needs `initialized`). */
  readonly unsealed?: boolean;
  /** Key shares and threshold of the initial unseal key (default 5 / 3). */
  readonly shares?: number;
  readonly threshold?: number;
  /** Enable a `file` audit device at `file/` writing there. */
  readonly auditFile?: string;
  /** Auth methods to enable at start (path without slashes). */
  readonly authMounts?: readonly { readonly path: string; readonly type: 'approle' | 'userpass' | 'jwt' | 'oidc'; readonly description?: string }[];
  /** KV mounts to enable at start. */
  readonly kvMounts?: readonly { readonly path: string; readonly version: 1 | 2 }[];
}

/** The parts of the lab Vault's state tests and drills look at. */
export interface VaultState {
  readonly seal: VaultSeal;
  readonly tokens: TokenStore;
  readonly auth: AuthMethods;
  readonly kv: SecretEngines;
  readonly audit: AuditBroker;
}

export interface VaultSim extends Simulator {
  /** The root token from the last init ('' before). */
  readonly rootToken: string;
  /** The current unseal key shares, base64 (init's, or the last rekey's when it was not PGP-encrypted). */
  readonly unsealKeys: readonly string[];
  readonly sealed: boolean;
  readonly state: VaultState;
  close(): Promise<void>;
}

const SYS_MOUNT = { accessor: 'system_ac732fc5', point: 'sys/', type: 'system', version: 'v1.19.0+builtin.vault', class: 'secret' } as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const MAX_REQUEST = 32 * 1024 * 1024;

/** Vault's operation for an HTTP method (http/logical.go buildLogicalRequestNoAuth). */
function operationOf(method: string, query: Readonly<Record<string, string>>): Operation | 'bad-list' | undefined {
  switch (method) {
    case 'GET': {
      const l = query['list'];
      if (l === undefined || l === '') return 'read';
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(l)) return 'bad-list';
      return /^(1|t|T|TRUE|true|True)$/.test(l) ? 'list' : 'read';
    }
    case 'POST': case 'PUT': return 'update';
    case 'DELETE': return 'delete';
    case 'PATCH': return 'patch';
    default: return undefined;
  }
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  void reply.code(status).header('cache-control', 'no-store');
  if (body === undefined) return reply.send();
  return reply.header('content-type', 'application/json').send(goJson(body));
}

const sendError = (reply: FastifyReply, e: VaultError): FastifyReply => send(reply, e.status, { errors: e.errors });

/**
 * A lab HashiCorp Vault (CONTRACTS.md §2, Vault 1.19 behaviour): Shamir
 * seal, init/unseal/rekey/generate-root (vault-seal.ts), tokens and a
 * minimal ACL (vault-tokens.ts), auth methods (vault-auth.ts), KV v1/v2
 * (vault-kv.ts), file audit devices (vault-audit.ts). What no route covers
 * answers Vault's `{"errors":[…]}`.
 *
 * Not served: the HTTP method LIST (Node's HTTP parser refuses unknown
 * methods before any handler; use `GET …?list=true`, which Vault treats the
 * same), namespaces, response wrapping, standby nodes.
 */
export async function startVaultSim(o: VaultSimOptions): Promise<VaultSim> {
  let rootToken = '';
  let keys: string[] = [];
  const tokens = new TokenStore();
  const auth = new AuthMethods(tokens);
  const kv = new SecretEngines();
  const audit = new AuditBroker();
  const seal = new VaultSeal(() => undefined);
  const onKeys = (k: readonly Buffer[], root?: string) => { keys = k.map((x) => x.toString('base64')); if (root !== undefined) rootToken = root; };
  const state: VaultState = { seal, tokens, auth, kv, audit };

  if (o.initialized ?? true) {
    const { keys: shares } = await seal.init({ secret_shares: o.shares ?? 5, secret_threshold: o.threshold ?? 3 });
    onKeys(shares, tokens.createRoot().id);
    if (o.unsealed ?? true) for (const k of shares.slice(0, o.threshold ?? 3)) await seal.unseal(k);
  }
  const boot = (path: string, data: Record<string, unknown>) => {
    const req: LogicalRequest = { id: uuid(), operation: 'update', path, data, query: {}, token: rootToken, remoteAddress: '127.0.0.1', remotePort: 0 };
    sysRoute({ seal, tokens, auth, kv, audit }, req);
  };
  if (o.auditFile !== undefined) boot('sys/audit/file', { type: 'file', options: { file_path: o.auditFile } });
  for (const m of o.authMounts ?? []) boot(`sys/auth/${m.path}`, { type: m.type, description: m.description ?? '' });
  for (const m of o.kvMounts ?? []) boot(`sys/mounts/${m.path}`, { type: 'kv', options: { version: String(m.version) } });

  /** The mount a logical path is served by, as the audit entries name it. */
  const mountInfo = (path: string): MountInfo | undefined => {
    if (path.startsWith('sys/')) return SYS_MOUNT;
    if (path.startsWith('auth/')) {
      const at = auth.mountFor(path);
      return at === undefined ? undefined : { accessor: at.mount.accessor, point: `auth/${at.path}`, type: at.mount.type, version: mountVersion(at.mount.type), class: 'auth' };
    }
    const at = kv.mountFor(path);
    return at === undefined ? undefined : { accessor: at.mount.accessor, point: at.path, type: at.mount.type, version: at.mount.type === 'kv' ? KV_VERSION : 'v1.19.0+builtin.vault', class: 'secret' };
  };

  const dispatch = (req: LogicalRequest, caller: TokenEntry | undefined): LogicalResponse => {
    if (req.path.startsWith('sys/')) return sysRoute(state, req);
    if (req.path.startsWith('auth/')) return auth.handle(req, caller);
    const at = kv.mountFor(req.path);
    if (at === undefined) throw new VaultError(404, [`no handler for route ${JSON.stringify(req.path)}. route entry not found.`]);
    return kv.handle(req, at.mount, at.rest);
  };

  /** The logical request path (vault/request_handling.go): sealed check, token and ACL, audit, the handler. */
  const logical = (req: LogicalRequest): LogicalResponse => {
    if (seal.sealed) throw new VaultError(503, [SEALED]);
    // Prefix revocation takes a trailing slash (`vault lease revoke -prefix auth/approle/`, CONTRACTS.md §2.7).
    if (req.path.endsWith('/') && (req.operation === 'update' || req.operation === 'create') && !/^sys\/leases\/revoke-(prefix|force)\//.test(req.path)) throw new VaultError(400, ['cannot write to a path ending in \'/\'']);
    const mount = mountInfo(req.path);
    const authAt = req.path.startsWith('auth/') ? auth.mountFor(req.path) : undefined;
    const unauthenticated = authAt !== undefined && AuthMethods.isLogin(authAt.mount.type, authAt.rest);
    if (req.operation === 'update') {
      const at = kv.mountFor(req.path);
      if (at !== undefined && at.mount.type === 'kv' && !kv.exists(at.mount, at.rest)) req.operation = 'create';
    }
    let caller: TokenEntry | undefined;
    let granting: string[] | undefined;
    if (unauthenticated) {
      caller = tokens.lookup(req.token);
      audit.logRequest({ req, caller, mount, granting: [], allowed: true });
    } else {
      try {
        ({ entry: caller, granting } = tokens.authorize(req.token, req.path, req.operation, needsSudo(req.path)));
      } catch (e) {
        if (!(e instanceof VaultError)) throw e;
        const known = tokens.lookup(req.token);
        const short = e.errors[0] === 'missing client token' ? 'missing client token' : 'permission denied';
        audit.logRequest({ req, caller: known, mount, ...(known === undefined ? {} : { granting: [] }), allowed: false, error: short });
        audit.logResponse({ req, caller: known, mount, ...(known === undefined ? {} : { granting: [] }), allowed: false, error: e.errors[0] ?? short });
        throw e;
      }
      audit.logRequest({ req, caller, mount, granting, allowed: true, clientId: tokens.clientId(caller) });
    }
    const clientId = caller === undefined ? undefined : tokens.clientId(caller);
    try {
      const resp = dispatch(req, caller);
      const issuedId = typeof resp.auth?.['client_token'] === 'string' ? resp.auth['client_token'] : undefined;
      const issued = issuedId === undefined ? undefined : tokens.lookup(issuedId);
      audit.logResponse({ req, caller, ...(issued === undefined ? {} : { issued }), mount, ...(granting === undefined ? {} : { granting }), allowed: true, ...(clientId === undefined ? {} : { clientId }), resp });
      return resp;
    } catch (e) {
      if (e instanceof VaultError && e.status !== 404) {
        audit.logResponse({ req, caller, mount, ...(granting === undefined ? {} : { granting }), allowed: true, ...(clientId === undefined ? {} : { clientId }), error: e.errors[0] ?? '' });
      } else if (e instanceof VaultError) {
        audit.logResponse({ req, caller, mount, ...(granting === undefined ? {} : { granting }), allowed: true, ...(clientId === undefined ? {} : { clientId }) });
      }
      throw e;
    }
  };

  const envelope = (req: LogicalRequest, r: LogicalResponse, mountType: string | undefined): unknown => ({
    ...(r.topLevel === true ? r.data ?? {} : {}),
    request_id: req.id, lease_id: r.secret?.lease_id ?? '', renewable: false, lease_duration: r.auth === undefined && r.secret !== undefined ? 0 : 0,
    data: r.data ?? null, wrap_info: null, warnings: r.warnings ?? null, auth: r.auth ?? null, mount_type: mountType ?? '',
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const [rawPath = '', rawQuery = ''] = request.url.split('?');
    const query = Object.fromEntries(new URLSearchParams(rawQuery));
    let path: string;
    try { path = decodeURIComponent(rawPath).slice('/v1/'.length); } catch { return sendError(reply, new VaultError(400, [])); }
    const raw = typeof request.body === 'string' ? request.body : undefined;
    const headerToken = request.headers['x-vault-token'];
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = (typeof headerToken === 'string' && headerToken !== '' ? headerToken : bearer)?.trim();
    try {
      const core = await coreRoute({ seal, tokens, onKeys }, request.method, path, raw, query, token);
      if (core !== undefined) return await send(reply, core.status, core.body);
      if (path === '') throw new VaultError(404, []);
      const op = operationOf(request.method, query);
      if (op === undefined) throw new VaultError(405, []);
      if (op === 'bad-list') throw new VaultError(400, []);
      const data = op === 'update' || op === 'patch' ? parseBody(raw) : op === 'read' || op === 'list' ? undefined : parseBody(raw);
      const req: LogicalRequest = {
        id: uuid(), operation: op, path: op === 'list' && !path.endsWith('/') ? `${path}/` : path, data, query, token,
        remoteAddress: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '', remotePort: request.socket.remotePort ?? 0,
      };
      const r = logical(req);
      if (r.raw !== undefined) return await send(reply, r.status ?? 200, r.raw);
      const empty = (r.data === undefined || r.data === null) && r.auth === undefined && r.warnings === undefined && r.status === undefined;
      if (empty) return await send(reply, 204, undefined);
      return await send(reply, r.status ?? 200, envelope(req, r, mountInfo(req.path)?.type));
    } catch (e) {
      if (e instanceof VaultError) return sendError(reply, e);
      return sendError(reply, new VaultError(500, [(e as Error).message]));
    }
  };

  const routes = (app: FastifyInstance) => {
    // Vault reads bodies itself (http.MaxBytesReader of 32 MiB, then its JSON decoder): raw text here.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_REQUEST }, (_req, body, done) => { done(null, body); });
    app.route({ method: [...METHODS], url: '/v1/*', handler });
  };

  // An injected error as Vault words it: a sealed node, a rate limit quota (naming the path), an ACL refusal; a standby's redirect has no body.
  const sim = await startSimulator('vault', routes, (status, path) => (status >= 300 && status < 400 ? { body: '', contentType: 'text/plain' } : {
    body: { errors: status === 503 ? [SEALED] : status === 429 ? [`request path "${path.replace(/^\/v1\//, '')}": rate limit quota exceeded`] : status === 403 ? ['1 error occurred:\n\t* permission denied\n\n'] : [] },
  }), o, {
    notFound: (_req, reply, allowed) => sendError(reply, new VaultError(allowed.length > 0 ? 405 : 404, [])),
    error: (e, _req, reply) => {
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) return sendError(reply, new VaultError(413, ['failed to parse JSON input: http: request body too large']));
      if (e.code === 'FST_ERR_BAD_URL' || (e.statusCode ?? 500) < 500) return sendError(reply, new VaultError(400, []));
      return sendError(reply, new VaultError(500, [e.message]));
    },
  });
  return {
    ...sim,
    get rootToken() { return rootToken; },
    get unsealKeys() { return keys; },
    get sealed() { return seal.sealed; },
    state,
    close: () => sim.stop(),
  };
}
