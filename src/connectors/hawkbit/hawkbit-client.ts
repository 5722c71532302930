import { createHttpClient, errorForStatus, pathSegment } from '../../lib/http-client.ts';
import { FirebreakError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { BasicAuthClientConfig } from '../connector-types.ts';

/** hawkBit's login: one user with HTTP Basic-style credentials, like every basic-auth service. */
export type HawkbitConfig = BasicAuthClientConfig;

export interface HawkbitClient {
  /** The target, or null when hawkBit does not know it. */
  getTarget(controllerId: string, signal?: AbortSignal): Promise<Readonly<Record<string, unknown>> | null>;
  /** Deletes the target; 200 (≤ 0.9) and 204 (0.10+) both mean done, 404 means already absent. */
  deleteTarget(controllerId: string, signal?: AbortSignal): Promise<{ alreadyAbsent: boolean }>;
  close(): Promise<void>;
}

/** hawkBit Management API (CONTRACTS.md §5), HTTP Basic auth. */
export function createHawkbitClient(config: HawkbitConfig, deps: { logger?: Logger } = {}): HawkbitClient {
  const http = createHttpClient({
    baseUrl: config.url, system: 'hawkbit', ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.tls === undefined ? {} : { tls: config.tls }), ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  const where = `hawkbit at ${new URL(config.url).origin}`;
  const headers = () => ({ authorization: `Basic ${Buffer.from(`${config.username}:${config.password.reveal()}`).toString('base64')}`, accept: 'application/hal+json, application/json' });
  const auth = (status: number) => new FirebreakError('AUTH_FAILED', `${where} refused the credentials of ${config.username} (HTTP ${status})`);
  return {
    async getTarget(controllerId, signal) {
      const res = await http.send({ method: 'GET', path: `rest/v1/targets/${pathSegment(controllerId)}`, headers: headers(), ...(signal === undefined ? {} : { signal }) });
      if (res.status === 404) return null;
      if (res.status === 401) throw auth(401);
      if (res.status !== 200) throw errorForStatus(where, 'GET', '/rest/v1/targets/{id}', res);
      return res.json<Record<string, unknown>>();
    },
    async deleteTarget(controllerId, signal) {
      const res = await http.send({ method: 'DELETE', path: `rest/v1/targets/${pathSegment(controllerId)}`, headers: headers(), ...(signal === undefined ? {} : { signal }) });
      if (res.status === 200 || res.status === 204) return { alreadyAbsent: false };
      if (res.status === 404) return { alreadyAbsent: true };
      if (res.status === 401) throw auth(401);
      throw errorForStatus(where, 'DELETE', '/rest/v1/targets/{id}', res);
    },
    close: () => http.close(),
  };
}
