import { FirebreakError } from '../../lib/errors.ts';
import { Secret, isSecret } from '../../lib/secret.ts';
import { dataOf, field, vaultPath, type VaultTransport } from './vault-http.ts';

/**
 * A secret's key/value pairs, each a Secret: KV data is what Firebreak must never print. A
 * string value is wrapped as it is; any other JSON value (number, object) as its JSON text.
 */
export type KvData = Readonly<Record<string, Secret>>;

/** What a write takes: plain values or Secrets (revealed only into the request body). */
export type KvInput = Readonly<Record<string, Secret | string | number | boolean | null>>;

/** One version's metadata (KV v2). */
export interface KvVersionMetadata {
  readonly version: number;
  readonly createdTime: string;
  /** '' when not deleted; the soft-delete time otherwise. */
  readonly deletionTime: string;
  readonly destroyed: boolean;
  readonly customMetadata: Readonly<Record<string, string>> | null;
}

/**
 * A KV v2 read: the data, or a version that exists but has no data any more (soft-deleted, with
 * its deletion time; or destroyed). An absent secret is `null`, not one of these: Vault answers
 * 404 to all three, but only "absent" has an empty body (CONTRACTS.md §2.8).
 */
export type KvV2Read =
  | { readonly state: 'present'; readonly data: KvData; readonly metadata: KvVersionMetadata }
  | { readonly state: 'deleted'; readonly deletionTime: string; readonly metadata: KvVersionMetadata }
  | { readonly state: 'destroyed'; readonly metadata: KvVersionMetadata };

export interface KvMetadata {
  readonly currentVersion: number;
  readonly oldestVersion: number;
  readonly maxVersions: number;
  readonly casRequired: boolean;
  readonly createdTime: string;
  readonly updatedTime: string;
  readonly deleteVersionAfter: string;
  readonly customMetadata: Readonly<Record<string, string>> | null;
  readonly versions: Readonly<Record<string, { readonly createdTime: string; readonly deletionTime: string; readonly destroyed: boolean }>>;
}

/** Where a KV path lives: its mount (with trailing slash), the path inside it, and the engine version. */
export interface KvLocation {
  readonly mount: string;
  readonly path: string;
  readonly version: 1 | 2;
}

const kvData = (o: Record<string, unknown>): KvData =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, new Secret(typeof v === 'string' ? v : JSON.stringify(v))]));

const kvInput = (data: KvInput): Record<string, unknown> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, isSecret(v) ? v.reveal() : v]));

const secretsOf = (data: KvInput): Secret[] => Object.values(data).filter(isSecret);

const customOf = (o: Record<string, unknown>): Record<string, string> | null => {
  const c = o['custom_metadata'];
  if (typeof c !== 'object' || c === null) return null;
  return Object.fromEntries(Object.entries(c).filter((e): e is [string, string] => typeof e[1] === 'string'));
};

const versionMetaOf = (m: Record<string, unknown>): KvVersionMetadata => ({
  version: field.num(m, 'version'), createdTime: field.str(m, 'created_time'), deletionTime: field.str(m, 'deletion_time'),
  destroyed: field.bool(m, 'destroyed'), customMetadata: customOf(m),
});

const versionsArg = (versions: readonly number[]): number[] => {
  if (versions.length === 0 || versions.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new FirebreakError('INVALID_INPUT', `vault kv: versions must be positive integers, at least one (got ${JSON.stringify(versions)})`);
  }
  return [...versions];
};

