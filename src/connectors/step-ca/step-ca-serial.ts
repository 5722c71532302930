import { X509Certificate } from '../../lib/x509.ts';
import { FirebreakError } from '../../lib/errors.ts';

/** RFC 5280 §4.1.2.2: a serial is a positive INTEGER of at most 20 octets (DER, sign bit included). */
export const MAX_SERIAL_OCTETS = 20;

const shown = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/**
 * Why `input` is not an acceptable certificate serial, or undefined when it
 * is. Forms: decimal, 0x-hex, or colon-separated hex pairs (as
 * `openssl x509 -serial` and browsers show it). Refused: anything else, a
 * negative number, zero, and more than 20 octets: no CA issues such a serial,
 * so it can only be a typo or a paste of something else.
 */
export function serialProblem(input: string): string | undefined {
  const s = input.trim();
  if (/^-\s*(0x[0-9a-f]+|[0-9]+)$/i.test(s)) return `serial ${shown(s)} is negative: certificate serials are positive (RFC 5280 §4.1.2.2)`;
  const value = serialValue(s);
  if (value === undefined) return `serial ${shown(s)} is not a number: give it in decimal, as 0x-prefixed hex or as colon-separated hex pairs (3a:f0:…)`;
  if (value === 0n) return `serial ${shown(s)} is zero: certificate serials are positive (RFC 5280 §4.1.2.2)`;
  const octets = derOctets(value);
  if (octets > MAX_SERIAL_OCTETS) return `serial ${shown(s)} (${s.length} characters) is ${octets} octets long: an X.509 serial has at most ${MAX_SERIAL_OCTETS} (RFC 5280 §4.1.2.2)`;
  return undefined;
}

/**
 * A certificate serial as step-ca wants it: decimal. Accepts the forms of
 * {@link serialProblem}; anything else is an INVALID_INPUT naming the value
 * and, with `where`, where it came from.
 */
export function parseSerial(input: string, where?: string): string {
  const problem = serialProblem(input);
  if (problem !== undefined) throw new FirebreakError('INVALID_INPUT', where === undefined ? problem : `${where}: ${problem}`);
  return (serialValue(input.trim()) ?? 0n).toString(10);
}

/** The 0x-hex form of a decimal serial, for messages next to the decimal step-ca uses. */
export function serialHex(decimal: string): string {
  return `0x${BigInt(decimal).toString(16)}`;
}

function serialValue(s: string): bigint | undefined {
  if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s);
  if (/^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(s)) return BigInt(`0x${s.replace(/:/g, '')}`);
  if (/^[0-9]+$/.test(s)) return BigInt(s);
  return undefined;
}

/** Octets of a positive INTEGER in DER: its magnitude plus a leading zero when the top bit is set. */
function derOctets(value: bigint): number {
  return Math.floor(value.toString(2).length / 8) + 1;
}

/** The subject's common names (a device certificate has one: the device id). */
export function subjectCommonNames(cert: X509Certificate): string[] {
  return cert.subjectName.getField('CN');
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
