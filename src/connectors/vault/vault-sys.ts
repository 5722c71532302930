import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { dataOf, field, vaultPath, type VaultTransport } from './vault-http.ts';

/** What `GET /v1/sys/health` says about a node, from its status code (CONTRACTS.md §2.10). */
export type VaultHealthState = 'active' | 'standby' | 'dr-secondary' | 'performance-standby' | 'not-initialized' | 'sealed';

export interface VaultHealth {
  readonly state: VaultHealthState;
  readonly httpStatus: number;
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly standby: boolean;
  readonly performanceStandby: boolean;
  readonly version: string;
  readonly clusterName: string;
}

const HEALTH_STATES: Readonly<Record<number, VaultHealthState>> = { 200: 'active', 429: 'standby', 472: 'dr-secondary', 473: 'performance-standby', 501: 'not-initialized', 503: 'sealed' };

export interface SealStatus {
  readonly type: string;
  readonly initialized: boolean;
  readonly sealed: boolean;
  /** Threshold: shares needed. */
  readonly t: number;
  /** Shares in total. */
  readonly n: number;
  /** Shares submitted so far. */
  readonly progress: number;
  readonly nonce: string;
  readonly version: string;
  readonly clusterName: string;
  readonly clusterId: string;
}

export interface InitRequest {
  readonly secretShares: number;
  readonly secretThreshold: number;
  /** Base64 OpenPGP public keys, one per share: the shares come back encrypted to them. */
  readonly pgpKeys?: readonly string[];
  readonly rootTokenPgpKey?: string;
}

export interface InitResult {
  /** The shares (hex), encrypted when PGP keys were given. */
  readonly keys: readonly Secret[];
  readonly keysBase64: readonly Secret[];
  readonly rootToken: Secret;
}

export interface RekeyStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly required: number;
  readonly pgpFingerprints: readonly string[];
  readonly backup: boolean;
  readonly verificationRequired: boolean;
  /** Set once the threshold of current shares was reached and the new shares await verification ('' before). */
  readonly verificationNonce: string;
}

/** The PGP-encrypted new shares Vault keeps after a rekey with `backup` (`sys/rekey/backup`), base64 by key fingerprint. */
export interface RekeyBackup {
  readonly nonce: string;
  readonly keys: Readonly<Record<string, readonly string[]>>;
}

export interface RekeyInitRequest {
  readonly secretShares: number;
  readonly secretThreshold: number;
  /** Base64 OpenPGP public keys, one per new share, in the holders' order. */
  readonly pgpKeys?: readonly string[];
  readonly backup?: boolean;
  readonly requireVerification?: boolean;
}

/** A rekey update: progress so far, or the new shares once the threshold of old shares is reached. */
export type RekeyUpdate =
  | { readonly complete: false; readonly status: RekeyStatus }
  | {
    readonly complete: true;
    readonly nonce: string;
    /** New shares (hex; PGP-encrypted to the holders' keys when pgp_keys were given, in their order). */
    readonly keys: readonly Secret[];
    readonly keysBase64: readonly Secret[];
    readonly pgpFingerprints: readonly string[];
    readonly backup: boolean;
    readonly verificationRequired: boolean;
    /** The nonce of the verification round, when `require_verification` was set. */
    readonly verificationNonce: string;
  };

export interface RekeyVerifyStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
}

export interface RekeyVerifyUpdate {
  readonly complete: boolean;
  readonly nonce: string;
  readonly progress: number;
}

export interface GenerateRootStatus {
  readonly started: boolean;
  readonly nonce: string;
  readonly progress: number;
  readonly required: number;
  readonly complete: boolean;
  /** The root token XOR the OTP, base64 (decode with {@link decodeRootToken}); '' until complete. */
  readonly encodedToken: string;
  readonly pgpFingerprint: string;
  readonly otpLength: number;
}

export interface KeyStatus {
  readonly term: number;
  readonly installTime: string;
  readonly encryptions: number | undefined;
}

