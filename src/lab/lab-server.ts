import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
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
}

/** What an injected error answers: each simulator gives its vendor's error body. */
export type ErrorBody = (status: number, path: string) => { readonly body: unknown; readonly contentType?: string };

/**
 * Starts a simulator: a fastify app on 127.0.0.1, a free port, with
 * latency and fault injection applied before the vendor routes, a call log,
 * and a small admin API under `/__lab/` (not part of any vendor API):
 * `GET /__lab/calls`, `PUT /__lab/faults`, `DELETE /__lab/faults`.
 */
export async function startSimulator(name: string, routes: (app: FastifyInstance) => void, errorBody: ErrorBody, options: SimulatorOptions = {}): Promise<Simulator> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
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
      return reply.code(d.status).header('content-type', e.contentType ?? 'application/json').send(typeof e.body === 'string' ? e.body : JSON.stringify(e.body));
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
