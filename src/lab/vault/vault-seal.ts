import { createCipheriv, createDecipheriv, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { createMessage, encrypt, readKey } from 'openpgp';
import { badRequest, base62, boolField, intField, sealedError, VaultError } from './vault-http.ts';

/**
 * The seal of the lab Vault (vault/core.go, vault/rekey.go,
 * vault/generate_root.go): a real Shamir split over GF(256) of a 32-byte
 * unseal key (share = 32 bytes + the x-coordinate as last byte, Vault's
 * format), the root key stored AES-256-GCM-encrypted under that unseal key,
 * so a wrong or foreign share really fails to decrypt. Unseal with progress
 * and nonce, rekey with PGP-encrypted shares and verification, encryption
 * key rotation (terms), root token generation with an OTP.
 */

export interface SealConfig { readonly shares: number; readonly threshold: number }

interface RekeyState {
  readonly nonce: string;
  readonly config: SealConfig;
  readonly pgpKeys: readonly string[];
  readonly fingerprints: readonly string[] | null;
  readonly backup: boolean;
  readonly verificationRequired: boolean;
  progress: Buffer[];
  verificationKey?: Buffer;
  verificationNonce?: string;
  verificationProgress: Buffer[];
}

const MIN_KEY = 16;
const MAX_KEY = 33; // 32-byte AES key + the share's x-coordinate (shamir.ShareOverhead)

/** SealConfig.Validate (vault/seal_config.go). */
function validate(c: SealConfig, pgpKeys: readonly string[]): string | undefined {
  if (c.shares < 1) return 'shares must be at least one';
  if (c.threshold < 1) return 'threshold must be at least one';
  if (c.shares > 1 && c.threshold === 1) return 'threshold must be greater than one for multiple shares';
  if (c.shares > 255) return 'shares must be less than 256';
  if (c.threshold > c.shares) return 'threshold cannot be larger than shares';
  if (pgpKeys.length > 0 && pgpKeys.length !== c.shares) return 'count mismatch between number of provided PGP keys and number of shares';
  return undefined;
}

/** The unseal handler's decoding: hex when it decodes to a plausible length, else strict standard base64. */
export function decodeKey(key: string): Buffer {
  if (/^([0-9a-fA-F]{2})*$/.test(key) && key.length / 2 >= MIN_KEY && key.length / 2 <= MAX_KEY) return Buffer.from(key, 'hex');
  if (key.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(key)) return Buffer.from(key, 'base64');
  throw badRequest('\'key\' must be a valid hex or base64 string');
}

function checkLength(key: Buffer, prefix: string): void {
  if (key.length < MIN_KEY) throw badRequest(`${prefix}key is shorter than minimum ${MIN_KEY} bytes`);
  if (key.length > MAX_KEY) throw badRequest(`${prefix}key is longer than maximum ${MAX_KEY} bytes`);
}

/** Whether `key` is among the shares given so far (compared in constant time). */
function holds(parts: readonly Buffer[], key: Buffer): boolean {
  return parts.some((p) => p.length === key.length && timingSafeEqual(p, key));
}

/** shamir.Combine's own checks (Vault's shamir package), before the library combines. */
async function combineParts(parts: readonly Buffer[]): Promise<{ key?: Buffer; error?: string }> {
  if (parts.length === 1) return { key: Buffer.from(parts[0] ?? []) };
  const len = parts[0]?.length ?? 0;
  if (parts.some((p) => p.length !== len)) return { error: 'all parts must be the same length' };
  if (len < 2) return { error: 'parts must be at least two bytes' };
  const xs = new Set(parts.map((p) => p[p.length - 1]));
  if (xs.size !== parts.length) return { error: 'duplicate part detected' };
  return { key: Buffer.from(await combine(parts.map((p) => new Uint8Array(p)))) };
}

async function splitKey(key: Buffer, c: SealConfig): Promise<Buffer[]> {
  if (c.shares === 1) return [Buffer.from(key)];
  return (await split(new Uint8Array(key), c.shares, c.threshold)).map((s) => Buffer.from(s));
}

function seal(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]);
}

/** AES-GCM open; the error text is Go's (cipher: message authentication failed) and aes.NewCipher's for a bad key size. */
function open(key: Buffer, blob: Buffer): Buffer | string {
  if (![16, 24, 32].includes(key.length)) return `crypto/aes: invalid key size ${key.length}`;
  if (key.length !== 32) return 'cipher: message authentication failed';
  try {
    const d = createDecipheriv('aes-256-gcm', key, blob.subarray(0, 12));
    d.setAuthTag(blob.subarray(12, 28));
    return Buffer.concat([d.update(blob.subarray(28)), d.final()]);
  } catch {
    return 'cipher: message authentication failed';
  }
}

