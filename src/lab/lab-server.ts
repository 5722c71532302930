import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FaultController, type FaultSettings } from './lab-faults.ts';

export interface CallRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: string;
  readonly injected: boolean;
}

/** A running in-process simulator of one vendor API. */
export interface Simulator {
  readonly name: string;
  readonly url: string;
  readonly faults: FaultController;
  calls(): readonly CallRecord[];
  stop(): Promise<void>;
}

export interface SimulatorOptions {
  readonly faults?: FaultSettings;
  readonly seed?: number;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain http; the certificate must name 127.0.0.1 (an IP SAN). */
  readonly https?: { readonly key: string; readonly cert: string };
}

/** What an injected error answers: each simulator gives its vendor's error body. */
export type ErrorBody = (status: number, path: string) => { readonly body: unknown; readonly contentType?: string };

/**
 * How the vendor answers what no route of its own handles, so that no
 * framework default body ever reaches a client (no vendor sends fastify's).
 */
export interface VendorErrors {
  /** No route for this path (`allowed` empty: 404), or routes for other methods only (405). */
  notFound(req: FastifyRequest, reply: FastifyReply, allowed: readonly string[]): FastifyReply | Promise<FastifyReply>;
  /**
   * A request refused before or outside a route: a body that is not JSON
   * (`statusCode` 400, `code` BAD_JSON), a URL that does not percent-decode
   * (400, FST_ERR_BAD_URL), a body too large (413), a route that threw (500).
   */
  error(e: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply>;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** The content-type parser every simulator uses: vendors decode JSON whatever the declared type (step-ca, Spring's filters), so any body is read as text and parsed here; failures reach `VendorErrors.error`. */
function parseAnyAsJson(_req: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void): void {
  if (body.trim() === '') { done(null, undefined); return; }
  try {
    done(null, JSON.parse(body) as unknown);
  } catch {
    done(Object.assign(new Error('the request body is not valid JSON'), { statusCode: 400, code: 'BAD_JSON' }));
  }
}

/**
 * Starts a simulator: a fastify app on 127.0.0.1, a free port (http, or
 * https with `options.https`: its url says which), with
 * latency and fault injection applied before the vendor routes, a call log,
 * and a small admin API under `/__lab/` (not part of any vendor API):
 * `GET /__lab/calls`, `PUT /__lab/faults`, `DELETE /__lab/faults`.
 */
export async function startSimulator(name: string, routes: (app: FastifyInstance) => void, errorBody: ErrorBody, options: SimulatorOptions, vendor: VendorErrors): Promise<Simulator> {
  // maxParamLength: fastify answers its own 414 past 100 characters in a path segment; vendors take long ids.
  // frameworkErrors: a URL that does not percent-decode is refused before any hook; the vendor's 400 shape, not fastify's.
  const common = {
    logger: false, forceCloseConnections: true, routerOptions: { maxParamLength: 8192 },
    frameworkErrors: (e: FastifyError, req: FastifyRequest, reply: FastifyReply) => { void vendor.error(Object.assign(e, { statusCode: 400 }), req, reply); },
  } as const;
  // An https app is typed over https.Server; the routes and hooks see the same requests as over http.
  const app = options.https === undefined ? Fastify(common) : Fastify({ ...common, https: { key: options.https.key, cert: options.https.cert } }) as unknown as FastifyInstance;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseAnyAsJson);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    const allowed = METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: path }) !== null);
    return vendor.notFound(req, reply, allowed);
  });
  app.setErrorHandler((e: FastifyError, req, reply) => vendor.error(e, req, reply));
  const faults = new FaultController(options.faults, options.seed ?? 1);
  const calls: CallRecord[] = [];
  const injected = new WeakSet<FastifyReply>();

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/__lab/')) return;
    const path = req.url.split('?')[0] ?? req.url;
    const d = faults.decide(req.method, path);
    if (d.kind === 'hang') {
      injected.add(reply);
      await new Promise<void>((resolve) => { req.raw.once('close', resolve); });
      return reply;
    }
    if (d.delayMs > 0) await new Promise((r) => setTimeout(r, d.delayMs));
    if (d.kind === 'status') {
      injected.add(reply);
      const e = errorBody(d.status, path);
      return reply.code(d.status).headers(d.headers ?? {}).header('content-type', e.contentType ?? 'application/json').send(typeof e.body === 'string' ? e.body : JSON.stringify(e.body));
    }
    return undefined;
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.url.startsWith('/__lab/')) return;
    calls.push({ method: req.method, path: req.url, status: reply.statusCode, at: new Date().toISOString(), injected: injected.has(reply) });
  });
  app.get('/__lab/calls', async () => calls);
  app.put('/__lab/faults', async (req) => { faults.set(req.body as FaultSettings); return faults.settings; });
  app.delete('/__lab/faults', async () => { faults.clear(); return {}; });
  routes(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    name,
    url,
    faults,
    calls: () => calls,
    stop: () => app.close(),
  };
}