/** One mount of `sys/mounts`, `sys/auth` or `sys/audit`, as Vault describes it. */
export interface VaultMount {
  /** Its path with the trailing slash, as Vault keys it: `approle/`, `secret/`. */
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly accessor: string;
  readonly local: boolean;
  readonly sealWrap: boolean;
  readonly config: Readonly<Record<string, unknown>>;
  readonly options: Readonly<Record<string, string>>;
  /** Everything Vault returned (recorded before an auth method is disabled, to re-create it). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface AuditDevice {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly local: boolean;
  readonly options: Readonly<Record<string, string>>;
}

const sealStatusOf = (b: Record<string, unknown>): SealStatus => ({
  type: field.str(b, 'type'), initialized: field.bool(b, 'initialized'), sealed: field.bool(b, 'sealed'),
  t: field.num(b, 't'), n: field.num(b, 'n'), progress: field.num(b, 'progress'), nonce: field.str(b, 'nonce'),
  version: field.str(b, 'version'), clusterName: field.str(b, 'cluster_name'), clusterId: field.str(b, 'cluster_id'),
});

const rekeyStatusOf = (b: Record<string, unknown>): RekeyStatus => ({
  started: b['started'] === true || b['started'] === 'true', nonce: field.str(b, 'nonce'), t: field.num(b, 't'), n: field.num(b, 'n'),
  progress: field.num(b, 'progress'), required: field.num(b, 'required'), pgpFingerprints: field.strs(b, 'pgp_fingerprints'),
  backup: field.bool(b, 'backup'), verificationRequired: field.bool(b, 'verification_required'),
  verificationNonce: typeof b['verification_nonce'] === 'string' ? b['verification_nonce'] : '',
});

const verifyStatusOf = (b: Record<string, unknown>): RekeyVerifyStatus => ({
  started: b['started'] === true || b['started'] === 'true', nonce: field.str(b, 'nonce'), t: field.num(b, 't'), n: field.num(b, 'n'), progress: field.num(b, 'progress'),
});

const generateRootOf = (b: Record<string, unknown>): GenerateRootStatus => ({
  started: field.bool(b, 'started'), nonce: field.str(b, 'nonce'), progress: field.num(b, 'progress'), required: field.num(b, 'required'),
  complete: field.bool(b, 'complete'), encodedToken: field.str(b, 'encoded_token') || field.str(b, 'encoded_root_token'),
  pgpFingerprint: field.str(b, 'pgp_fingerprint'), otpLength: field.num(b, 'otp_length'),
});

const stringMap = (o: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));

export function mountOf(path: string, m: Record<string, unknown>): VaultMount {
  return {
    path, type: field.str(m, 'type'), description: field.str(m, 'description'), accessor: field.str(m, 'accessor'),
    local: field.bool(m, 'local'), sealWrap: field.bool(m, 'seal_wrap'), config: field.obj(m, 'config'), options: stringMap(field.obj(m, 'options')), raw: m,
  };
}

/** A mount table (`sys/auth`, `sys/mounts`): the entries keyed `<path>/` in `data` (older servers repeat them at top level, with envelope keys beside them). */
export function mountTable(body: Record<string, unknown> | undefined): Record<string, VaultMount> {
  const data = dataOf(body);
  return Object.fromEntries(Object.entries(data)
    .filter((e): e is [string, Record<string, unknown>] => e[0].endsWith('/') && typeof e[1] === 'object' && e[1] !== null && !Array.isArray(e[1]))
    .map(([path, m]) => [path, mountOf(path, m)]));
}

export function vaultSys(t: VaultTransport) {
  return {
    /**
     * `GET /v1/sys/health`: the node's state from its status code (200 active, 429 standby,
     * 472 DR secondary, 473 performance standby, 501 not initialized, 503 sealed), none of
     * which is an error here; anything else is.
     */
    async health(signal?: AbortSignal): Promise<VaultHealth> {
      const res = await t.request({ method: 'GET', path: 'sys/health', accept: [429, 472, 473, 501, 503], anonymous: true, signal });
      const state = HEALTH_STATES[res.status];
      if (state === undefined) throw new FirebreakError('UPSTREAM_REJECTED', `${t.where} answered ${res.status} to GET /v1/sys/health`, { details: { system: 'vault', status: res.status } });
      let b: Record<string, unknown> = {};
      try { b = res.json<Record<string, unknown>>() ?? {}; } catch { /* HEAD-like empty answers: the status says it all */ }
      return {
        state, httpStatus: res.status, initialized: field.bool(b, 'initialized', state !== 'not-initialized'), sealed: field.bool(b, 'sealed', state === 'sealed'),
        standby: field.bool(b, 'standby', state === 'standby'), performanceStandby: field.bool(b, 'performance_standby', state === 'performance-standby'),
        version: field.str(b, 'version'), clusterName: field.str(b, 'cluster_name'),
      };
    },

    /** `GET /v1/sys/seal-status` (works sealed). */
    async sealStatus(signal?: AbortSignal): Promise<SealStatus> {
      return sealStatusOf(await t.json({ method: 'GET', path: 'sys/seal-status', anonymous: true, signal }) ?? {});
    },

    /** `POST /v1/sys/seal` (root or sudo). Sealing a sealed Vault succeeds (204) and does nothing. */
    async seal(signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: 'sys/seal', signal });
    },

