import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { startSimulator, type Simulator, type SimulatorOptions } from '../lab-server.ts';
import { filterTargets, QueryError, sortTargets } from './hawkbit-query.ts';

export interface HawkbitSimOptions extends SimulatorOptions {
  readonly username: string;
  readonly password: string;
  readonly targets: readonly { controllerId: string; name?: string; ipAddress?: string }[];
  /** hawkBit ≤ 0.9 answers DELETE with 200, 0.10+ with 204 (CONTRACTS.md §5). */
  readonly deleteStatus?: 200 | 204;
}

export interface HawkbitSim extends Simulator {
  readonly targets: Map<string, Record<string, unknown>>;
}

function exceptionInfo(status: number, id?: string): Record<string, unknown> {
  if (status === 404) {
    return { exceptionClass: 'org.eclipse.hawkbit.repository.exception.EntityNotFoundException', errorCode: 'hawkbit.server.error.repo.entityNotFound', message: `Target with given identifier {${id ?? ''}} does not exist.`, info: { type: 'Target', entityId: id } };
  }
  if (status === 403) return { exceptionClass: 'org.eclipse.hawkbit.repository.exception.InsufficientPermissionException', errorCode: 'hawkbit.server.error.insufficientPermission', message: 'Insufficient Permission' };
  if (status === 429) return { exceptionClass: 'org.eclipse.hawkbit.repository.exception.AssignmentQuotaExceededException', errorCode: 'hawkbit.server.error.quota.tooManyEntries', message: 'Quota exceeded' };
  return { exceptionClass: 'java.lang.RuntimeException', errorCode: 'hawkbit.server.error.internal', message: `Internal server error (${status})` };
}

/** What hawkBit's ResponseExceptionHandler answers for an unreadable body or a parameter that does not convert (a NumberFormatException cause). */
const NOT_READABLE = { exceptionClass: 'org.eclipse.hawkbit.rest.exception.MessageNotReadableException', errorCode: 'hawkbit.server.error.rest.body.notReadable', message: 'The given request body is not well formed' };

/** Spring Boot's own error body (BasicErrorController), which hawkBit sends for what its handler does not cover. */
function springError(req: FastifyRequest, status: number, error: string) {
  return { timestamp: new Date().toISOString(), status, error, path: req.url.split('?')[0] };
}

/** A Java `int` request parameter: absent or empty takes the default; anything else must be a decimal int32. */
function intParam(v: string | undefined, fallback: number): number | undefined {
  if (v === undefined || v === '') return fallback;
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/** Spring's content negotiation: the Management API produces only JSON (hal+json and json). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((r) => /^\s*(\*\/\*|application\/\*|application\/json|application\/hal\+json)\s*(;|$)/i.test(r));
}

/** Eclipse hawkBit Management API, the target operations Firebreak uses (CONTRACTS.md §5). */
export async function startHawkbitSim(o: HawkbitSimOptions): Promise<HawkbitSim> {
  const targets = new Map<string, Record<string, unknown>>();
  const now = Date.now();
  for (const t of o.targets) {
    targets.set(t.controllerId, {
      createdBy: 'bumlux', createdAt: now, lastModifiedBy: 'bumlux', lastModifiedAt: now, name: t.name ?? t.controllerId, description: '',
      controllerId: t.controllerId, updateStatus: 'in_sync', lastControllerRequestAt: now, installedAt: now, ipAddress: t.ipAddress ?? '10.0.0.2',
      address: `http://${t.ipAddress ?? '10.0.0.2'}`, pollStatus: { lastRequestAt: now, nextExpectedRequestAt: now + 300_000, overdue: false },
      securityToken: '', requestAttributes: true, autoConfirmActive: false,
    });
  }
  const expected = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  const authed = (req: FastifyRequest, reply: FastifyReply) => {
    if (req.headers.authorization !== expected) {
      void reply.code(401).header('www-authenticate', 'Basic realm="hawkBit"').send(springError(req, 401, 'Unauthorized'));
      return false;
    }
    // After authentication, as Spring negotiates the response type: 406 with no body (the spec: "accept header … not application/json").
    if (!acceptsJson(req.headers.accept)) { void reply.code(406).send(); return false; }
    return true;
  };
  const withLinks = (req: FastifyRequest, t: Record<string, unknown>) => {
    const self = `http://${req.headers.host ?? 'localhost'}/rest/v1/targets/${encodeURIComponent(String(t['controllerId']))}`;
    return { ...t, _links: { self: { href: self }, assignedDS: { href: `${self}/assignedDS` }, installedDS: { href: `${self}/installedDS` }, attributes: { href: `${self}/attributes` }, actions: { href: `${self}/actions?offset=0&limit=50&sort=id%3ADESC` } } };
  };
  const routes = (app: FastifyInstance) => {
    app.get('/rest/v1/targets/:id', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { id } = req.params as { id: string };
      const t = targets.get(id);
      if (t === undefined) return reply.code(404).send(exceptionInfo(404, id));
      return reply.header('content-type', 'application/hal+json').send(withLinks(req, t));
    });
    app.delete('/rest/v1/targets/:id', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { id } = req.params as { id: string };
      if (!targets.delete(id)) return reply.code(404).send(exceptionInfo(404, id));
      return reply.code(o.deleteStatus ?? 204).send();
    });
    app.get('/rest/v1/targets', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const q = req.query as { offset?: string; limit?: string; q?: string; sort?: string };
      const rawOffset = intParam(q.offset, 0);
      const rawLimit = intParam(q.limit, 50);
      if (rawOffset === undefined || rawLimit === undefined) return reply.code(400).send(NOT_READABLE);
      // PagingUtility: a negative offset is 0, the limit is kept within 1..500.
      const offset = Math.max(0, rawOffset);
      const limit = Math.min(500, Math.max(1, rawLimit));
      let all: Record<string, unknown>[];
      try {
        all = sortTargets(filterTargets([...targets.values()], q.q), q.sort);
      } catch (e) {
        if (!(e instanceof QueryError)) throw e;
        return reply.code(400).send({ exceptionClass: e.exceptionClass, errorCode: e.errorCode, message: e.message });
      }
      const content = all.slice(offset, offset + limit).map((t) => withLinks(req, t));
      return reply.header('content-type', 'application/hal+json').send({ content, total: all.length, size: content.length });
    });
  };
  const sim = await startSimulator('hawkbit', routes, (status, path) => ({ body: exceptionInfo(status, decodeURIComponent(path.split('/').pop() ?? '')) }), o, {
    // Spring Security first (any path under /rest needs credentials), then Spring's 404/405 through Spring Boot's error body.
    notFound: (req, reply, allowed) => {
      if (!authed(req, reply)) return reply;
      if (allowed.length === 0) return reply.code(404).send(springError(req, 404, 'Not Found'));
      return reply.code(405).header('allow', allowed.join(', ')).send(springError(req, 405, 'Method Not Allowed'));
    },
    error: (e, req, reply) => {
      if (e.code === 'FST_ERR_BAD_URL') return reply.code(400).send(springError(req, 400, 'Bad Request'));
      return (e.statusCode ?? 500) < 500 ? reply.code(400).send(NOT_READABLE) : reply.code(500).send(springError(req, 500, 'Internal Server Error'));
    },
  });
  return { ...sim, targets };
}