/** Vault's pgpkeys.EncryptShares: each hex-encoded share encrypted to one base64 public key, with the key's fingerprint. */
async function encryptShares(shares: readonly Buffer[], pgpKeys: readonly string[]): Promise<{ fingerprints: string[]; encrypted: Buffer[] }> {
  const fingerprints: string[] = [];
  const encrypted: Buffer[] = [];
  for (const [i, k] of pgpKeys.entries()) {
    const key = await readKey({ binaryKey: Buffer.from(k, 'base64') });
    const message = await createMessage({ binary: Buffer.from((shares[i] ?? Buffer.alloc(0)).toString('hex')) });
    // openpgp's return type names DOM stream types this project's lib (es2024, no DOM) lacks; for format 'binary' it is a Uint8Array.
    const ct = await encrypt({ message, encryptionKeys: key.toPublic(), format: 'binary' }) as unknown as Uint8Array;
    fingerprints.push(key.getFingerprint());
    encrypted.push(Buffer.from(ct));
  }
  return { fingerprints, encrypted };
}

/** The PGP keys of a rekey or init, checked as SealConfig.Validate does (decode, then parse each). */
async function fingerprintsOf(pgpKeys: readonly string[]): Promise<string[] | string> {
  const out: string[] = [];
  for (const k of pgpKeys) {
    if (k.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(k)) return 'error decoding given PGP key: illegal base64 data at input byte 0';
    try { out.push((await readKey({ binaryKey: Buffer.from(k, 'base64') })).getFingerprint()); } catch (e) { return `error parsing given PGP key: openpgp: invalid data: ${(e as Error).message}`; }
  }
  return out;
}

export class VaultSeal {
  initialized = false;
  sealed = true;
  config: SealConfig = { shares: 0, threshold: 0 };
  /** The root key, in memory only while unsealed. */
  #rootKey: Buffer | undefined;
  #storedRoot: Buffer | undefined;
  #unlock: { nonce: string; parts: Buffer[] } | undefined;
  #rekey: RekeyState | undefined;
  /** core/unseal-keys-backup: the PGP-encrypted new shares of a rekey with `backup`, by fingerprint (hex), outside the barrier: kept when sealed. */
  #backup: { nonce: string; keys: Record<string, string[]> } | undefined;
  #genRoot: { nonce: string; otp: string; progress: Buffer[]; pgpFingerprint: string } | undefined;
  term = 1;
  installTime = new Date().toISOString();
  readonly #onUnsealed: () => void;

