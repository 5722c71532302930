import { randomBytes, createHash } from 'node:crypto';
import { SignJWT, compactDecrypt, importJWK, calculateJwkThumbprint, type JWK } from 'jose';
import { FirebreakError } from '../../lib/errors.ts';
import { createHttpClient, errorForStatus, type HttpResponse, type TlsOptions } from '../../lib/http-client.ts';
import type { Logger } from '../../lib/log.ts';
import { Secret } from '../../lib/secret.ts';

export interface StepCaConfig {
  readonly url: string;
  /** Name of the JWK provisioner. */
  readonly provisioner: string;
  readonly provisionerPassword: Secret;
  /** PEM of the root that signs the CA's TLS certificate (pinned trust). */
  readonly rootPem?: string;
  readonly tls?: TlsOptions;
  readonly timeoutMs?: number;
  /** For messages: "acme Sub-CA". */
  readonly label?: string;
}

export const RevocationReasons = { unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5 } as const;

export interface StepCaClient {
  health(signal?: AbortSignal): Promise<void>;
  /** Revokes by decimal serial; a serial already revoked counts as done (`alreadyRevoked`). */
  revoke(serial: string, reason: keyof typeof RevocationReasons, signal?: AbortSignal): Promise<{ alreadyRevoked: boolean }>;
  /** Signs a CSR through the JWK provisioner; returns the leaf and its chain. */
  sign(csrPem: string, subject: string, sans: readonly string[], signal?: AbortSignal): Promise<{ crt: string; ca: string; certChain: readonly string[] }>;
  /**
   * Signs with a one-time token minted (and persisted) beforehand by
   * {@link enrollmentToken}: the CA accepts a token once, so repeating the
   * call after a crash either is the first signature or is refused (401).
   */
  signWithToken(csrPem: string, ott: Secret, signal?: AbortSignal): Promise<{ crt: string; ca: string; certChain: readonly string[] }>;
  /**
   * A one-time token for /1.0/sign of `subject` and `sans`, for a device that
   * enrolls itself with a key it generates (valid five minutes, single use).
   */
  enrollmentToken(subject: string, sans: readonly string[], signal?: AbortSignal): Promise<Secret>;
  close(): Promise<void>;
}

interface ProvisionerKey { readonly key: Awaited<ReturnType<typeof importJWK>>; readonly kid: string; readonly alg: string }

/**
 * step-ca over its HTTP API (CONTRACTS.md §1), authorising each call with a
 * one-time token minted here from the JWK provisioner: the provisioner's
 * encrypted key is fetched from the CA and decrypted with its password in
 * memory; the password never leaves the process.
 */