    /** Submits one unseal share (hex or base64): the progress, and `sealed: false` once the threshold is reached. */
    async unseal(key: Secret, signal?: AbortSignal): Promise<SealStatus> {
      return sealStatusOf(await t.json({ method: 'POST', path: 'sys/unseal', json: { key: key.reveal() }, secrets: [key], anonymous: true, signal }) ?? {});
    },

    /** Discards the shares submitted so far (400 `vault is unsealed` when there is nothing to reset). */
    async unsealReset(signal?: AbortSignal): Promise<SealStatus> {
      return sealStatusOf(await t.json({ method: 'POST', path: 'sys/unseal', json: { reset: true }, anonymous: true, signal }) ?? {});
    },

    async initStatus(signal?: AbortSignal): Promise<{ initialized: boolean }> {
      return { initialized: field.bool(await t.json({ method: 'GET', path: 'sys/init', anonymous: true, signal }) ?? {}, 'initialized') };
    },

    /** `POST /v1/sys/init`: the shares and the initial root token, each a Secret. */
    async init(req: InitRequest, signal?: AbortSignal): Promise<InitResult> {
      const b = await t.json({
        method: 'POST', path: 'sys/init', anonymous: true, signal,
        json: { secret_shares: req.secretShares, secret_threshold: req.secretThreshold, ...(req.pgpKeys === undefined ? {} : { pgp_keys: req.pgpKeys }), ...(req.rootTokenPgpKey === undefined ? {} : { root_token_pgp_key: req.rootTokenPgpKey }) },
      }) ?? {};
      return { keys: field.strs(b, 'keys').map((k) => new Secret(k)), keysBase64: field.strs(b, 'keys_base64').map((k) => new Secret(k)), rootToken: new Secret(field.str(b, 'root_token')) };
    },

    /** `POST /v1/sys/rotate`: a new encryption key term (online; older terms still decrypt). */
    async rotate(signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: 'sys/rotate', signal });
    },

    /** `GET /v1/sys/key-status`: the current key term (it grows by one per rotate). */
    async keyStatus(signal?: AbortSignal): Promise<KeyStatus> {
      const d = dataOf(await t.json({ method: 'GET', path: 'sys/key-status', signal }));
      return { term: field.num(d, 'term'), installTime: field.str(d, 'install_time'), encryptions: typeof d['encryptions'] === 'number' ? d['encryptions'] : undefined };
    },

    /** `GET /v1/sys/mounts`: the secret engines, keyed by path with a trailing slash. */
    async listMounts(signal?: AbortSignal): Promise<Record<string, VaultMount>> {
      return mountTable(await t.json({ method: 'GET', path: 'sys/mounts', signal }));
    },

    /** `GET /v1/sys/audit`: the audit devices, keyed by path with a trailing slash. */
    async listAuditDevices(signal?: AbortSignal): Promise<Record<string, AuditDevice>> {
      const table = mountTable(await t.json({ method: 'GET', path: 'sys/audit', signal }));
      return Object.fromEntries(Object.entries(table).map(([p, m]) => [p, { path: field.str(m.raw, 'path', p), type: m.type, description: m.description, local: m.local, options: m.options }]));
    },

    /** `POST /v1/sys/audit/<path>` (sudo): enables an audit device (`file` with `file_path`, …). */
    async enableAuditDevice(path: string, spec: { type: string; description?: string; options?: Readonly<Record<string, string>>; local?: boolean }, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'POST', path: `sys/audit/${vaultPath('audit device', path)}`, json: { type: spec.type, description: spec.description ?? '', options: spec.options ?? {}, local: spec.local ?? false }, signal });
    },

    /**
     * `POST /v1/sys/audit-hash/<device>`: the `hmac-sha256:<hex>` that device writes for `input`,
     * to find a known secret (a token, a role_id) in its log without the log holding it.
     */
    async auditHash(device: string, input: Secret | string, signal?: AbortSignal): Promise<string> {
      const d = dataOf(await t.json({ method: 'POST', path: `sys/audit-hash/${vaultPath('audit device', device, { single: true })}`, json: { input: typeof input === 'string' ? input : input.reveal() }, secrets: typeof input === 'string' ? [] : [input], signal }));
      const hash = field.str(d, 'hash');
      if (hash === '') throw new FirebreakError('UPSTREAM_REJECTED', `${t.where} answered sys/audit-hash without a hash`);
      return hash;
    },
  };
}