  constructor(onUnsealed: () => void) { this.#onUnsealed = onUnsealed; }

  /** sys/init: split a new unseal key; the root token is made by the caller. */
  async init(body: Record<string, unknown> | undefined): Promise<{ keys: Buffer[]; pgp: boolean }> {
    if (this.initialized) throw badRequest('Vault is already initialized');
    const c = { shares: intField(body?.['secret_shares'], 'secret_shares'), threshold: intField(body?.['secret_threshold'], 'secret_threshold') };
    const pgpKeys = Array.isArray(body?.['pgp_keys']) ? (body['pgp_keys'] as unknown[]).map(String) : [];
    const problem = validate(c, pgpKeys);
    if (problem !== undefined) throw badRequest(problem);
    const fps = await fingerprintsOf(pgpKeys);
    if (typeof fps === 'string') throw badRequest(fps);
    const unsealKey = randomBytes(32);
    this.#rootKey = randomBytes(32);
    this.#storedRoot = seal(unsealKey, this.#rootKey);
    this.config = c;
    this.initialized = true;
    this.#rootKey = undefined; // a Shamir-sealed Vault stays sealed after init
    this.sealed = true;
    const shares = await splitKey(unsealKey, c);
    if (pgpKeys.length === 0) return { keys: shares, pgp: false };
    return { keys: (await encryptShares(shares, pgpKeys)).encrypted, pgp: true };
  }

  status(): Record<string, unknown> {
    return {
      type: 'shamir', initialized: this.initialized, sealed: this.sealed, t: this.config.threshold, n: this.config.shares,
      progress: this.#unlock?.parts.length ?? 0, nonce: this.#unlock?.nonce ?? '', version: '1.19.0', build_date: '2025-03-04T12:36:40Z',
      migration: false, recovery_seal: false, storage_type: 'inmem',
    };
  }

  /** sys/unseal with one share (vault/core.go unsealFragment). */
  async unseal(key: Buffer): Promise<void> {
    if (!this.initialized) throw badRequest('Vault is not initialized');
    checkLength(key, 'invalid key: ');
    if (!this.sealed) return;
    // A share already given is ignored (recordUnsealPart), progress unchanged.
    if (this.#unlock !== undefined && holds(this.#unlock.parts, key)) return;
    this.#unlock ??= { nonce: randomUUID(), parts: [] };
    this.#unlock.parts.push(key);
    if (this.#unlock.parts.length < this.config.threshold) return;
    const parts = this.#unlock.parts;
    this.#unlock = undefined;
    const root = await this.#rootFrom(parts);
    if (root.combine !== undefined) throw badRequest(`invalid key: failed to compute combined key: ${root.combine}`);
    if (root.open !== undefined) {
      throw badRequest(root.open.startsWith('crypto/aes') ? `invalid key: failed to setup unseal key: ${root.open}` : `unable to retrieve stored keys: invalid key: failed to decrypt keys from storage: ${root.open}`);
    }
    this.#rootKey = root.key;
    this.sealed = false;
    this.#onUnsealed();
  }

  resetUnseal(): void {
    if (!this.sealed) throw badRequest('vault is unsealed');
    this.#unlock = undefined;
  }

  /** Seals: the root key leaves memory; a rekey or root generation in progress is lost, as a restart loses it. */
  doSeal(): void {
    this.sealed = true;
    this.#rootKey = undefined;
    this.#unlock = undefined;
    this.#rekey = undefined;
    this.#genRoot = undefined;
  }

  #requireUnsealed(): void { if (this.sealed) throw sealedError(); }

  rotate(): void { this.#requireUnsealed(); this.term += 1; this.installTime = new Date().toISOString(); }

  rekeyStatus(): Record<string, unknown> {
    this.#requireUnsealed();
    const r = this.#rekey;
    const out: Record<string, unknown> = {
      nonce: r?.nonce ?? '', started: r !== undefined, t: r?.config.threshold ?? 0, n: r?.config.shares ?? 0, progress: r?.progress.length ?? 0,
      required: this.config.threshold, pgp_fingerprints: r?.fingerprints ?? null, backup: r?.backup ?? false, verification_required: r?.verificationRequired ?? false,
    };
    if (r?.verificationNonce !== undefined) out['verification_nonce'] = r.verificationNonce;
    return out;
  }

  /** PUT sys/rekey/init (http/sys_rekey.go, then BarrierRekeyInit). */
  async rekeyInit(body: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const c = { shares: intField(body?.['secret_shares'], 'secret_shares'), threshold: intField(body?.['secret_threshold'], 'secret_threshold') };
    const pgpKeys = Array.isArray(body?.['pgp_keys']) ? (body['pgp_keys'] as unknown[]).map(String) : [];
    const backup = boolField(body?.['backup'], 'backup');
    if (backup && pgpKeys.length === 0) throw badRequest('cannot request a backup of the new keys without providing PGP keys for encryption');
    if (c.threshold > c.shares) throw badRequest('provided threshold greater than the total shares');
    if (pgpKeys.length > 0 && pgpKeys.length !== c.shares) throw badRequest('incorrect number of PGP keys for rekey');
    const problem = validate(c, pgpKeys) ?? await fingerprintsOf(pgpKeys).then((f) => (typeof f === 'string' ? f : undefined));
    if (problem !== undefined) throw new VaultError(500, [`invalid rekey seal configuration: ${problem}`]);
    this.#requireUnsealed();
    if (this.#rekey !== undefined) throw badRequest('rekey already in progress');
    const fps = pgpKeys.length === 0 ? null : await fingerprintsOf(pgpKeys) as string[];
    this.#rekey = { nonce: randomUUID(), config: c, pgpKeys, fingerprints: fps, backup, verificationRequired: boolField(body?.['require_verification'], 'require_verification'), progress: [], verificationProgress: [] };
    return this.rekeyStatus();
  }

  /** The root key from a threshold of shares, or why not: the shares did not combine, or the combined key does not open the stored root key. */
  async #rootFrom(parts: readonly Buffer[]): Promise<{ key: Buffer; combine?: undefined; open?: undefined } | { combine: string } | { combine?: undefined; open: string }> {
    const combined = await combineParts(parts);
    if (combined.key === undefined) return { combine: combined.error ?? '' };
    const root = open(combined.key, this.#storedRoot ?? Buffer.alloc(0));
    return typeof root === 'string' ? { open: root } : { key: root };
  }

  rekeyCancel(): void { this.#requireUnsealed(); this.#rekey = undefined; }

  /** PUT sys/rekey/update (BarrierRekeyUpdate): the status while incomplete, the new shares once the threshold is met. */
  async rekeyUpdate(key: Buffer, nonce: string): Promise<Record<string, unknown>> {
    this.#requireUnsealed();
    checkLength(key, '');
    const r = this.#rekey;
    if (r === undefined) throw badRequest('no barrier rekey in progress');
    if (r.verificationKey !== undefined) throw badRequest(`rekey operation already finished; verification must be performed; nonce for the verification operation is ${JSON.stringify(r.verificationNonce)}`);
    if (nonce !== r.nonce) throw badRequest(`incorrect nonce supplied; nonce for this rekey operation is ${JSON.stringify(r.nonce)}`);
    if (holds(r.progress, key)) throw badRequest('given key has already been provided during this generation operation');
    r.progress.push(key);
    if (r.progress.length < this.config.threshold) return this.rekeyStatus();
    const parts = r.progress;
    r.progress = [];
    const root = await this.#rootFrom(parts);
    if (root.combine !== undefined) throw new VaultError(500, [`failed to compute root key: ${root.combine}`]);
    if (root.open !== undefined) throw new VaultError(500, [root.open.startsWith('crypto/aes') ? `failed to setup unseal key: ${root.open}` : `failed to read root key: invalid key: failed to decrypt keys from storage: ${root.open}`]);
    const newKey = randomBytes(32);
    let shares = await splitKey(newKey, r.config);
    let fingerprints: string[] | null = null;
    if (r.pgpKeys.length > 0) ({ fingerprints, encrypted: shares } = await encryptShares(shares, r.pgpKeys));
    if (r.backup && fingerprints !== null) {
      // Written as soon as the shares are encrypted, before any verification (vault/rekey.go).
      const keys: Record<string, string[]> = {};
      fingerprints.forEach((fp, i) => { (keys[fp] ??= []).push((shares[i] ?? Buffer.alloc(0)).toString('hex')); });
      this.#backup = { nonce: r.nonce, keys };
    }
    const result: Record<string, unknown> = {
      nonce: r.nonce, complete: true, keys: shares.map((s) => s.toString('hex')), keys_base64: shares.map((s) => s.toString('base64')),
      pgp_fingerprints: fingerprints, backup: r.backup, verification_required: r.verificationRequired,
    };
    if (r.verificationRequired) {
      r.verificationKey = newKey;
      r.verificationNonce = randomUUID();
      result['verification_nonce'] = r.verificationNonce;
      return result;
    }
    this.#performRekey(newKey, r.config);
    return result;
  }

  #performRekey(newKey: Buffer, c: SealConfig): void {
    // performBarrierRekey: a new root key, stored under the new unseal key.
    this.#rootKey = randomBytes(32);
    this.#storedRoot = seal(newKey, this.#rootKey);
    this.config = c;
    this.#rekey = undefined;
  }

  /** GET sys/rekey/backup (handleRekeyRetrieve): the backed-up encrypted shares, hex and base64, by fingerprint. */
  rekeyBackup(): Record<string, unknown> {
    if (this.#backup === undefined) throw badRequest('no backed-up keys found');
    const b = this.#backup;
    const b64 = Object.fromEntries(Object.entries(b.keys).map(([fp, ks]) => [fp, ks.map((k) => Buffer.from(k, 'hex').toString('base64'))]));
    return { nonce: b.nonce, keys: b.keys, keys_base64: b64 };
  }

  /** DELETE sys/rekey/backup. */
  deleteRekeyBackup(): void { this.#backup = undefined; }

  verifyStatus(): Record<string, unknown> {
    this.#requireUnsealed();
    const r = this.#rekey;
    return { nonce: r?.verificationNonce ?? '', started: r?.verificationKey !== undefined, t: r?.config.threshold ?? 0, n: r?.config.shares ?? 0, progress: r?.verificationProgress.length ?? 0 };
  }

  verifyRestart(): Record<string, unknown> {
    this.#requireUnsealed();
    if (this.#rekey !== undefined) { this.#rekey.verificationProgress = []; this.#rekey.verificationNonce = randomUUID(); }
    return this.verifyStatus();
  }

  /** PUT sys/rekey/verify with one of the NEW shares (RekeyVerify). */
  async verify(key: Buffer, nonce: string): Promise<Record<string, unknown>> {
    this.#requireUnsealed();
    checkLength(key, '');
    const r = this.#rekey;
    if (r === undefined) throw badRequest('no rekey in progress');
    if (r.verificationKey === undefined) throw badRequest('no rekey verification in progress');
    if (nonce !== r.verificationNonce) throw badRequest(`incorrect nonce supplied; nonce for this verify operation is ${JSON.stringify(r.verificationNonce)}`);
    if (holds(r.verificationProgress, key)) throw badRequest('given key has already been provided during this verify operation');
    r.verificationProgress.push(key);
    if (r.verificationProgress.length < r.config.threshold) return this.verifyStatus();
    const parts = r.verificationProgress;
    r.verificationProgress = [];
    const combined = await combineParts(parts);
    const ok = combined.key !== undefined && combined.key.length === r.verificationKey.length && timingSafeEqual(combined.key, r.verificationKey);
    if (!ok) {
      r.verificationNonce = randomUUID(); // a failed round rotates the nonce
      if (combined.key === undefined) throw new VaultError(500, [`failed to compute key for verification: ${combined.error ?? ''}`]);
      throw badRequest('rekey verification failed; incorrect key shares supplied');
    }
    const done = { nonce: r.verificationNonce, complete: true };
    this.#performRekey(r.verificationKey, r.config);
    return done;
  }

  genRootStatus(): Record<string, unknown> {
    this.#requireUnsealed();
    const g = this.#genRoot;
    return { nonce: g?.nonce ?? '', started: g !== undefined, progress: g?.progress.length ?? 0, required: this.config.threshold, complete: false, encoded_token: '', encoded_root_token: '', pgp_fingerprint: g?.pgpFingerprint ?? '', otp: '', otp_length: 28 };
  }

  /** PUT sys/generate-root/attempt: Vault ≥1.10 makes the OTP itself and returns it once. */
  genRootInit(body: Record<string, unknown> | undefined): Record<string, unknown> {
    this.#requireUnsealed();
    if (this.#genRoot !== undefined) throw badRequest('root generation already in progress');
    const given = body?.['otp'];
    if (typeof given === 'string' && given !== '' && given.length !== 28) throw badRequest('OTP string is wrong length');
    if (typeof body?.['pgp_key'] === 'string' && body['pgp_key'] !== '') throw badRequest('PGP-encrypted root tokens are not supported by the lab Vault');
    const otp = typeof given === 'string' && given !== '' ? given : base62(28);
    this.#genRoot = { nonce: randomUUID(), otp, progress: [], pgpFingerprint: '' };
    return { ...this.genRootStatus(), otp: given === undefined || given === '' ? otp : '' };
  }

  genRootCancel(): void { this.#requireUnsealed(); this.#genRoot = undefined; }

  /** PUT sys/generate-root/update: at the threshold, `mint` makes the token; answered XORed with the OTP, unpadded base64. */
  async genRootUpdate(key: Buffer, nonce: string, mint: () => string): Promise<Record<string, unknown>> {
    this.#requireUnsealed();
    checkLength(key, '');
    const g = this.#genRoot;
    if (g === undefined) throw badRequest('no root generation in progress');
    if (nonce !== g.nonce) throw badRequest(`incorrect nonce supplied; nonce for this root generation operation is ${JSON.stringify(g.nonce)}`);
    if (holds(g.progress, key)) throw badRequest('given key has already been provided during this generation operation');
    g.progress.push(key);
    if (g.progress.length < this.config.threshold) return this.genRootStatus();
    const parts = g.progress;
    g.progress = [];
    const root = await this.#rootFrom(parts);
    if (root.combine !== undefined) throw new VaultError(500, [`failed to compute root key: ${root.combine}`]);
    if (root.open !== undefined) throw badRequest(`unable to authenticate: unable to retrieve stored keys: invalid key: failed to decrypt keys from storage: ${root.open}`);
    const token = Buffer.from(mint());
    const otp = Buffer.from(g.otp);
    const encoded = Buffer.from(token.map((b, i) => b ^ (otp[i] ?? 0))).toString('base64').replace(/=+$/, '');
    this.#genRoot = undefined;
    return { nonce: g.nonce, started: true, progress: parts.length, required: this.config.threshold, complete: true, encoded_token: encoded, encoded_root_token: encoded, pgp_fingerprint: '', otp: '', otp_length: 0 };
  }
}
