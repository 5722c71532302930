import { createHmac, randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { badRequest, type LogicalRequest, type LogicalResponse, notFound, rfc3339, rfc3339Nano, str, unsupportedOperation } from './vault-http.ts';
import type { TokenEntry } from './vault-tokens.ts';

/**
 * The file audit device of the lab Vault (audit/types.go,
 * audit/hashstructure.go, builtin/audit/file): one JSON object per line,
 * a request entry before the handler runs and a response entry after, keys
 * sorted at every level as Vault 1.16–1.21 writes them, empty fields left
 * out, and every string of `data` (and the tokens and accessors) replaced
 * by `hmac-sha256:<hex>` keyed with the device's salt. Simplified: only
 * `file_path` (a file, `stdout` or `discard`), `log_raw` and
 * `hmac_accessor` are honoured; no headers are audited; one namespace.
 */

export interface AuditDevice {
  readonly path: string;
  readonly type: 'file';
  readonly description: string;
  readonly options: Readonly<Record<string, string>>;
  /** The HMAC key (Vault keeps a random salt per device in storage). */
  readonly salt: string;
}

/** Where a request went: the mount that served it. */
export interface MountInfo { readonly accessor: string; readonly point: string; readonly type: string; readonly version: string; readonly class: 'auth' | 'secret' }

/** Go's json.Marshal of a map: keys sorted at every depth; undefined fields dropped. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
}

/** Drops what Go's `omitempty` drops: "", 0, false, nil, empty maps and slices. */
function omitEmpty(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => !(v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0))));
}

export class AuditBroker {
  readonly devices = new Map<string, AuditDevice>();

  hmac(device: AuditDevice, value: string): string {
    return `hmac-sha256:${createHmac('sha256', device.salt).update(value).digest('hex')}`;
  }

  /** Every string at any depth HMACed; map keys, numbers, booleans and null kept (hashstructure.go). */
  #hashData(d: AuditDevice, v: unknown): unknown {
    if (d.options['log_raw'] === 'true') return v;
    if (typeof v === 'string') return this.hmac(d, v);
    if (Array.isArray(v)) return v.map((x) => this.#hashData(d, x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.#hashData(d, x)]));
    return v;
  }