/** Rekey of the unseal keys (CONTRACTS.md §2.4): needs an unsealed, active node; the authorisation is the old shares. */
export function vaultRekey(t: VaultTransport) {
  return {
    async status(signal?: AbortSignal): Promise<RekeyStatus> {
      return rekeyStatusOf(await t.json({ method: 'GET', path: 'sys/rekey/init', signal }) ?? {});
    },
    /** Starts a rekey: a new nonce that every update must carry. 400 when one is in progress. */
    async init(req: RekeyInitRequest, signal?: AbortSignal): Promise<RekeyStatus> {
      if (req.pgpKeys !== undefined && req.pgpKeys.length !== req.secretShares) {
        throw new FirebreakError('INVALID_INPUT', `vault rekey: ${req.pgpKeys.length} PGP keys for ${req.secretShares} shares: one key per share is needed`);
      }
      return rekeyStatusOf(await t.json({
        method: 'POST', path: 'sys/rekey/init', signal,
        json: {
          secret_shares: req.secretShares, secret_threshold: req.secretThreshold, ...(req.pgpKeys === undefined ? {} : { pgp_keys: req.pgpKeys }),
          backup: req.backup ?? false, require_verification: req.requireVerification ?? false,
        },
      }) ?? {});
    },
    /** Submits one current share with the rekey's nonce; the new shares once the threshold is reached. */
    async update(key: Secret, nonce: string, signal?: AbortSignal): Promise<RekeyUpdate> {
      const b = await t.json({ method: 'POST', path: 'sys/rekey/update', json: { key: key.reveal(), nonce }, secrets: [key], signal }) ?? {};
      if (b['complete'] !== true) return { complete: false, status: rekeyStatusOf(b) };
      return {
        complete: true, nonce: field.str(b, 'nonce'), keys: field.strs(b, 'keys').map((k) => new Secret(k)), keysBase64: field.strs(b, 'keys_base64').map((k) => new Secret(k)),
        pgpFingerprints: field.strs(b, 'pgp_fingerprints'), backup: field.bool(b, 'backup'), verificationRequired: field.bool(b, 'verification_required'), verificationNonce: field.str(b, 'verification_nonce'),
      };
    },
    /** Cancels the rekey (`DELETE /v1/sys/rekey/init`); current Vault wants the nonce within 10 minutes of init. */
    async cancel(nonce?: string, signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: 'sys/rekey/init', ...(nonce === undefined ? {} : { json: { nonce } }), signal });
    },
    async verifyStatus(signal?: AbortSignal): Promise<RekeyVerifyStatus> {
      return verifyStatusOf(await t.json({ method: 'GET', path: 'sys/rekey/verify', signal }) ?? {});
    },
    /** Submits one NEW share with the verification nonce; `complete` once enough new shares were proven. */
    async verify(key: Secret, nonce: string, signal?: AbortSignal): Promise<RekeyVerifyUpdate> {
      const b = await t.json({ method: 'POST', path: 'sys/rekey/verify', json: { key: key.reveal(), nonce }, secrets: [key], signal }) ?? {};
      return { complete: field.bool(b, 'complete'), nonce: field.str(b, 'nonce'), progress: field.num(b, 'progress') };
    },
    /** The backed-up encrypted new shares (needs sudo), or undefined when Vault holds none (its 400 "no backed-up keys found"). */
    async backup(signal?: AbortSignal): Promise<RekeyBackup | undefined> {
      const res = await t.request({ method: 'GET', path: 'sys/rekey/backup', accept: [400], signal });
      const body = res.json<Record<string, unknown>>();
      if (res.status === 400) {
        const errors = Array.isArray(body['errors']) ? body['errors'].map(String) : [];
        if (errors.some((e) => e.includes('no backed-up keys found'))) return undefined;
        throw t.error('GET', 'sys/rekey/backup', res);
      }
      const d = dataOf(body);
      const raw = d['keys_base64'];
      const keys: Record<string, string[]> = {};
      if (typeof raw === 'object' && raw !== null) for (const [fp, ks] of Object.entries(raw)) keys[fp] = Array.isArray(ks) ? ks.map(String) : [];
      return { nonce: field.str(d, 'nonce'), keys };
    },
    /** Deletes the backed-up encrypted shares (`DELETE sys/rekey/backup`). */
    async deleteBackup(signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: 'sys/rekey/backup', signal });
    },
    /** Restarts the verification round: its progress is discarded and a new nonce issued. */
    async verifyCancel(signal?: AbortSignal): Promise<RekeyVerifyStatus> {
      return verifyStatusOf(await t.json({ method: 'DELETE', path: 'sys/rekey/verify', signal }) ?? {});
    },
  };
}

