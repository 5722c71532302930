import { randomBytes, randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VendorErrors } from '../lab-server.ts';

/** ThingsBoard's error body (ThingsboardErrorResponse). */
export function errorJson(status: number, message: string, errorCode: number) {
  return { status, message, errorCode, timestamp: Date.now() };
}

export const TENANT_ID = { entityType: 'TENANT', id: '13814000-1dd2-11b2-8080-808080808080' };

/** ThingsBoard's defaults (thingsboard.yml `security.jwt.tokenExpirationTime` / `refreshTokenExpTime`), in ms. */
export const DEFAULT_TOKEN_TTL_MS = 9_000_000;
export const DEFAULT_REFRESH_TTL_MS = 604_800_000;

export interface TbAuthOptions {
  readonly username: string;
  readonly password: string;
  readonly tokenTtlMs?: number;
  readonly refreshTtlMs?: number;
  /** The simulator's clock (ms since the epoch): tests move it instead of waiting for tokens to expire. */
  readonly clock?: () => number;
}

type Check = { readonly ok: true } | { readonly ok: false; readonly body: ReturnType<typeof errorJson> };

/** Paths the security filter lets through without a token (the login filters handle them). */
const LOGIN_PATHS = new Set(['/api/auth/login', '/api/auth/token']);

/**
 * ThingsBoard's authentication: HS512 JWTs with its claims and lifetimes
 * (`exp` = issue time + 9000 s, refresh tokens 604800 s), `POST /api/auth/login`
 * and `POST /api/auth/token` (refresh), and the security filter's 401s, with
 * the messages of ThingsboardErrorResponseHandler.handleAuthenticationException.
 */
