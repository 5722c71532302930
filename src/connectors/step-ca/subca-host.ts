import { FirebreakError } from '../../lib/errors.ts';
import * as x509 from '../../lib/x509.ts';
import type { Executor } from '../executor/executor-types.ts';

/**
 * The tenant CA's own files on its host: its intermediate certificate and key.
 * A new key is generated there (`openssl genpkey`, mode 0600) and never read by
 * Firebreak: only its CSR and public key leave the host.
 */
export interface SubCaFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Where the new key waits until the new certificate is installed. */
export const pendingKeyFile = (f: SubCaFiles): string => `${f.keyFile}.pending`;
/** The new key's CSR, for the provider CA (or the operator of an offline one). */
export const csrFile = (f: SubCaFiles): string => `${f.certFile}.csr`;
/** Where the operator of an offline provider CA puts the signed certificate. */
export const signedCertFile = (f: SubCaFiles): string => `${f.certFile}.new`;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

/** The certificates in a PEM text, first one first. */
export function certsOf(pem: string, what: string): x509.X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new FirebreakError('INVALID_INPUT', `${what} holds no PEM certificate`);
  try {
    return blocks.map((b) => new x509.X509Certificate(b));
  } catch (err) {
    throw new FirebreakError('INVALID_INPUT', `${what} holds a malformed certificate: ${(err as Error).message}`, { cause: err });
  }
}

async function run(ex: Executor, argv: readonly string[], what: string, signal?: AbortSignal): Promise<string> {
  const r = await ex.exec({ argv, timeoutMs: 60_000, ...(signal === undefined ? {} : { signal }) });
  if (r.exitCode !== 0) throw new FirebreakError('UPSTREAM_REJECTED', `${what} on ${ex.describe} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-2).join(' ') || 'no message'}`, { details: { exitCode: r.exitCode } });
  return r.stdout;
}

export async function exists(ex: Executor, path: string, signal?: AbortSignal): Promise<boolean> {
  return (await ex.exec({ argv: ['test', '-e', path], ...(signal === undefined ? {} : { signal }) })).exitCode === 0;
}

/** The CA's current certificate (the first in its certificate file). */
export async function readCaCert(ex: Executor, f: SubCaFiles): Promise<x509.X509Certificate> {
  const text = (await ex.readFile(f.certFile)).toString('utf8');
  const first = certsOf(text, `${f.certFile} on ${ex.describe}`)[0] as x509.X509Certificate;
  return first;
}

/** `/CN=…` for openssl's -subj, with its metacharacters escaped. */
function subj(cn: string): string {
  return `/CN=${cn.replace(/[\\/+=,]/g, (c) => `\\${c}`)}`;
}

/**
 * Generates the new key on the CA's host unless a pending one is there (a
 * resumed run), then writes and returns its CSR for `cn`.
 */
export async function pendingKeyAndCsr(ex: Executor, f: SubCaFiles, cn: string, signal?: AbortSignal): Promise<{ csrPem: string; reusedKey: boolean }> {
  const key = pendingKeyFile(f);
  const reusedKey = await exists(ex, key, signal);
  // openssl opens private-key outputs with mode 0600 itself.
  if (!reusedKey) await run(ex, ['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], 'generating the new Sub-CA key', signal);
  const csrPem = await run(ex, ['openssl', 'req', '-new', '-key', key, '-subj', subj(cn), '-outform', 'PEM'], 'making the new Sub-CA CSR', signal);
  await ex.writeFileAtomic(csrFile(f), csrPem, { mode: 0o644 });
  return { csrPem, reusedKey };
}

/** The public key (SPKI, base64 DER) of a key file on the host: the key itself is never read. */
export async function publicKeyOf(ex: Executor, keyPath: string, signal?: AbortSignal): Promise<string> {
  const pem = await run(ex, ['openssl', 'pkey', '-in', keyPath, '-pubout'], `reading the public key of ${keyPath}`, signal);
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

export function spkiOf(cert: x509.X509Certificate): string {
  return Buffer.from(cert.publicKey.rawData).toString('base64');
}

/**
 * Installs the new certificate chain and moves the pending key in place. The
 * previous certificate and key are kept beside them (`.compromised-<time>`,
 * same mode) as evidence.
 */
export async function installCa(ex: Executor, f: SubCaFiles, chainPem: string, signal?: AbortSignal): Promise<{ keptAs: string }> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const keptAs = `.compromised-${stamp}`;
  await run(ex, ['cp', '-p', f.certFile, `${f.certFile}${keptAs}`], 'keeping the old certificate', signal);
  await run(ex, ['cp', '-p', f.keyFile, `${f.keyFile}${keptAs}`], 'keeping the old key', signal);
  await ex.writeFileAtomic(f.certFile, chainPem);
  await run(ex, ['mv', '-f', pendingKeyFile(f), f.keyFile], 'moving the new key in place', signal);
  return { keptAs };
}

/** A throwaway key and CSR (the probe that shows which key a CA now signs with). */
export async function probeCsr(cn: string): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await globalThis.crypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${cn}`, keys, signingAlgorithm: alg, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }])] });
  return csr.toString('pem');
}

/** Is `cert` a CA certificate (basicConstraints CA:true)? */
export function isCaCert(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}
