import { FirebreakError } from '../../lib/errors.ts';
import { createHttpClient, errorForStatus, pathSegment, type HttpClient, type HttpResponse } from '../../lib/http-client.ts';
import type { Logger } from '../../lib/log.ts';
import type { BasicAuthClientConfig } from '../connector-types.ts';
import { Secret } from '../../lib/secret.ts';

/** ThingsBoard's login: one user with HTTP Basic-style credentials, like every basic-auth service. */
export type ThingsboardConfig = BasicAuthClientConfig;

export interface TbDevice {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly createdTime: number;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ThingsboardClient {
  findDeviceByName(name: string, signal?: AbortSignal): Promise<TbDevice | null>;
  getDevice(id: string, signal?: AbortSignal): Promise<TbDevice | null>;
  latestTelemetry(id: string, signal?: AbortSignal): Promise<Record<string, readonly { ts: number; value: unknown }[]>>;
  /** Deletes the device; an unknown device counts as done (`alreadyAbsent`). */
  deleteDevice(id: string, signal?: AbortSignal): Promise<{ alreadyAbsent: boolean }>;
  /**
   * The device's X.509 credentials (CONTRACTS.md §4.5): the certificate ThingsBoard authenticates it by
   * (PEM or bare base64 DER, as stored) and its SHA3-256 hash; null for another kind of credentials,
   * whose id (an access token) is a secret and never leaves this client.
   */
  x509Credentials(id: string, signal?: AbortSignal): Promise<{ readonly certHash: string | null; readonly certificate: string | null } | null>;
  /** Every device of the tenant, page by page (`GET /api/tenant/devices?pageSize&page`). */
  listDevices(signal?: AbortSignal): Promise<TbDevice[]>;
  /** Saves shared attributes of a device (what the device receives over MQTT `v1/devices/me/attributes`). */
  saveSharedAttributes(id: string, attributes: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void>;
  /** Client attributes (what the device reported), by key; absent keys are left out. */
  clientAttributes(id: string, keys: readonly string[], signal?: AbortSignal): Promise<Record<string, { value: unknown; lastUpdateTs: number }>>;
  close(): Promise<void>;
}

/**
 * ThingsBoard REST (CONTRACTS.md §4): logs in for a JWT (kept, renewed once on
 * 401), sends it as X-Authorization. Device names from input are passed as
 * query values and ids as encoded path segments, never spliced into paths.
 */
export function createThingsboardClient(config: ThingsboardConfig, deps: { logger?: Logger } = {}): ThingsboardClient {
  const http: HttpClient = createHttpClient({
    baseUrl: config.url, system: 'thingsboard', ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.tls === undefined ? {} : { tls: config.tls }), ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  let token: Secret | undefined;

  async function login(signal?: AbortSignal): Promise<Secret> {
    const res = await http.send({ method: 'POST', path: 'api/auth/login', json: { username: config.username, password: config.password.reveal() }, ...(signal === undefined ? {} : { signal }) });
    if (res.status === 401) {
      throw new FirebreakError('AUTH_FAILED', `thingsboard at ${new URL(config.url).origin} refused the login of ${config.username}: ${messageOf(res)}`);
    }
    if (res.status !== 200) throw errorForStatus(`thingsboard at ${new URL(config.url).origin}`, 'POST', '/api/auth/login', res);
    const body = res.json<{ token?: unknown }>();
    if (typeof body.token !== 'string') throw new FirebreakError('UPSTREAM_REJECTED', 'thingsboard login answered without a token');
    token = new Secret(body.token);
    return token;
  }

  /** Sends with the JWT; on a 401 (expired) logs in again once and retries. */
  async function authed(method: 'GET' | 'DELETE' | 'POST', path: string, signal?: AbortSignal, json?: unknown): Promise<HttpResponse> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const jwt = token ?? (await login(signal));
      const res = await http.send({ method, path, headers: { 'x-authorization': `Bearer ${jwt.reveal()}` }, ...(json === undefined ? {} : { json }), ...(signal === undefined ? {} : { signal }) });
      if (res.status !== 401 || attempt === 1) return res;
      token = undefined;
    }
    throw new FirebreakError('INTERNAL', 'unreachable');
  }

