import { X509Certificate } from '../../lib/x509.ts';
import { FirebreakError } from '../../lib/errors.ts';

/**
 * A certificate serial as step-ca wants it: decimal. Accepts decimal or
 * 0x-hex (hex with colons too, as `openssl x509 -serial` and browsers show
 * it); anything else is refused, naming the value.
 */
export function parseSerial(input: string): string {
  const s = input.trim();
  let value: bigint;
  if (/^0x[0-9a-f]+$/i.test(s)) value = BigInt(s);
  else if (/^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(s)) value = BigInt(`0x${s.replace(/:/g, '')}`);
  else if (/^[0-9]+$/.test(s)) value = BigInt(s);
  else throw new FirebreakError('INVALID_INPUT', `serial ${JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)} is not a number: give it in decimal or as 0x-prefixed hex`);
  if (value <= 0n) throw new FirebreakError('INVALID_INPUT', 'serial must be a positive number');
  return value.toString(10);
}

export interface CertificateFacts {
  readonly serial: string;
  readonly serialHex: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256Fingerprint: string;
}

/** Parses one PEM certificate; a malformed PEM is a clear INVALID_INPUT. */
export async function certificateFacts(pem: string, what = 'certificate'): Promise<{ cert: X509Certificate; facts: CertificateFacts }> {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new FirebreakError('INVALID_INPUT', `${what} is not a PEM certificate (no BEGIN CERTIFICATE block)`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new FirebreakError('INVALID_INPUT', `${what} is not a valid X.509 certificate: ${(cause as Error).message}`, { cause });
  }
  const fp = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
  return {
    cert,
    facts: {
      serial: BigInt(`0x${cert.serialNumber}`).toString(10), serialHex: `0x${cert.serialNumber.toLowerCase()}`,
      subject: cert.subject, issuer: cert.issuer, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), sha256Fingerprint: fp,
    },
  };
}

/** Refuses a certificate that the given CA did not issue (issuer name and signature). */
export async function assertIssuedBy(cert: X509Certificate, ca: X509Certificate, caName: string): Promise<void> {
  const signed = cert.issuer === ca.subject && (await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }).catch(() => false));
  if (!signed) {
    throw new FirebreakError('INVALID_INPUT', `the certificate (serial 0x${cert.serialNumber.toLowerCase()}, issuer "${cert.issuer}") was not issued by ${caName} ("${ca.subject}")`);
  }
}