export function createStepCaClient(config: StepCaConfig, deps: { logger?: Logger } = {}): StepCaClient {
  const tls: TlsOptions | undefined = config.tls ?? (config.rootPem === undefined ? undefined : { ca: config.rootPem });
  const http = createHttpClient({
    baseUrl: config.url, system: 'step-ca', ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(tls === undefined ? {} : { tls }), ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  const label = config.label ?? `step-ca at ${new URL(config.url).origin}`;
  const host = new URL(config.url).hostname;
  let provisionerKey: Promise<ProvisionerKey> | undefined;

  async function loadKey(signal?: AbortSignal): Promise<ProvisionerKey> {
    const res = await http.send({ method: 'GET', path: 'provisioners?limit=100', ...(signal === undefined ? {} : { signal }) });
    if (res.status !== 200) throw errorForStatus(label, 'GET', '/provisioners', res);
    const list = res.json<{ provisioners?: { type?: string; name?: string; key?: JWK; encryptedKey?: string }[] }>().provisioners ?? [];
    const p = list.find((x) => x.type === 'JWK' && x.name === config.provisioner);
    if (p?.key === undefined || p.encryptedKey === undefined) {
      throw new FirebreakError('AUTH_FAILED', `${label} has no JWK provisioner named "${config.provisioner}" with an encrypted key (provisioners: ${list.map((x) => `${x.name ?? '?'} (${x.type ?? '?'})`).join(', ') || 'none'})`);
    }
    let jwk: JWK;
    try {
      const { plaintext } = await compactDecrypt(p.encryptedKey, new TextEncoder().encode(config.provisionerPassword.reveal()), {
        keyManagementAlgorithms: ['PBES2-HS256+A128KW'], maxPBES2Count: 1_000_000,
      });
      jwk = JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
    } catch (cause) {
      throw new FirebreakError('AUTH_FAILED', `cannot decrypt the key of provisioner "${config.provisioner}" at ${label}: wrong provisioner password?`, { cause });
    }
    const alg = jwk.alg ?? 'ES256';
    return { key: await importJWK(jwk, alg), kid: p.key.kid ?? (await calculateJwkThumbprint(p.key)), alg };
  }

  async function token(sub: string, path: '/1.0/revoke' | '/1.0/sign', extra: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    provisionerKey ??= loadKey(signal).catch((err: unknown) => { provisionerKey = undefined; throw err; });
    const k = await provisionerKey;
    const now = Math.floor(Date.now() / 1000);
    const sha = config.rootPem === undefined ? undefined : createHash('sha256').update(pemToDer(config.rootPem)).digest('hex');
    return new SignJWT({ ...extra, ...(sha === undefined ? {} : { sha }) })
      .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT' })
      .setIssuer(config.provisioner).setSubject(sub).setAudience(`https://${host}${path}`)
      .setJti(randomBytes(32).toString('hex')).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300)
      .sign(k.key);
  }

  const fail = (method: string, path: string, res: HttpResponse) => {
    if (res.status === 401) return new FirebreakError('AUTH_FAILED', `${label} refused the one-time token of provisioner "${config.provisioner}" (401): wrong provisioner key, or clock skew`);
    return errorForStatus(label, method, path, res);
  };

  return {
    async health(signal) {
      const res = await http.send({ method: 'GET', path: 'health', ...(signal === undefined ? {} : { signal }) });
      if (res.status !== 200) throw fail('GET', '/health', res);
    },
    async revoke(serial, reason, signal) {
      const ott = await token(serial, '/1.0/revoke', {}, signal);
      const res = await http.send({ method: 'POST', path: '1.0/revoke', json: { serial, ott, reasonCode: RevocationReasons[reason], reason, passive: true }, ...(signal === undefined ? {} : { signal }) });
      if (res.status === 200) return { alreadyRevoked: false };
      if (res.status === 400 && /is already revoked/.test(res.text)) return { alreadyRevoked: true };
      throw fail('POST', '/1.0/revoke', res);
    },
    async sign(csrPem, subject, sans, signal) {
      return signWith(csrPem, await token(subject, '/1.0/sign', { sans: [...sans] }, signal), signal);
    },
    async signWithToken(csrPem, ott, signal) {
      return signWith(csrPem, ott.reveal(), signal);
    },
    async enrollmentToken(subject, sans, signal) {
      return new Secret(await token(subject, '/1.0/sign', { sans: [...sans] }, signal));
    },
    close: () => http.close(),
  };

  async function signWith(csrPem: string, ott: string, signal?: AbortSignal): Promise<{ crt: string; ca: string; certChain: readonly string[] }> {
    const res = await http.send({ method: 'POST', path: '1.0/sign', json: { csr: csrPem, ott }, ...(signal === undefined ? {} : { signal }) });
    if (res.status !== 201 && res.status !== 200) throw fail('POST', '/1.0/sign', res);
    const body = res.json<{ crt?: string; ca?: string; certChain?: string[] }>();
    if (body.crt === undefined) throw new FirebreakError('UPSTREAM_REJECTED', `${label} answered sign without a certificate`);
    return { crt: body.crt, ca: body.ca ?? '', certChain: body.certChain ?? [body.crt] };
  }
}

function pemToDer(pem: string): Buffer {
  const b64 = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
  return Buffer.from(b64.replace(/\s+/g, ''), 'base64');
}