/** Root token generation (CONTRACTS.md §2.9): needs an unsealed Vault; the authorisation is the shares. */
export function vaultGenerateRoot(t: VaultTransport) {
  return {
    async status(signal?: AbortSignal): Promise<GenerateRootStatus> {
      return generateRootOf(await t.json({ method: 'GET', path: 'sys/generate-root/attempt', signal }) ?? {});
    },
    /** Starts an attempt; the OTP (returned only here) decodes the token at the end. With `pgpKey`, the token is encrypted to it instead and there is no OTP. */
    async init(options: { pgpKey?: string } = {}, signal?: AbortSignal): Promise<GenerateRootStatus & { otp: Secret | undefined }> {
      const b = await t.json({ method: 'POST', path: 'sys/generate-root/attempt', json: options.pgpKey === undefined ? {} : { pgp_key: options.pgpKey }, signal }) ?? {};
      const otp = field.str(b, 'otp');
      return { ...generateRootOf(b), otp: otp === '' ? undefined : new Secret(otp) };
    },
    async update(key: Secret, nonce: string, signal?: AbortSignal): Promise<GenerateRootStatus> {
      return generateRootOf(await t.json({ method: 'POST', path: 'sys/generate-root/update', json: { key: key.reveal(), nonce }, secrets: [key], signal }) ?? {});
    },
    async cancel(signal?: AbortSignal): Promise<void> {
      await t.request({ method: 'DELETE', path: 'sys/generate-root/attempt', signal });
    },
  };
}

/**
 * The root token from a completed generate-root: base64-decode the encoded token and XOR it
 * with the OTP's bytes (Vault's `roottoken.DecodeToken`, OTP length > 0: current Vault). The
 * legacy form (otp_length 0: a base64 OTP over a UUID token) XORs the two decoded values and
 * formats the 16 bytes as a UUID.
 */
export function decodeRootToken(encodedToken: string, otp: Secret, otpLength: number): Secret {
  const encoded = Buffer.from(encodedToken, 'base64');
  const pad = otpLength === 0 ? Buffer.from(otp.reveal(), 'base64') : Buffer.from(otp.reveal(), 'utf8');
  if (encoded.length === 0 || encoded.length !== pad.length) {
    throw new FirebreakError('INVALID_INPUT', `vault generate-root: the encoded token (${encoded.length} bytes) does not match the OTP (${pad.length} bytes): wrong OTP or wrong attempt`);
  }
  const bytes = Buffer.from(encoded.map((b, i) => b ^ (pad[i] ?? 0)));
  if (otpLength !== 0) return new Secret(bytes.toString('utf8'));
  const hex = bytes.toString('hex');
  return new Secret(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
}
