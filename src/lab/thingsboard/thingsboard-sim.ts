import { randomUUID, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { startSimulator, type Simulator, type SimulatorOptions } from '../lab-server.ts';
import { createTbAuth, errorJson, TENANT_ID } from './thingsboard-auth.ts';
import { ENTITY_TYPES, javaBool, javaInt, pageLink, pageOf, ParamError } from './thingsboard-params.ts';

/** A device as the simulator holds it. */
export interface SimDevice {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly createdTime: number;
  readonly telemetry: Record<string, { ts: number; value: string }[]>;
  readonly accessToken: string;
}

export interface ThingsboardSimOptions extends SimulatorOptions {
  readonly username: string;
  readonly password: string;
  readonly devices: readonly { name: string; type?: string; telemetry?: Record<string, string> }[];
  /** Lifetime of issued tokens (ThingsBoard's default 9000 s); a request with an older token answers 401 errorCode 11. */
  readonly tokenTtlMs?: number;
  /** Lifetime of refresh tokens (default 604800 s). */
  readonly refreshTtlMs?: number;
  /** The clock tokens are issued and checked by (default Date.now). */
  readonly clock?: () => number;
  /**
   * The devices' side: called when shared attributes of a device are saved (as a
   * device subscribed to `v1/devices/me/attributes` would receive them); what it
   * resolves to is stored as the device's client attributes.
   */
  readonly deviceAgent?: (device: { id: string; name: string }, shared: Readonly<Record<string, unknown>>) => Promise<Record<string, unknown> | undefined>;
}

export interface ThingsboardSim extends Simulator {
  readonly devices: Map<string, SimDevice>;
  /** Attributes per device id and scope. */
  readonly attributes: Map<string, Record<'SHARED_SCOPE' | 'SERVER_SCOPE' | 'CLIENT_SCOPE', Map<string, { value: unknown; lastUpdateTs: number }>>>;
  /** The entity audit log (DELETED, ATTRIBUTES_UPDATED…), oldest first. */
  readonly audit: readonly { readonly createdTime: number; readonly entityId: string; readonly entityName: string; readonly actionType: string }[];
  /** Resolves once every device agent call started so far has finished. */
  settled(): Promise<void>;
}

const NULL_CUSTOMER = { entityType: 'CUSTOMER', id: '13814000-1dd2-11b2-8080-808080808080' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ERROR_CODE_FOR: Record<number, number> = { 400: 31, 401: 10, 403: 20, 404: 32, 409: 35, 429: 33, 500: 2, 503: 2 };
const MESSAGE_FOR: Record<number, string> = { 401: 'Authentication failed', 403: 'You don\'t have permission to perform this operation!', 404: 'Requested item wasn\'t found!', 429: 'Too many requests for current tenant!' };

/**
 * ThingsBoard CE, the operations Firebreak uses (CONTRACTS.md §4): login and
 * token refresh (thingsboard-auth.ts), device by name, device list (type,
 * text search, sorting, Spring's parameter checks), device, delete,
 * credentials, telemetry keys and latest values (with their plain-text
 * errors), attributes (one scope or all), entity audit logs; an optional
 * device agent plays the devices' side of shared attributes. What no route
 * covers answers ThingsBoard's error JSON (thingsboard-auth.ts).
 */
export async function startThingsboardSim(o: ThingsboardSimOptions): Promise<ThingsboardSim> {
  const devices = new Map<string, SimDevice>();
  const now = Date.now();
  for (const d of o.devices) {
    const id = randomUUID();
    const telemetry = Object.fromEntries(Object.entries(d.telemetry ?? {}).map(([k, v]) => [k, [{ ts: now, value: v }]]));
    devices.set(id, { id, name: d.name, type: d.type ?? 'default', createdTime: now, telemetry, accessToken: randomBytes(10).toString('hex') });
  }
  const attributes: ThingsboardSim['attributes'] = new Map();
  const scopes = (id: string) => {
    let a = attributes.get(id);
    if (a === undefined) { a = { SHARED_SCOPE: new Map(), SERVER_SCOPE: new Map(), CLIENT_SCOPE: new Map() }; attributes.set(id, a); }
    return a;
  };
  const agentCalls = new Set<Promise<void>>();
  const audit: { createdTime: number; entityId: string; entityName: string; actionType: string }[] = [];
  const auth = createTbAuth(o);
  const authed = auth.authed;
  const badParam = (reply: FastifyReply, e: unknown) => {
    if (!(e instanceof ParamError)) throw e;
    return reply.code(400).send(errorJson(400, e.message, 31));
  };
  const deviceJson = (d: SimDevice) => ({
    id: { entityType: 'DEVICE', id: d.id }, createdTime: d.createdTime, tenantId: TENANT_ID, customerId: NULL_CUSTOMER,
    // Unset fields are left out (the 4.3 spec types them as non-nullable).
    name: d.name, type: d.type, deviceProfileId: { entityType: 'DEVICE_PROFILE', id: '9e1f5f10-1dd2-11b2-8080-808080808080' }, version: 1, additionalInfo: { gateway: false, overwriteActivityTime: false, description: '' },
    deviceData: { configuration: { type: 'DEFAULT' }, transportConfiguration: { type: 'DEFAULT' } },
  });
  const notFound = (reply: FastifyReply, message = 'Requested item wasn\'t found!') => reply.code(404).send(errorJson(404, message, 32));
  const textError = (reply: FastifyReply, status: number, text: string) => reply.code(status).header('content-type', 'text/plain;charset=UTF-8').send(text);

  const routes = (app: FastifyInstance) => {
    auth.routes(app);
    app.get('/api/tenant/devices', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const q = req.query as Record<string, string | undefined>;
      if (q['deviceName'] !== undefined && q['pageSize'] === undefined) {
        const d = [...devices.values()].find((x) => x.name === q['deviceName']);
        return d === undefined ? notFound(reply) : deviceJson(d);
      }
      let link;
      try { link = pageLink(q, ['createdTime', 'name', 'deviceProfileName', 'label', 'customerTitle']); } catch (e) { return badParam(reply, e); }
      const text = link.textSearch?.toLowerCase();
      const all = [...devices.values()].filter((d) => (q['type'] === undefined || q['type'] === '' || d.type === q['type']) && (text === undefined || d.name.toLowerCase().includes(text)));
      const page = pageOf(all, link, (d, p) => (p === 'createdTime' ? d.createdTime : p === 'name' ? d.name : p === 'deviceProfileName' ? 'default' : ''));
      return { ...page, data: page.data.map(deviceJson) };
    });
    app.get('/api/device/:id', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { id } = req.params as { id: string };
      if (!UUID.test(id)) return reply.code(400).send(errorJson(400, `Invalid UUID string: ${id}`, 31));
      const d = devices.get(id);
      return d === undefined ? notFound(reply, `Device with id [${id}] is not found`) : deviceJson(d);
    });
    app.delete('/api/device/:id', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { id } = req.params as { id: string };
      if (!UUID.test(id)) return reply.code(400).send(errorJson(400, `Invalid UUID string: ${id}`, 31));
      const d = devices.get(id);
      if (d === undefined) return notFound(reply, `Device with id [${id}] is not found`);
      devices.delete(id);
      audit.push({ createdTime: Date.now(), entityId: id, entityName: d.name, actionType: 'DELETED' });
      return reply.code(200).send();
    });
    app.get('/api/device/:id/credentials', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { id } = req.params as { id: string };
      if (!UUID.test(id)) return reply.code(400).send(errorJson(400, `Invalid UUID string: ${id}`, 31));
      const d = devices.get(id);
      if (d === undefined) return notFound(reply);
      return { id: { id: randomUUID() }, createdTime: d.createdTime, deviceId: { entityType: 'DEVICE', id: d.id }, credentialsType: 'ACCESS_TOKEN', credentialsId: d.accessToken, credentialsValue: null };
    });
    const telemetryDevice = (req: FastifyRequest, reply: FastifyReply): SimDevice | undefined => {
      if (!authed(req, reply)) return undefined;
      const { type, id } = req.params as { type: string; id: string };
      if (type !== 'DEVICE') { void textError(reply, 400, `Unsupported entity type: ${type}`); return undefined; }
      if (!UUID.test(id)) { void textError(reply, 400, `Invalid UUID string: ${id}`); return undefined; }
      const d = devices.get(id);
      if (d === undefined) void textError(reply, 404, 'Device with requested id wasn\'t found!');
      return d;
    };
    app.get('/api/plugins/telemetry/:type/:id/keys/timeseries', async (req, reply) => {
      const d = telemetryDevice(req, reply);
      return d === undefined ? reply : Object.keys(d.telemetry);
    });
    app.get('/api/plugins/telemetry/:type/:id/values/timeseries', async (req, reply) => {
      // Parameter binding comes before the controller: a bad boolean is Spring's JSON 400, not the telemetry plain text.
      if (!authed(req, reply)) return reply;
      try { javaBool(req.query as Record<string, string | undefined>, 'useStrictDataTypes'); } catch (e) { return badParam(reply, e); }
      const d = telemetryDevice(req, reply);
      if (d === undefined) return reply;
      const keys = (req.query as { keys?: string }).keys?.split(',').filter((k) => k !== '') ?? Object.keys(d.telemetry);
      return Object.fromEntries(keys.map((k) => [k, (d.telemetry[k] ?? [{ ts: Date.now(), value: null }]).slice(-1)]));
    });
    // Attributes (CONTRACTS.md §4.8; saveEntityAttributesV2 / getAttributesByScope in the OpenAPI).
    app.post('/api/plugins/telemetry/:type/:id/attributes/:scope', async (req, reply) => {
      const d = telemetryDevice(req, reply);
      if (d === undefined) return reply;
      const { scope } = req.params as { scope: string };
      if (scope !== 'SHARED_SCOPE' && scope !== 'SERVER_SCOPE') return textError(reply, 400, `Invalid scope: ${scope}`);
      let body: unknown = req.body;
      try { if (typeof body === 'string') body = JSON.parse(body) as unknown; } catch { body = undefined; }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return textError(reply, 400, 'Invalid request body');
      const now = Date.now();
      for (const [k, v] of Object.entries(body)) scopes(d.id)[scope].set(k, { value: v, lastUpdateTs: now });
      audit.push({ createdTime: now, entityId: d.id, entityName: d.name, actionType: 'ATTRIBUTES_UPDATED' });
      if (scope === 'SHARED_SCOPE' && o.deviceAgent !== undefined) {
        const call = o.deviceAgent({ id: d.id, name: d.name }, body as Record<string, unknown>).then((reported) => {
          if (reported === undefined || !devices.has(d.id)) return;
          for (const [k, v] of Object.entries(reported)) scopes(d.id).CLIENT_SCOPE.set(k, { value: v, lastUpdateTs: Date.now() });
        }, () => undefined);
        agentCalls.add(call);
        void call.finally(() => agentCalls.delete(call));
      }
      return reply.code(200).send();
    });
    app.get('/api/plugins/telemetry/:type/:id/values/attributes/:scope', async (req, reply) => {
      const d = telemetryDevice(req, reply);
      if (d === undefined) return reply;
      const { scope } = req.params as { scope: string };
      if (scope !== 'SHARED_SCOPE' && scope !== 'SERVER_SCOPE' && scope !== 'CLIENT_SCOPE') return textError(reply, 400, `Invalid scope: ${scope}`);
      const keys = (req.query as { keys?: string }).keys?.split(',').filter((k) => k !== '');
      return [...scopes(d.id)[scope].entries()].filter(([k]) => keys === undefined || keys.includes(k)).map(([key, a]) => ({ lastUpdateTs: a.lastUpdateTs, key, value: a.value }));
    });
    // All scopes at once (getAttributes): client, shared and server attributes of the entity.
    app.get('/api/plugins/telemetry/:type/:id/values/attributes', async (req, reply) => {
      const d = telemetryDevice(req, reply);
      if (d === undefined) return reply;
      const keys = (req.query as { keys?: string }).keys?.split(',').filter((k) => k !== '');
      const s = scopes(d.id);
      return [s.CLIENT_SCOPE, s.SHARED_SCOPE, s.SERVER_SCOPE].flatMap((m) => [...m.entries()]).filter(([k]) => keys === undefined || keys.length === 0 || keys.includes(k)).map(([key, a]) => ({ lastUpdateTs: a.lastUpdateTs, key, value: a.value }));
    });
    app.get('/api/audit/logs/entity/:type/:id', async (req, reply) => {
      if (!authed(req, reply)) return reply;
      const { type, id } = req.params as { type: string; id: string };
      const q = req.query as Record<string, string | undefined>;
      // EntityIdFactory.getByTypeAndId: EntityType.valueOf, then the UUID.
      if (!ENTITY_TYPES.has(type)) return reply.code(400).send(errorJson(400, `No enum constant org.thingsboard.server.common.data.EntityType.${type}`, 31));
      if (!UUID.test(id)) return reply.code(400).send(errorJson(400, `Invalid UUID string: ${id}`, 31));
      let link;
      let startTime: number | undefined;
      let endTime: number | undefined;
      try {
        link = pageLink(q, ['createdTime', 'entityType', 'entityName', 'userName', 'actionType', 'actionStatus']);
        startTime = javaInt(q, 'startTime', 'long', false);
        endTime = javaInt(q, 'endTime', 'long', false);
      } catch (e) { return badParam(reply, e); }
      const actionTypes = q['actionTypes']?.split(',').map((a) => a.trim()).filter((a) => a !== '');
      const rows = audit.filter((a) => a.entityId === id && (startTime === undefined || a.createdTime >= startTime) && (endTime === undefined || a.createdTime <= endTime)
        && (actionTypes === undefined || actionTypes.length === 0 || actionTypes.includes(a.actionType)));
      const all = rows.map((a) => ({ id: { id: randomUUID() }, createdTime: a.createdTime, tenantId: TENANT_ID, customerId: NULL_CUSTOMER, entityId: { entityType: 'DEVICE', id: a.entityId }, entityName: a.entityName, userId: { entityType: 'USER', id: randomUUID() }, userName: o.username, actionType: a.actionType, actionData: {}, actionStatus: 'SUCCESS' }));
      return pageOf(all, link, (a, p) => (p === 'createdTime' ? a.createdTime : p === 'entityType' ? 'DEVICE' : p === 'entityName' ? a.entityName : p === 'userName' ? a.userName : p === 'actionType' ? a.actionType : a.actionStatus));
    });
  };

  const sim = await startSimulator('thingsboard', routes, (status, path) => (path.startsWith('/api/plugins/telemetry/')
    ? { body: status >= 500 ? '' : MESSAGE_FOR[status] ?? 'Error', contentType: 'text/plain;charset=UTF-8' }
    : { body: errorJson(status, MESSAGE_FOR[status] ?? (status >= 500 ? 'Internal server error' : 'Bad request'), ERROR_CODE_FOR[status] ?? 2) }), o, auth.vendorErrors);
  return { ...sim, devices, attributes, audit, settled: async () => { await Promise.all([...agentCalls]); } };
}
