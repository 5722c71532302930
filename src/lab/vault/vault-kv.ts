import { parseDuration, badRequest, boolField, goDuration, intField, type LogicalRequest, type LogicalResponse, mountAccessor, notFound, str, unsupportedOperation, unsupportedPath, uuid, VaultError } from './vault-http.ts';

/**
 * Secrets engines of the lab Vault: the `sys/mounts` table and the KV
 * engine, version 1 (plain key/value) and version 2 (versions, soft delete,
 * undelete, destroy, metadata, check-and-set, max_versions), after
 * vault-plugin-secrets-kv `path_data.go` / `path_metadata.go`.
 * Simplified: no delete_version_after timer, no subkeys, no PATCH, no
 * KV v1→v2 upgrade; cas_required and max_versions are per key and per mount.
 */

interface Version { readonly data: Record<string, unknown> | null; readonly created: string; deletion: string; destroyed: boolean }
interface KeyMeta { versions: Map<number, Version>; current: number; oldest: number; maxVersions: number; casRequired: boolean; custom: Record<string, string> | null; created: string; updated: string }

export interface SecretMount {
  readonly type: string;
  readonly version: 1 | 2;
  readonly accessor: string;
  readonly uuid: string;
  readonly description: string;
  readonly v1: Map<string, Record<string, unknown>>;
  readonly v2: Map<string, KeyMeta>;
  maxVersions: number;
  casRequired: boolean;
}

export const KV_VERSION = 'v0.21.0+builtin';

/** What `LIST <prefix>` answers over a set of keys: the next segment, folders with a trailing slash. */
function listKeys(keys: Iterable<string>, prefix: string): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const slash = rest.indexOf('/');
    out.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return [...out].filter((k) => k !== '').sort();
}

/** A LIST under `key` (a folder, with or without its slash): the keys, or 404 when there are none. */
function listing(keys: Iterable<string>, key: string): LogicalResponse {
  const found = listKeys(keys, key === '' || key.endsWith('/') ? key : `${key}/`);
  if (found.length === 0) throw notFound();
  return { data: { keys: found } };
}

function versionMeta(v: Version, n: number, custom: Record<string, string> | null): Record<string, unknown> {
  return { created_time: v.created, custom_metadata: custom, deletion_time: v.deletion, destroyed: v.destroyed, version: n };
}

export class SecretEngines {
  readonly mounts = new Map<string, SecretMount>();

  constructor() {
    // The built-in mounts every Vault has.
    this.#add('cubbyhole/', 'cubbyhole', 1, 'per-token private secret storage');
    this.#add('identity/', 'identity', 1, 'identity store');
    this.#add('sys/', 'system', 1, 'system endpoints used for control, policy and debugging');
  }

