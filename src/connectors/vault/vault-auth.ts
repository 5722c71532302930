import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { dataOf, field, vaultPath, type VaultTransport } from './vault-http.ts';
import { mountOf, mountTable, type VaultMount } from './vault-sys.ts';

/** What enabling an auth method takes (`POST /v1/sys/auth/<path>`): what `listAuthMethods` recorded can be replayed. */
export interface AuthMethodSpec {
  readonly type: string;
  readonly description?: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly local?: boolean;
  readonly sealWrap?: boolean;
  readonly options?: Readonly<Record<string, string>>;
}

/** The auth methods whose roles (or users) can be read back, and the sub-path that holds them. */
export const RoleKinds = { approle: 'role', jwt: 'role', oidc: 'role', userpass: 'users' } as const;
export type RoleKind = keyof typeof RoleKinds;

/** What `auth/token/lookup-self` says about the client's own token, without the token itself (`id` is left out). */
export interface TokenInfo {
  readonly accessor: string;
  readonly displayName: string;
  readonly policies: readonly string[];
  /** The path the token was created through (`auth/approle/login`): what revoke-prefix matches. */
  readonly path: string;
  readonly ttl: number;
  readonly orphan: boolean;
  readonly type: string;
  readonly expireTime: string | null;
  /** When the token was created (unix seconds). */
  readonly creationTime: number;
  /** The auth method's metadata (`role_name` for AppRole, `username` for userpass). */
  readonly meta: Readonly<Record<string, string>>;
}

/** An AppRole secret_id as `secret-id/lookup` describes it (never the secret_id itself). */
export interface SecretIdInfo {
  readonly accessor: string;
  readonly creationTime: Date;
}

const mountArg = (mount: string) => vaultPath('auth mount', mount);
const appRole = (mount: string, name: string) => `auth/${mountArg(mount)}/role/${vaultPath('role name', name, { single: true })}`;

function tokenInfo(d: Record<string, unknown>): TokenInfo {
  const expire = d['expire_time'];
  return {
    accessor: field.str(d, 'accessor'), displayName: field.str(d, 'display_name'), policies: field.strs(d, 'policies'), path: field.str(d, 'path'),
    ttl: field.num(d, 'ttl'), orphan: field.bool(d, 'orphan'), type: field.str(d, 'type'), expireTime: typeof expire === 'string' ? expire : null,
    creationTime: typeof d['creation_time'] === 'number' ? d['creation_time'] : 0,
    meta: metaOf(d['meta']),
  };
}