export function createTbAuth(o: TbAuthOptions) {
  const secret = randomBytes(64);
  const userId = randomUUID();
  // exp/iat are whole seconds (RFC 7519); the simulator keeps each token's exact instant so short test lifetimes work.
  const expiresAt = new Map<string, number>();
  const ttl = o.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const refreshTtl = o.refreshTtlMs ?? DEFAULT_REFRESH_TTL_MS;
  const clock = o.clock ?? Date.now;

  const sign = async (claims: JWTPayload, lifetimeMs: number): Promise<string> => {
    const now = clock();
    const expMs = now + lifetimeMs;
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).setIssuer('thingsboard.io')
      .setIssuedAt(Math.floor(now / 1000)).setExpirationTime(Math.floor(expMs / 1000)).sign(secret);
    expiresAt.set(token, expMs);
    return token;
  };
  const pair = async () => {
    const sessionId = randomUUID();
    return {
      token: await sign({ sub: o.username, userId, scopes: ['TENANT_ADMIN'], sessionId, enabled: true, isPublic: false, tenantId: TENANT_ID.id, customerId: TENANT_ID.id }, ttl),
      refreshToken: await sign({ sub: o.username, userId, scopes: ['REFRESH_TOKEN'], sessionId, isPublic: false, jti: randomUUID() }, refreshTtl),
    };
  };

  /** A token this simulator signed (HS512, its issuer): whether it is a refresh token and has expired; undefined for anything else. */
  const verify = async (token: string | undefined): Promise<{ refresh: boolean; expired: boolean } | undefined> => {
    if (token === undefined) return undefined;
    const kind = (p: JWTPayload) => Array.isArray(p['scopes']) && p['scopes'].includes('REFRESH_TOKEN');
    try {
      // jose checks exp in whole seconds: a second's tolerance leaves the decision to the exact instant.
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS512'], issuer: 'thingsboard.io', clockTolerance: 1, currentDate: new Date(clock()) });
      return { refresh: kind(payload), expired: (expiresAt.get(token) ?? 0) <= clock() };
    } catch (e) {
      return e instanceof errors.JWTExpired ? { refresh: kind(e.payload), expired: true } : undefined;
    }
  };
  /** The security filter's verdict, worked out (asynchronously, as jose verifies) before any route or error handler reads it. */
  const verdicts = new WeakMap<FastifyRequest, Awaited<ReturnType<typeof verify>>>();

  /** The security filter on every other /api path: X-Authorization (or Authorization) Bearer, an access token that has not expired. */
  const check = (req: FastifyRequest): Check => {
    const t = verdicts.get(req);
    if (t !== undefined && !t.refresh && !t.expired) return { ok: true };
    if (t !== undefined && !t.refresh) return { ok: false, body: errorJson(401, 'Token has expired', 11) };
    return { ok: false, body: errorJson(401, 'Authentication failed', 10) };
  };

  const routes = (app: FastifyInstance) => {
    app.addHook('onRequest', async (req) => {
      const header = req.headers['x-authorization'] ?? req.headers.authorization;
      verdicts.set(req, await verify(typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined));
    });
    app.post('/api/auth/login', async (req, reply) => {
      const b = req.body as { username?: unknown; password?: unknown } | undefined;
      // Blank credentials: AuthenticationServiceException ("Authentication failed"); wrong ones: BadCredentialsException.
      if (typeof b !== 'object' || b === null || typeof b.username !== 'string' || typeof b.password !== 'string' || b.username.trim() === '' || b.password === '') {
        return reply.code(401).send(errorJson(401, 'Authentication failed', 10));
      }
      if (b.username !== o.username || b.password !== o.password) return reply.code(401).send(errorJson(401, 'Invalid username or password', 10));
      return pair();
    });
    app.post('/api/auth/token', async (req, reply) => {
      const b = req.body as { refreshToken?: unknown } | undefined;
      const raw = typeof b === 'object' && b !== null && typeof b.refreshToken === 'string' ? b.refreshToken : undefined;
      const t = await verify(raw);
      // An unparsable or foreign token is a BadCredentialsException ("Invalid JWT token"), an expired one JwtExpiredTokenException.
      if (t === undefined) return reply.code(401).send(errorJson(401, 'Invalid username or password', 10));
      if (!t.refresh) return reply.code(401).send(errorJson(401, 'Authentication failed', 10));
      if (t.expired) return reply.code(401).send(errorJson(401, 'Token has expired', 11));
      return pair();
    });
  };

  /** What ThingsBoard answers where no route of the simulator does (Spring's 404/405 through ThingsboardErrorResponseHandler). */
  const vendorErrors: VendorErrors = {
    notFound: (req, reply, allowed) => {
      const path = req.url.split('?')[0] ?? req.url;
      // The login filters match the path whatever the method: AuthMethodNotSupportedException.
      if (LOGIN_PATHS.has(path)) return reply.code(401).send(errorJson(401, 'Authentication method not supported', 10));
      const auth = check(req);
      if (!auth.ok) return reply.code(401).send(auth.body);
      if (allowed.length > 0) return reply.code(405).header('allow', allowed.join(', ')).send(errorJson(405, `Request method '${req.method}' is not supported`, 31));
      return reply.code(404).send(errorJson(404, `No static resource ${path.replace(/^\//, '')}.`, 32));
    },
    error: (e: FastifyError, req, reply) => {
      const path = req.url.split('?')[0] ?? req.url;
      // Refused by the servlet container before any filter: no token check.
      if (e.code === 'FST_ERR_BAD_URL') return reply.code(400).send(errorJson(400, 'Invalid URL', 31));
      // The login filters read the body themselves: any failure to is "Authentication failed".
      if (LOGIN_PATHS.has(path)) return reply.code(401).send(errorJson(401, 'Authentication failed', 10));
      const auth = check(req);
      if (!auth.ok) return reply.code(401).send(auth.body);
      if ((e.statusCode ?? 500) < 500) {
        // The telemetry controller reads its body itself and answers in plain text (CONTRACTS.md §4.0).
        if (path.startsWith('/api/plugins/telemetry/')) return reply.code(400).header('content-type', 'text/plain;charset=UTF-8').send('Invalid request body');
        return reply.code(400).send(errorJson(400, 'Invalid request body', 31));
      }
      return reply.code(500).send(errorJson(500, 'Internal server error', 2));
    },
  };

  /** For routes: true when authenticated, otherwise the 401 is sent. */
  const authed = (req: FastifyRequest, reply: FastifyReply): boolean => {
    const r = check(req);
    if (!r.ok) void reply.code(401).header('content-type', 'application/json').send(r.body);
    return r.ok;
  };

  return { routes, authed, vendorErrors, issuePair: pair };
}
