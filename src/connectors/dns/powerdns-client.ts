import { createHttpClient, errorForStatus, pathSegment, type HttpResponse, type TlsOptions } from '../../lib/http-client.ts';
import { FirebreakError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Secret } from '../../lib/secret.ts';
import { absoluteName, inZone } from './dns-names.ts';

export interface PowerDnsConfig {
  readonly url: string;
  readonly apiKey: Secret;
  /** The API's server id (`localhost` unless configured otherwise). */
  readonly serverId: string;
  readonly tls?: TlsOptions;
  readonly timeoutMs?: number;
}

/** One rrset as PowerDNS stores it: absolute name, type, TTL and the records' contents in zone-file syntax. */
export interface RRset {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly records: readonly string[];
}

export interface PowerDnsClient {
  /** The zone's rrsets, or null when PowerDNS has no such zone. */
  rrsets(zone: string, signal?: AbortSignal): Promise<RRset[] | null>;
  /** Replaces the rrset of that name and type (creates it when absent): one PATCH, applied whole or not at all. */
  replace(zone: string, rrset: RRset, signal?: AbortSignal): Promise<void>;
  /** Deletes the rrset; deleting one that is absent succeeds (PowerDNS answers 204 either way). */
  remove(zone: string, name: string, type: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

interface ZoneBody { readonly rrsets?: readonly { name: string; type: string; ttl: number; records: readonly { content: string; disabled?: boolean }[] }[] }

/**
 * PowerDNS Authoritative's HTTP API (`/api/v1/servers/{server}/zones/{zone}`),
 * authenticated with `X-API-Key`. Zone and record names are checked as DNS
 * names before they reach a URL or a body; a record outside its zone is
 * refused here, before PowerDNS would.
 */
export function createPowerDnsClient(config: PowerDnsConfig, deps: { logger?: Logger } = {}): PowerDnsClient {
  const http = createHttpClient({
    baseUrl: config.url, system: 'powerdns', ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.tls === undefined ? {} : { tls: config.tls }), ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  const where = `powerdns at ${new URL(config.url).origin}`;
  const headers = () => ({ 'x-api-key': config.apiKey.reveal(), accept: 'application/json' });
  const zonePath = (zone: string) => `api/v1/servers/${pathSegment(config.serverId)}/zones/${pathSegment(zone)}`;

  /** PowerDNS's own reason (`{"error": "…"}` on 422), or the mapped status. */
  const failure = (res: HttpResponse, method: string, zone: string): FirebreakError => {
    if (res.status === 401 || res.status === 403) return new FirebreakError('AUTH_FAILED', `${where} refused the API key (HTTP ${res.status})`);
    if (res.status === 404) return new FirebreakError('NOT_FOUND', `${where} has no zone ${zone} (server ${config.serverId})`, { details: { zone } });
    let reason: unknown;
    try { reason = (JSON.parse(res.text) as { error?: unknown }).error; } catch { /* not JSON: the status says it */ }
    if (res.status === 422 && typeof reason === 'string') return new FirebreakError('UPSTREAM_REJECTED', `${where} refused the change to zone ${zone}: ${reason.slice(0, 300)}`, { details: { status: 422, zone } });
    return errorForStatus(where, method, '/api/v1/servers/{server}/zones/{zone}', res);
  };

  const patch = async (zone: string, rrset: Record<string, unknown>, signal?: AbortSignal): Promise<void> => {
    const res = await http.send({ method: 'PATCH', path: zonePath(zone), headers: headers(), json: { rrsets: [rrset] }, ...(signal === undefined ? {} : { signal }) });
    if (res.status !== 204) throw failure(res, 'PATCH', zone);
  };
  const names = (zone: string, name: string) => {
    const z = absoluteName(zone, 'zone');
    const n = absoluteName(name, 'record name');
    if (!inZone(n, z)) throw new FirebreakError('INVALID_INPUT', `record ${n} is not in zone ${z}`);
    return { z, n };
  };

  return {
    async rrsets(zone, signal) {
      const z = absoluteName(zone, 'zone');
      const res = await http.send({ method: 'GET', path: zonePath(z), headers: headers(), ...(signal === undefined ? {} : { signal }) });
      if (res.status === 404) return null;
      if (res.status !== 200) throw failure(res, 'GET', z);
      return (res.json<ZoneBody>().rrsets ?? []).map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, records: r.records.filter((x) => x.disabled !== true).map((x) => x.content) }));
    },
    async replace(zone, rrset, signal) {
      const { z, n } = names(zone, rrset.name);
      if (rrset.records.length === 0) throw new FirebreakError('INVALID_INPUT', `rrset ${n} ${rrset.type} has no records (remove it instead)`);
      await patch(z, { name: n, type: rrset.type, ttl: rrset.ttl, changetype: 'REPLACE', records: rrset.records.map((content) => ({ content, disabled: false })) }, signal);
    },
    async remove(zone, name, type, signal) {
      const { z, n } = names(zone, name);
      await patch(z, { name: n, type, changetype: 'DELETE' }, signal);
    },
    close: () => http.close(),
  };
}