/** Vault answers `meta: null` for a token without metadata. */
const metaOf = (m: unknown): Record<string, string> => (typeof m === 'object' && m !== null
  ? Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string')) : {});

export function vaultAuth(t: VaultTransport) {
  /** A LIST (as `GET …?list=true`): the keys, or [] for Vault's "nothing there" 404 (`{"errors":[]}`). */
  async function list(path: string, signal?: AbortSignal): Promise<string[]> {
    const res = await t.request({ method: 'GET', path: `${path}?list=true`, accept: [404], signal });
    if (res.status === 404) return [];
    return field.strs(dataOf(res.json<Record<string, unknown>>()), 'keys');
  }
  /** A read whose 404 means "no such thing" (null). */
  async function read(path: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
    const res = await t.request({ method: 'GET', path, accept: [404], signal });
    if (res.status === 404) return null;
    return dataOf(res.json<Record<string, unknown>>());
  }
  const roleBase = (kind: RoleKind, mount: string) => {
    if (!Object.hasOwn(RoleKinds, kind)) throw new FirebreakError('INVALID_INPUT', `vault: roles of auth method type "${kind}" cannot be read (known: ${Object.keys(RoleKinds).join(', ')})`);
    return `auth/${mountArg(mount)}/${RoleKinds[kind]}`;
  };

  return {
    /** `GET /v1/sys/auth`: every auth method, keyed by path with a trailing slash (`approle/`). */
    async listAuthMethods(signal?: AbortSignal): Promise<Record<string, VaultMount>> {
      return mountTable(await t.json({ method: 'GET', path: 'sys/auth', signal }));
    },
    /** `GET /v1/sys/auth/<path>`: one auth method, or null when nothing is mounted there. */
    async readAuthMethod(path: string, signal?: AbortSignal): Promise<VaultMount | null> {
      // Vault answers an unknown path with 400 "No auth engine at …" on some versions, 404 on others: both are "absent".
      const res = await t.request({ method: 'GET', path: `sys/auth/${mountArg(path)}`, accept: [400, 404], signal });
      if (res.status === 404) return null;
      if (res.status === 400) {
        if (/no auth engine|no matching mount|not found/i.test(res.text)) return null;
        throw t.error('GET', `sys/auth/${mountArg(path)}`, res);
      }
      return mountOf(`${path.replace(/^\/|\/$/g, '')}/`, dataOf(res.json<Record<string, unknown>>()));
    },
    /** `POST /v1/sys/auth/<path>` (sudo). 400 `path is already in use` when something is mounted there. */
    async enableAuthMethod(path: string, spec: AuthMethodSpec, signal?: AbortSignal): Promise<void> {
      await t.request({
        method: 'POST', path: `sys/auth/${mountArg(path)}`, signal,
        json: { type: spec.type, description: spec.description ?? '', config: spec.config ?? {}, local: spec.local ?? false, seal_wrap: spec.sealWrap ?? false, ...(spec.options === undefined ? {} : { options: spec.options }) },
      });
    },
    /** `DELETE /v1/sys/auth/<path>` (sudo): destroys its roles and revokes its tokens. An unmounted path also answers 204. */
    async disableAuthMethod(path: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: `sys/auth/${mountArg(path)}`, signal });
    },
    async readAuthTune(path: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
      return dataOf(await t.json({ method: 'GET', path: `sys/auth/${mountArg(path)}/tune`, signal }));
    },
    /** `POST /v1/sys/auth/<path>/tune` (sudo): `default_lease_ttl`, `max_lease_ttl`, `description`, `listing_visibility`, … */
    async tuneAuthMethod(path: string, tune: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: `sys/auth/${mountArg(path)}/tune`, json: tune, signal });
    },

    /** The roles (approle, jwt, oidc) or users (userpass) of an auth mount; [] when it has none. */
    async listRoles(kind: RoleKind, mount: string, signal?: AbortSignal): Promise<string[]> {
      return list(roleBase(kind, mount), signal);
    },
    /** One role's (or user's) settings as Vault returns them, or null when there is no such role. */
    async readRole(kind: RoleKind, mount: string, name: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
      return read(`${roleBase(kind, mount)}/${vaultPath('role name', name, { single: true })}`, signal);
    },
    /** An AppRole role's role_id (kept when the role is re-created, so services keep theirs), or null. */
    async readAppRoleId(mount: string, name: string, signal?: AbortSignal): Promise<string | null> {
      const d = await read(`auth/${mountArg(mount)}/role/${vaultPath('role name', name, { single: true })}/role-id`, signal);
      return d === null ? null : field.str(d, 'role_id') || null;
    },
    /**
     * `POST auth/<mount>/role/<name>/secret-id/lookup`: the secret_id's accessor and creation
     * time, or null when the role holds no such secret_id (Vault answers 204).
     */
    async lookupSecretId(mount: string, name: string, secretId: Secret, signal?: AbortSignal): Promise<SecretIdInfo | null> {
      const res = await t.request({ method: 'POST', path: `${appRole(mount, name)}/secret-id/lookup`, json: { secret_id: secretId.reveal() }, secrets: [secretId], signal });
      if (res.status === 204 || res.text === '') return null;
      const d = dataOf(res.json<Record<string, unknown>>());
      const created = Date.parse(field.str(d, 'creation_time'));
      return { accessor: field.str(d, 'secret_id_accessor'), creationTime: new Date(Number.isNaN(created) ? 0 : created) };
    },
    /**
     * `POST auth/<mount>/role/<name>/custom-secret-id`: registers a secret_id chosen by the caller
     * (generated and journaled before, so a resumed run registers the same one). Vault answers 500
     * "SecretID is already registered" to a repeat: check with {@link lookupSecretId} first.
     */
    async writeCustomSecretId(mount: string, name: string, secretId: Secret, signal?: AbortSignal): Promise<{ accessor: string }> {
      const d = dataOf(await t.json({ method: 'POST', path: `${appRole(mount, name)}/custom-secret-id`, json: { secret_id: secretId.reveal() }, secrets: [secretId], signal }));
      return { accessor: field.str(d, 'secret_id_accessor') };
    },
    /** `POST auth/<mount>/login` with a role_id and secret_id, as a service logs in: the new token's accessor and the token. */
    async appRoleLogin(mount: string, roleId: string, secretId: Secret, signal?: AbortSignal): Promise<{ accessor: string; token: Secret }> {
      const body = (await t.json({ method: 'POST', path: `auth/${mountArg(mount)}/login`, json: { role_id: roleId, secret_id: secretId.reveal() }, secrets: [secretId], anonymous: true, signal })) ?? {};
      const auth = (body['auth'] ?? {}) as Record<string, unknown>;
      const token = new Secret(field.str(auth, 'client_token'));
      return { accessor: field.str(auth, 'accessor'), token };
    },
    /** A JWT/OIDC mount's configuration (`auth/<mount>/config`); Vault leaves the client secret out. Null when unconfigured. */
    async readJwtConfig(mount: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
      return read(`auth/${mountArg(mount)}/config`, signal);
    },

    /**
     * Creates or updates a role (approle, jwt, oidc) or user (userpass) with these settings
     * (`POST auth/<mount>/role/<name>`): what {@link readRole} returned can be written back.
     */
    async writeRole(kind: RoleKind, mount: string, name: string, settings: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: `${roleBase(kind, mount)}/${vaultPath('role name', name, { single: true })}`, json: settings, signal });
    },
    /** Sets an AppRole role's role_id (`POST auth/<mount>/role/<name>/role-id`): a re-created role keeps the id its services log in with. */
    async writeAppRoleId(mount: string, name: string, roleId: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: `auth/${mountArg(mount)}/role/${vaultPath('role name', name, { single: true })}/role-id`, json: { role_id: roleId }, signal });
    },
    /** Writes a JWT/OIDC mount's configuration (`POST auth/<mount>/config`). */
    async writeJwtConfig(mount: string, config: Readonly<Record<string, unknown>>, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: `auth/${mountArg(mount)}/config`, json: config, signal });
    },
    /** `LIST auth/token/accessors` (sudo): the accessor of every token; [] when there are none. */
    async listAccessors(signal?: AbortSignal): Promise<string[]> {
      return list('auth/token/accessors', signal);
    },
    /** `auth/token/lookup-accessor`: a token described by its accessor (never the token itself), or null when there is no such token. */
    async lookupAccessor(accessor: string, signal?: AbortSignal): Promise<TokenInfo | null> {
      const res = await t.request({ method: 'POST', path: 'auth/token/lookup-accessor', json: { accessor }, accept: [400, 403], signal });
      // Vault answers an unknown (revoked) accessor with 400 "invalid accessor"; some versions with 403 "bad token".
      if (res.status === 400 || res.status === 403) {
        if (/invalid accessor|bad token/i.test(res.text)) return null;
        throw t.error('POST', 'auth/token/lookup-accessor', res);
      }
      return tokenInfo(dataOf(res.json<Record<string, unknown>>()));
    },

    /** `auth/token/lookup-self`: the client's own token, described. */
    async lookupSelf(signal?: AbortSignal): Promise<TokenInfo> {
      return tokenInfo(dataOf(await t.json({ method: 'GET', path: 'auth/token/lookup-self', signal })));
    },
    /** Revokes the client's own token (and its children). */
    async revokeSelf(signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: 'auth/token/revoke-self', signal });
    },
    /** Revokes a token (and its children) given the token itself; it travels in the body only. */
    async revokeToken(token: Secret, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: 'auth/token/revoke', json: { token: token.reveal() }, secrets: [token], signal });
    },
    /** Revokes the token with this accessor (and its children). */
    async revokeAccessor(accessor: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: 'auth/token/revoke-accessor', json: { accessor }, signal });
    },
    /**
     * `PUT /v1/sys/leases/revoke-prefix/<prefix>` (sudo; what `vault token revoke -mode=path` calls,
     * CONTRACTS.md §2.7): every lease and token created under the prefix (`auth/approle/`,
     * `auth/` for every auth method), children included. `sync` (default true) waits for it.
     */
    async revokePrefix(prefix: string, options: { sync?: boolean } = {}, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'PUT', path: `sys/leases/revoke-prefix/${vaultPath('revoke prefix', prefix, { trailingSlash: true })}`, json: { sync: options.sync ?? true }, signal });
    },
  };
}
