import { createPrivateKey, KeyObject, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '../../lib/x509.ts';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface LabCa {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly pem: string;
}

let serialCounter = BigInt(Date.now()) * 1000n;
function nextSerialHex(): string {
  serialCounter += BigInt(1 + Math.floor(Math.random() * 1000));
  const hex = serialCounter.toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** A lab PKI: root → provider intermediate → tenant Sub-CA, ECDSA P-256. */
export async function createLabPki(tenant: string): Promise<{ root: LabCa; provider: LabCa; subCa: LabCa }> {
  const root = await selfSigned('CN=Firebreak Lab Root CA');
  const provider = await issueCa(root, 'CN=Firebreak Lab Provider CA', 1);
  const subCa = await issueCa(provider, `CN=${tenant} Sub-CA`, 0);
  return { root, provider, subCa };
}

/** A self-signed CA: a lab PKI's root, or the CA of a lab simulator's TLS certificate ({@link issueServerCert}). */
export async function selfSigned(name: string): Promise<LabCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerialHex(), name, keys, signingAlgorithm: ALG,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * 365 * 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(true, 2, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { cert, keys, pem: cert.toString('pem') };
}

async function issueCa(issuer: LabCa, name: string, pathLength: number): Promise<LabCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await issueCaCert(issuer, name, keys.publicKey, pathLength);
  return { cert, keys, pem: cert.toString('pem') };
}

/** A CA certificate for `publicKey` (a new Sub-CA from its CSR, on the provider CA). */
export async function issueCaCert(issuer: LabCa, subject: string, publicKey: webcrypto.CryptoKey, pathLength = 0): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: nextSerialHex(), subject, issuer: issuer.cert.subject, publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: ALG,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 5 * 365 * 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(true, pathLength, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
}

/** The CA's private key as PKCS#8 PEM (what `openssl genpkey` writes), for the lab's key files. */
export function exportKeyPem(ca: LabCa): string {
  return KeyObject.from(ca.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A CA from its certificate (the first in `certPem`) and P-256 key file, as a CA reads its files. */
export async function loadLabCa(certPem: string, keyPem: string): Promise<LabCa> {
  const cert = new x509.X509Certificate(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(certPem)?.[0] ?? certPem);
  const privateKey = createPrivateKey(keyPem).toCryptoKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
  const publicKey = (await cert.publicKey.export(ALG, ['verify'])) as unknown as webcrypto.CryptoKey;
  return { cert, keys: { privateKey, publicKey }, pem: cert.toString('pem') };
}

/** Issues a leaf for `publicKey` (a device certificate, or a signed CSR); a SAN given as a string is a DNS name. */
export async function issueLeaf(ca: LabCa, subject: string, publicKey: webcrypto.CryptoKey, sans: readonly (string | x509.JsonGeneralName)[], validityMs = 24 * 3_600_000): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: nextSerialHex(), subject, issuer: ca.cert.subject, publicKey, signingKey: ca.keys.privateKey, signingAlgorithm: ALG,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + validityMs),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
      ...(sans.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(sans.map((s) => (typeof s === 'string' ? { type: 'dns' as const, value: s } : s)))]),
    ],
  });
}

/**
 * A TLS server certificate for `hosts` (an IP address becomes an IP SAN, as
 * clients check an IP host against those only) and its key as PKCS#8 PEM,
 * both in memory: what a lab simulator serves HTTPS with.
 */
export async function issueServerCert(ca: LabCa, hosts: readonly string[], validityMs = 365 * 86_400_000): Promise<{ readonly cert: string; readonly key: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const sans = hosts.map((h) => ({ type: isIP(h) === 0 ? 'dns' as const : 'ip' as const, value: h }));
  const cert = await issueLeaf(ca, `CN=${hosts[0] ?? 'localhost'}`, keys.publicKey, sans, validityMs);
  return { cert: cert.toString('pem'), key: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** A device key pair and certificate issued by the Sub-CA (lab inventory). */
export async function issueDeviceCert(ca: LabCa, deviceId: string): Promise<x509.X509Certificate> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  return issueLeaf(ca, `CN=${deviceId}`, keys.publicKey, [deviceId]);
}

/** A CSR for a replacement device (lab and tests). */
export async function createCsr(deviceId: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${deviceId}`, keys, signingAlgorithm: ALG, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: deviceId }])] });
  return csr.toString('pem');
}
