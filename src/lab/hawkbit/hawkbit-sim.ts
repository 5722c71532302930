import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { startSimulator, type Simulator, type SimulatorOptions } from '../lab-server.ts';

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
    if (req.headers.authorization === expected) return true;
    void reply.code(401).header('www-authenticate', 'Basic realm="hawkBit"').send({ timestamp: new Date().toISOString(), status: 401, error: 'Unauthorized', path: req.url.split('?')[0] });
    return false;
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
      const q = req.query as { offset?: string; limit?: string };
      const offset = Number(q.offset ?? 0);
      const limit = Math.min(500, Number(q.limit ?? 50));
      const all = [...targets.values()];
      return reply.header('content-type', 'application/hal+json').send({ content: all.slice(offset, offset + limit).map((t) => withLinks(req, t)), total: all.length, size: Math.min(limit, Math.max(0, all.length - offset)) });
    });
  };
  const sim = await startSimulator('hawkbit', routes, (status, path) => ({ body: exceptionInfo(status, decodeURIComponent(path.split('/').pop() ?? '')) }), o);
  return { ...sim, targets };
}