export function vaultKv(t: VaultTransport) {
  const at = (mount: string, sub: string, path: string) => `${vaultPath('KV mount', mount)}/${sub === '' ? '' : `${sub}/`}${vaultPath('KV path', path)}`;
  // A folder is listed with its trailing slash, as `vault kv list` sends it.
  const folder = (mount: string, sub: string, path: string) => {
    const inner = path.replace(/^\/|\/$/g, '');
    return `${vaultPath('KV mount', mount)}/${sub === '' ? '' : `${sub}/`}${inner === '' ? '' : `${vaultPath('KV path', inner)}/`}`;
  };

  async function list(path: string, signal?: AbortSignal): Promise<string[]> {
    const res = await t.request({ method: 'GET', path: `${path}?list=true`, accept: [404], signal });
    if (res.status === 404) return [];
    return field.strs(dataOf(res.json<Record<string, unknown>>()), 'keys');
  }

  const v1 = {
    /** The secret's pairs, or null when there is none. */
    async read(mount: string, path: string, signal?: AbortSignal): Promise<KvData | null> {
      const res = await t.request({ method: 'GET', path: at(mount, '', path), accept: [404], signal });
      if (res.status === 404) return null;
      return kvData(dataOf(res.json<Record<string, unknown>>()));
    },
    async write(mount: string, path: string, data: KvInput, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: at(mount, '', path), json: kvInput(data), secrets: secretsOf(data), signal });
    },
    /** The keys under a folder (sub-folders end with `/`); [] when empty. */
    async list(mount: string, path = '', signal?: AbortSignal): Promise<string[]> {
      return list(folder(mount, '', path), signal);
    },
    async delete(mount: string, path: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: at(mount, '', path), signal });
    },
  };

  const v2 = {
    /** `GET <mount>/data/<path>[?version=N]`: see {@link KvV2Read}; null when there is no such secret (or version). */
    async read(mount: string, path: string, options: { version?: number } = {}, signal?: AbortSignal): Promise<KvV2Read | null> {
      const query = options.version === undefined ? '' : `?version=${versionsArg([options.version]).join('')}`;
      const res = await t.request({ method: 'GET', path: `${at(mount, 'data', path)}${query}`, accept: [404], signal });
      let body: Record<string, unknown> | undefined;
      try { body = res.text.trim() === '' ? undefined : res.json<Record<string, unknown>>(); } catch (cause) {
        if (res.status === 404) return null;
        throw cause;
      }
      const d = body === undefined ? {} : field.obj(body, 'data');
      const meta = field.obj(d, 'metadata');
      if (res.status === 404) {
        // A soft-deleted or destroyed version answers 404 with the envelope and its metadata: it exists, its data is gone.
        if (Object.keys(meta).length === 0) return null;
        const m = versionMetaOf(meta);
        if (m.destroyed) return { state: 'destroyed', metadata: m };
        if (m.deletionTime !== '') return { state: 'deleted', deletionTime: m.deletionTime, metadata: m };
        return null;
      }
      return { state: 'present', data: kvData(field.obj(d, 'data')), metadata: versionMetaOf(meta) };
    },
    /** `POST <mount>/data/<path>`: a new version; `cas` = the version it must replace (0: only if absent). */
    async write(mount: string, path: string, data: KvInput, options: { cas?: number } = {}, signal?: AbortSignal): Promise<KvVersionMetadata> {
      const body = await t.json({ method: 'POST', path: at(mount, 'data', path), json: { data: kvInput(data), ...(options.cas === undefined ? {} : { options: { cas: options.cas } }) }, secrets: secretsOf(data), signal });
      return versionMetaOf(dataOf(body));
    },
    /** `LIST <mount>/metadata/<path>`: the keys under a folder (sub-folders end with `/`); [] when empty. */
    async list(mount: string, path = '', signal?: AbortSignal): Promise<string[]> {
      return list(folder(mount, 'metadata', path), signal);
    },
    /** `DELETE <mount>/data/<path>`: soft-deletes the latest version (undelete restores it). */
    async delete(mount: string, path: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: at(mount, 'data', path), signal });
    },
    /** `POST <mount>/delete/<path>`: soft-deletes these versions. */
    async deleteVersions(mount: string, path: string, versions: readonly number[], signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: at(mount, 'delete', path), json: { versions: versionsArg(versions) }, signal });
    },
    /** `POST <mount>/undelete/<path>`: restores soft-deleted versions. */
    async undelete(mount: string, path: string, versions: readonly number[], signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: at(mount, 'undelete', path), json: { versions: versionsArg(versions) }, signal });
    },
    /** `POST <mount>/destroy/<path>`: removes these versions' data for good (their metadata stays, `destroyed: true`). */
    async destroy(mount: string, path: string, versions: readonly number[], signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: at(mount, 'destroy', path), json: { versions: versionsArg(versions) }, signal });
    },
    /** `GET <mount>/metadata/<path>`: every version's state; null when there is no such secret. */
    async readMetadata(mount: string, path: string, signal?: AbortSignal): Promise<KvMetadata | null> {
      const res = await t.request({ method: 'GET', path: at(mount, 'metadata', path), accept: [404], signal });
      if (res.status === 404) return null;
      const d = dataOf(res.json<Record<string, unknown>>());
      const versions = Object.fromEntries(Object.entries(field.obj(d, 'versions')).map(([v, m]) => {
        const o = typeof m === 'object' && m !== null ? m as Record<string, unknown> : {};
        return [v, { createdTime: field.str(o, 'created_time'), deletionTime: field.str(o, 'deletion_time'), destroyed: field.bool(o, 'destroyed') }];
      }));
      return {
        currentVersion: field.num(d, 'current_version'), oldestVersion: field.num(d, 'oldest_version'), maxVersions: field.num(d, 'max_versions'),
        casRequired: field.bool(d, 'cas_required'), createdTime: field.str(d, 'created_time'), updatedTime: field.str(d, 'updated_time'),
        deleteVersionAfter: field.str(d, 'delete_version_after'), customMetadata: customOf(d), versions,
      };
    },
    /** `DELETE <mount>/metadata/<path>`: every version and the metadata, permanently. */
    async deleteMetadata(mount: string, path: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: at(mount, 'metadata', path), signal });
    },
  };

  /**
   * Which mount holds `fullPath` and which KV version it is, the way the Vault CLI finds out
   * (`kvPreflightVersionRequest`): `GET /v1/sys/internal/ui/mounts/<path>`. Chosen over reading
   * `sys/mounts` because it needs no privilege on `sys/mounts` (Vault answers it for a token that
   * may use the path), and because it also says where the mount ends (`team/kv/app` may be the
   * mount `team/kv/` or `team/`), which a `vault:mount/path` reference does not say; and over
   * "try v2, then v1" because a v1 read of a v2 path and a v2 read of a v1 secret named `data/…`
   * can both succeed wrongly. A 404 means a server without the endpoint (Vault before 0.10, or a
   * proxy or simulator that does not serve it): then the mount table (`sys/mounts`, the longest
   * mount that prefixes the path), and when that cannot be read either (403), KV v1 under the
   * first segment, which is what the CLI assumes on a 404.
   */
  async function locate(fullPath: string, signal?: AbortSignal): Promise<KvLocation> {
    const checked = vaultPath('KV path', fullPath);
    const res = await t.request({ method: 'GET', path: `sys/internal/ui/mounts/${checked}`, accept: [404], signal });
    const plain = fullPath.replace(/^\//, '');
    if (res.status === 404) return fromMountTable(plain, signal);
    const d = dataOf(res.json<Record<string, unknown>>());
    const mount = field.str(d, 'path');
    const version = field.str(field.obj(d, 'options'), 'version') === '2' ? 2 : 1;
    if (mount === '' || !`${plain}/`.startsWith(mount)) {
      throw new FirebreakError('UPSTREAM_REJECTED', `${t.where} did not say which mount holds ${plain} (sys/internal/ui/mounts answered mount ${JSON.stringify(mount)})`);
    }
    const type = field.str(d, 'type');
    if (type !== '' && type !== 'kv' && type !== 'generic') {
      throw new FirebreakError('INVALID_INPUT', `vault: ${plain} is under the ${type} engine mounted at ${mount}, not a KV engine`);
    }
    return { mount, path: plain.slice(mount.length), version };
  }

  async function fromMountTable(plain: string, signal?: AbortSignal): Promise<KvLocation> {
    const res = await t.request({ method: 'GET', path: 'sys/mounts', accept: [403, 404], signal });
    if (res.status === 403 || res.status === 404) {
      const [first = '', ...rest] = plain.split('/');
      return { mount: `${first}/`, path: rest.join('/'), version: 1 };
    }
    const table = dataOf(res.json<Record<string, unknown>>());
    const mount = Object.keys(table).filter((m) => m.endsWith('/') && `${plain}/`.startsWith(m)).sort((a, b) => b.length - a.length)[0];
    if (mount === undefined) throw new FirebreakError('NOT_FOUND', `vault: no secrets engine is mounted at ${plain} (sys/mounts)`, { details: { system: 'vault', vault: 'not-found' } });
    const m = field.obj(table, mount);
    const type = field.str(m, 'type');
    if (type !== 'kv' && type !== 'generic') throw new FirebreakError('INVALID_INPUT', `vault: ${plain} is under the ${type} engine mounted at ${mount}, not a KV engine`);
    return { mount, path: plain.slice(mount.length), version: field.str(field.obj(m, 'options'), 'version') === '2' ? 2 : 1 };
  }

  return { v1, v2, locate };
}