  const fail = (method: string, path: string, res: HttpResponse) => errorForStatus(`thingsboard at ${new URL(config.url).origin}`, method, path, res);
  const toDevice = (d: Record<string, unknown>): TbDevice => {
    const id = (d['id'] as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw new FirebreakError('UPSTREAM_REJECTED', 'thingsboard answered a device without an id');
    return { id, name: String(d['name']), type: String(d['type']), createdTime: Number(d['createdTime']), raw: d };
  };

  return {
    async findDeviceByName(name, signal) {
      const path = `api/tenant/devices?${new URLSearchParams({ deviceName: name }).toString()}`;
      const res = await authed('GET', path, signal);
      if (res.status === 404) return null;
      if (res.status !== 200) throw fail('GET', '/api/tenant/devices', res);
      const d = toDevice(res.json<Record<string, unknown>>());
      // The API matches the name exactly; check anyway so a proxy or version difference cannot hand back another device.
      return d.name === name ? d : null;
    },
    async getDevice(id, signal) {
      const res = await authed('GET', `api/device/${pathSegment(id)}`, signal);
      if (res.status === 404) return null;
      if (res.status !== 200) throw fail('GET', '/api/device/{id}', res);
      return toDevice(res.json<Record<string, unknown>>());
    },
    async latestTelemetry(id, signal) {
      const res = await authed('GET', `api/plugins/telemetry/DEVICE/${pathSegment(id)}/values/timeseries`, signal);
      // Telemetry errors are plain text (CONTRACTS.md §4.0): errorForStatus quotes the body as it is.
      if (res.status !== 200) throw fail('GET', '/api/plugins/telemetry/DEVICE/{id}/values/timeseries', res);
      return res.json<Record<string, { ts: number; value: unknown }[]>>();
    },
    async x509Credentials(id, signal) {
      const res = await authed('GET', `api/device/${pathSegment(id)}/credentials`, signal);
      if (res.status === 404) return null;
      if (res.status !== 200) throw fail('GET', '/api/device/{id}/credentials', res);
      const body = res.json<{ credentialsType?: unknown; credentialsId?: unknown; credentialsValue?: unknown }>();
      if (body.credentialsType !== 'X509_CERTIFICATE') return null;
      const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
      return { certHash: text(body.credentialsId), certificate: text(body.credentialsValue) };
    },
    async deleteDevice(id, signal) {
      const res = await authed('DELETE', `api/device/${pathSegment(id)}`, signal);
      if (res.status === 404) return { alreadyAbsent: true };
      if (res.status !== 200) throw fail('DELETE', '/api/device/{id}', res);
      return { alreadyAbsent: false };
    },
    async listDevices(signal) {
      const all: TbDevice[] = [];
      for (let page = 0; ; page++) {
        const res = await authed('GET', `api/tenant/devices?${new URLSearchParams({ pageSize: '1000', page: String(page), sortProperty: 'name', sortOrder: 'ASC' }).toString()}`, signal);
        if (res.status !== 200) throw fail('GET', '/api/tenant/devices', res);
        const body = res.json<{ data?: Record<string, unknown>[]; hasNext?: boolean }>();
        all.push(...(body.data ?? []).map(toDevice));
        if (body.hasNext !== true) return all;
      }
    },
    async saveSharedAttributes(id, attributes, signal) {
      const res = await authed('POST', `api/plugins/telemetry/DEVICE/${pathSegment(id)}/attributes/SHARED_SCOPE`, signal, attributes);
      if (res.status !== 200) throw fail('POST', '/api/plugins/telemetry/DEVICE/{id}/attributes/SHARED_SCOPE', res);
    },
    async clientAttributes(id, keys, signal) {
      const res = await authed('GET', `api/plugins/telemetry/DEVICE/${pathSegment(id)}/values/attributes/CLIENT_SCOPE?${new URLSearchParams({ keys: keys.join(',') }).toString()}`, signal);
      if (res.status !== 200) throw fail('GET', '/api/plugins/telemetry/DEVICE/{id}/values/attributes/CLIENT_SCOPE', res);
      const out: Record<string, { value: unknown; lastUpdateTs: number }> = {};
      for (const a of res.json<{ key?: unknown; value?: unknown; lastUpdateTs?: unknown }[]>()) {
        if (typeof a.key === 'string' && keys.includes(a.key)) out[a.key] = { value: a.value, lastUpdateTs: Number(a.lastUpdateTs) };
      }
      return out;
    },
    close: () => http.close(),
  };
}

function messageOf(res: HttpResponse): string {
  try {
    const m = (JSON.parse(res.text) as { message?: unknown }).message;
    return typeof m === 'string' ? m : `HTTP ${res.status}`;
  } catch {
    return res.text === '' ? `HTTP ${res.status}` : res.text.slice(0, 200);
  }
}