  #add(path: string, type: string, version: 1 | 2, description = ''): SecretMount {
    const m: SecretMount = { type, version, accessor: mountAccessor(type), uuid: uuid(), description, v1: new Map(), v2: new Map(), maxVersions: 0, casRequired: false };
    this.mounts.set(path, m);
    return m;
  }

  mountFor(path: string): { path: string; mount: SecretMount; rest: string } | undefined {
    const key = [...this.mounts.keys()].filter((k) => `${path}/`.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    const mount = key === undefined ? undefined : this.mounts.get(key);
    return key === undefined || mount === undefined ? undefined : { path: key, mount, rest: path.slice(key.length) };
  }

  #describe(m: SecretMount): Record<string, unknown> {
    return {
      accessor: m.accessor, config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 }, deprecation_status: m.type === 'kv' ? 'supported' : undefined,
      description: m.description, external_entropy_access: false, local: m.type === 'cubbyhole', options: m.type === 'kv' ? { version: str(m.version) } : null,
      plugin_version: '', running_plugin_version: m.type === 'kv' ? KV_VERSION : 'v1.19.0+builtin.vault', running_sha256: '', seal_wrap: m.type === 'cubbyhole', type: m.type, uuid: m.uuid,
    };
  }

  /** sys/mounts and sys/mounts/<path>. */
  sys(req: LogicalRequest, rest: string): LogicalResponse {
    if (rest === '') {
      if (req.operation !== 'read') throw unsupportedOperation();
      return { data: Object.fromEntries([...this.mounts].map(([k, m]) => [k, this.#describe(m)])), topLevel: true };
    }
    const path = `${rest.replace(/\/tune$/, '').replace(/\/$/, '')}/`;
    const m = this.mounts.get(path);
    if (req.operation === 'read') {
      if (m === undefined) throw badRequest(`No secret engine mount at ${path}`);
      return { data: this.#describe(m) };
    }
    if (req.operation === 'delete') {
      if (['sys/', 'cubbyhole/', 'identity/'].includes(path)) throw badRequest(`cannot unmount "${path}"`);
      this.mounts.delete(path);
      return {};
    }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    if (rest.endsWith('/tune')) {
      if (m === undefined) throw badRequest(`cannot fetch sysview for path "${path}"`);
      return {};
    }
    const type = str(req.data?.['type'] ?? '');
    if (type === '') throw badRequest('backend type must be specified as a string');
    if (path.startsWith('auth/') || path.startsWith('sys/')) throw badRequest(`cannot mount under ${path.split('/')[0] ?? ''}/`);
    if ([...this.mounts.keys()].some((k) => k.startsWith(path) || path.startsWith(k))) throw badRequest(`path is already in use at ${path}`);
    if (type !== 'kv' && type !== 'kv-v2') throw badRequest(`plugin not found in the catalog: ${type}`);
    const opts = req.data?.['options'] as Record<string, unknown> | undefined;
    const version = type === 'kv-v2' || str(opts?.['version'] ?? '1') === '2' ? 2 : 1;
    this.#add(path, 'kv', version, typeof req.data?.['description'] === 'string' ? req.data['description'] : '');
    return {};
  }

  /** A request under a KV mount. */
  handle(req: LogicalRequest, m: SecretMount, rest: string): LogicalResponse {
    if (m.type !== 'kv') throw unsupportedPath();
    return m.version === 1 ? this.#v1(req, m, rest) : this.#v2(req, m, rest);
  }

  /** Whether a write creates (KV's existence check): decides create vs update capability and the audit operation. */
  exists(m: SecretMount, rest: string): boolean {
    if (m.version === 1) return m.v1.has(rest);
    const key = rest.replace(/^(data|metadata)\//, '');
    return m.v2.has(key);
  }

  #v1(req: LogicalRequest, m: SecretMount, key: string): LogicalResponse {
    if (req.operation === 'list') return listing(m.v1.keys(), key);
    if (key === '' || key.endsWith('/')) throw unsupportedPath();
    if (req.operation === 'read') {
      const v = m.v1.get(key);
      if (v === undefined) throw notFound();
      return { data: { ...v }, secret: { lease_id: '' } };
    }
    if (req.operation === 'delete') { m.v1.delete(key); return {}; }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    if (req.data === undefined || Object.keys(req.data).length === 0) throw new VaultError(500, [`1 error occurred:\n\t* missing data fields\n\n`]);
    m.v1.set(key, { ...req.data });
    return {};
  }

  #v2(req: LogicalRequest, m: SecretMount, rest: string): LogicalResponse {
    const slash = rest.indexOf('/');
    const section = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? '' : rest.slice(slash + 1);
    if (section === 'config' && slash === -1) {
      if (req.operation === 'read') return { data: { cas_required: m.casRequired, delete_version_after: '0s', max_versions: m.maxVersions } };
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      if (req.data?.['max_versions'] !== undefined) m.maxVersions = intField(req.data['max_versions'], 'max_versions');
      if (req.data?.['cas_required'] !== undefined) m.casRequired = boolField(req.data['cas_required'], 'cas_required');
      return {};
    }
    if (!['data', 'metadata', 'delete', 'undelete', 'destroy'].includes(section)) {
      // A v1-style path on a v2 mount (CONTRACTS.md §2.8).
      const sub = req.operation === 'read' ? 'get' : req.operation === 'list' ? 'list' : req.operation === 'delete' ? 'delete' : req.operation === 'patch' ? 'patch' : 'put';
      return { status: 404, data: null, warnings: [`Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${sub}' for this operation.`] };
    }
    if (section === 'metadata') return this.#metadata(req, m, key);
    if (key === '' || key.endsWith('/')) throw unsupportedPath();
    const meta = m.v2.get(key);
    if (section === 'data') {
      if (req.operation === 'read') {
        if (meta === undefined) throw notFound();
        const want = req.query['version'] === undefined || req.query['version'] === '' || req.query['version'] === '0' ? meta.current : Number(req.query['version']);
        if (!Number.isInteger(want)) throw badRequest(`error converting input ${JSON.stringify(req.query['version'])} for field "version": cannot parse '${req.query['version'] ?? ''}' as int`);
        const v = meta.versions.get(want);
        if (v === undefined) throw notFound();
        const md = versionMeta(v, want, meta.custom);
        // A deleted or destroyed version: 404 with the envelope, data null (path_data.go).
        if (v.deletion !== '' || v.destroyed) return { status: 404, data: { data: null, metadata: md } };
        return { data: { data: { ...v.data }, metadata: md } };
      }
      if (req.operation === 'delete') {
        const v = meta?.versions.get(meta.current);
        if (v !== undefined && v.deletion === '' && !v.destroyed) v.deletion = new Date().toISOString();
        return {};
      }
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      const data = req.data?.['data'];
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badRequest('no data provided');
      const options = (req.data?.['options'] ?? {}) as Record<string, unknown>;
      const casRequired = m.casRequired || meta?.casRequired === true;
      if (options['cas'] === undefined && casRequired) throw badRequest('check-and-set parameter required for this call');
      if (options['cas'] !== undefined && intField(options['cas'], 'cas') !== (meta?.current ?? 0)) throw badRequest('check-and-set parameter did not match the current version');
      const now = new Date().toISOString();
      const k: KeyMeta = meta ?? { versions: new Map(), current: 0, oldest: 0, maxVersions: 0, casRequired: false, custom: null, created: now, updated: now };
      k.current += 1;
      k.updated = now;
      k.versions.set(k.current, { data: { ...(data as Record<string, unknown>) }, created: now, deletion: '', destroyed: false });
      const max = k.maxVersions > 0 ? k.maxVersions : m.maxVersions > 0 ? m.maxVersions : 10;
      for (const n of [...k.versions.keys()].sort((a, b) => a - b)) if (k.versions.size > max) k.versions.delete(n);
      k.oldest = Math.min(...k.versions.keys());
      m.v2.set(key, k);
      return { data: versionMeta(k.versions.get(k.current) as Version, k.current, k.custom) };
    }
    // delete/, undelete/, destroy/ with {"versions":[…]}
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const versions = Array.isArray(req.data?.['versions']) ? (req.data['versions'] as unknown[]).map((v) => intField(v, 'versions')) : [];
    if (versions.length === 0) throw badRequest('no version number provided');
    if (meta === undefined) return {};
    for (const n of versions) {
      const v = meta.versions.get(n);
      if (v === undefined || v.destroyed) continue;
      if (section === 'delete' && v.deletion === '') v.deletion = new Date().toISOString();
      if (section === 'undelete') v.deletion = '';
      if (section === 'destroy') meta.versions.set(n, { ...v, data: null, destroyed: true });
    }
    return {};
  }

  #metadata(req: LogicalRequest, m: SecretMount, key: string): LogicalResponse {
    if (req.operation === 'list') return listing(m.v2.keys(), key);
    if (key === '' || key.endsWith('/')) throw unsupportedPath();
    const meta = m.v2.get(key);
    if (req.operation === 'read') {
      if (meta === undefined) throw notFound();
      return {
        data: {
          cas_required: meta.casRequired, created_time: meta.created, current_version: meta.current, custom_metadata: meta.custom, delete_version_after: goDuration(0),
          max_versions: meta.maxVersions, oldest_version: meta.oldest, updated_time: meta.updated,
          versions: Object.fromEntries([...meta.versions].map(([n, v]) => [str(n), { created_time: v.created, deletion_time: v.deletion, destroyed: v.destroyed }])),
        },
      };
    }
    if (req.operation === 'delete') { m.v2.delete(key); return {}; }
    if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
    const d = req.data ?? {};
    const now = new Date().toISOString();
    const k: KeyMeta = meta ?? { versions: new Map(), current: 0, oldest: 0, maxVersions: 0, casRequired: false, custom: null, created: now, updated: now };
    if ('max_versions' in d) k.maxVersions = intField(d['max_versions'], 'max_versions');
    if ('cas_required' in d) k.casRequired = boolField(d['cas_required'], 'cas_required');
    if ('delete_version_after' in d) parseDuration(d['delete_version_after'], 'delete_version_after');
    if ('custom_metadata' in d) k.custom = Object.fromEntries(Object.entries((d['custom_metadata'] ?? {}) as Record<string, unknown>).map(([a, b]) => [a, str(b)]));
    k.updated = now;
    m.v2.set(key, k);
    return {};
  }
}