  #token(d: AuditDevice, v: string | undefined, accessor = false): string | undefined {
    if (v === undefined || v === '') return undefined;
    if (d.options['log_raw'] === 'true' || (accessor && d.options['hmac_accessor'] === 'false')) return v;
    return this.hmac(d, v);
  }

  /** The caller's `auth` block: the token that made the request (or only `token_type: default` when there is none). */
  #auth(d: AuditDevice, t: TokenEntry | undefined, raw: string | undefined, granting: readonly string[] | undefined, allowed: boolean): Record<string, unknown> {
    const results = granting === undefined ? undefined : allowed
      ? { allowed: true, granting_policies: [{ type: '' }, ...granting.map((name) => ({ name, namespace_id: 'root', type: 'acl' }))] }
      : { allowed: false };
    if (t === undefined) return omitEmpty({ client_token: this.#token(d, raw), policy_results: results, token_type: 'default' });
    return omitEmpty({
      accessor: this.#token(d, t.accessor, true), client_token: this.#token(d, t.id), display_name: t.displayName, entity_id: t.entityId, metadata: t.meta ?? undefined,
      policies: t.policies, policy_results: results, token_issue_time: rfc3339(t.creationTime), token_policies: t.policies, token_ttl: t.ttl, token_type: 'service',
    });
  }

  #request(d: AuditDevice, req: LogicalRequest, caller: TokenEntry | undefined, mount: MountInfo | undefined, clientId: string | undefined): Record<string, unknown> {
    return omitEmpty({
      client_id: clientId, client_token: this.#token(d, req.token), client_token_accessor: this.#token(d, caller?.accessor, true),
      data: req.data === undefined ? undefined : this.#hashData(d, req.data), id: req.id, mount_accessor: mount?.accessor, mount_class: mount?.class,
      mount_point: mount?.point, mount_running_version: mount?.version, mount_type: mount?.type, namespace: { id: 'root' }, operation: req.operation, path: req.path,
      remote_address: req.remoteAddress, remote_port: req.remotePort,
    });
  }

  #write(d: AuditDevice, entry: Record<string, unknown>): void {
    const line = `${JSON.stringify(sorted(entry)).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
    const p = d.options['file_path'] ?? '';
    if (p === 'discard') return;
    if (p === 'stdout') { process.stdout.write(line); return; }
    appendFileSync(p, line, { mode: Number.parseInt(d.options['mode'] ?? '0600', 8) });
  }

  /** The request entry (written after the token is checked, before the handler runs). */
  logRequest(x: { req: LogicalRequest; caller: TokenEntry | undefined; mount: MountInfo | undefined; granting?: readonly string[]; allowed: boolean; clientId?: string; error?: string }): void {
    for (const d of this.devices.values()) {
      this.#write(d, {
        auth: this.#auth(d, x.caller, x.req.token, x.granting, x.allowed), error: x.error, request: this.#request(d, x.req, x.caller, x.mount, x.clientId), time: rfc3339Nano(), type: 'request',
      });
    }
  }

  /** The response entry; for a login or token creation `auth` is the new token's (as Vault 1.17+ writes it). */
  logResponse(x: { req: LogicalRequest; caller: TokenEntry | undefined; issued?: TokenEntry; mount: MountInfo | undefined; granting?: readonly string[]; allowed: boolean; clientId?: string; resp?: LogicalResponse; error?: string }): void {
    for (const d of this.devices.values()) {
      const r = x.resp;
      const data = x.error !== undefined ? { error: x.error } : r?.data ?? undefined;
      const auth = r?.auth === undefined ? undefined : omitEmpty({
        ...r.auth, client_token: this.#token(d, str(r.auth['client_token'])), accessor: this.#token(d, str(r.auth['accessor']), true), display_name: x.issued?.displayName,
        lease_duration: undefined, renewable: undefined, orphan: undefined, mfa_requirement: undefined, token_ttl: x.issued?.ttl, token_type: 'service',
      });
      const response = omitEmpty({
        auth, data: data === undefined || data === null ? undefined : this.#hashData(d, data), mount_accessor: x.mount?.accessor, mount_class: x.mount?.class,
        mount_point: x.mount?.point, mount_running_plugin_version: x.mount?.version, mount_type: x.mount?.type, secret: r?.secret, warnings: r?.warnings,
      });
      const caller = x.issued ?? x.caller;
      this.#write(d, {
        auth: this.#auth(d, caller, x.issued?.id ?? x.req.token, x.issued === undefined ? x.granting : undefined, x.allowed), error: x.error,
        request: this.#request(d, x.req, x.caller, x.mount, x.clientId), response, time: rfc3339Nano(), type: 'response',
      });
    }
  }

  /** sys/audit, sys/audit/<path>, sys/audit-hash/<path>. `enabled` runs after a device is added (Vault's sys/audit/test probe). */
  sys(req: LogicalRequest, rest: string, hash: boolean): LogicalResponse {
    if (hash) {
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const d = this.devices.get(`${rest.replace(/\/$/, '')}/`);
      if (d === undefined) throw badRequest('unknown audit backend');
      return { data: { hash: this.hmac(d, str(req.data?.['input'] ?? '')) } };
    }
    if (rest === '') {
      if (req.operation !== 'read') throw unsupportedOperation();
      return { data: Object.fromEntries([...this.devices].map(([k, d]) => [k, { description: d.description, local: false, options: { ...d.options }, path: k, type: d.type }])), topLevel: true };
    }
    const path = `${rest.replace(/\/$/, '')}/`;
    if (req.operation === 'delete') { this.devices.delete(path); return {}; }
    if (req.operation === 'read') throw notFound();
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const type = str(req.data?.['type'] ?? '');
    if (type === '') throw badRequest('type is required');
    if (type !== 'file') throw badRequest(`unknown backend type: "${type}"`);
    if (this.devices.has(path)) throw badRequest(`path already in use: ${path}`);
    const options = Object.fromEntries(Object.entries((req.data?.['options'] ?? {}) as Record<string, unknown>).map(([k, v]) => [k, str(v)]));
    const filePath = options['file_path'] ?? options['path'];
    if (filePath === undefined || filePath === '') throw badRequest('file_path is required');
    if (filePath !== 'stdout' && filePath !== 'discard') {
      try { writeFileSync(filePath, '', { flag: 'a', mode: 0o600 }); } catch (e) { throw badRequest(`sanity check failed; unable to open "${filePath}" for writing: ${(e as Error).message}`); }
    }
    const device: AuditDevice = { path, type: 'file', description: typeof req.data?.['description'] === 'string' ? req.data['description'] : '', options: { ...options, file_path: filePath }, salt: randomUUID() };
    this.devices.set(path, device);
    // Vault writes a test request through a new device before it takes it in (L27, L30, L48 of the real samples).
    this.#write(device, { request: { id: randomUUID(), namespace: { id: 'root' }, operation: 'update', path: 'sys/audit/test' }, time: rfc3339Nano(), type: 'request' });
    return {};
  }
}
