import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import { absoluteName } from './dns-names.ts';

export type DkimAlgorithm = 'rsa-2048' | 'ed25519';

export interface DkimKey {
  readonly algorithm: DkimAlgorithm;
  /** PKCS#8 PEM: what a signer (Postfix's milter, nodemailer, mailauth) loads. */
  readonly privateKey: Secret;
  /** The TXT value to publish at `<selector>._domainkey.<domain>` (`v=DKIM1; k=…; p=…`). */
  readonly record: string;
}

const generate = promisify(generateKeyPair);

/** A new DKIM key pair: RSA-2048 (RFC 6376, RFC 8301) or Ed25519 (RFC 8463). Generated off the event loop. */
export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<DkimKey> {
  const { publicKey, privateKey } = algorithm === 'rsa-2048'
    ? await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
    : await generate('ed25519');
  return { algorithm, privateKey: new Secret(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), record: dkimRecord(algorithm, publicKey) };
}

/**
 * The key record of a public key: for RSA `p=` is the base64 of the
 * SubjectPublicKeyInfo (what opendkim and every verifier read); for Ed25519
 * the base64 of the raw 32-byte key (RFC 8463 §4.2), not of its SPKI.
 */
export function dkimRecord(algorithm: DkimAlgorithm, publicKey: KeyObject): string {
  if (algorithm === 'rsa-2048') return `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
  const raw = Buffer.from(String(publicKey.export({ format: 'jwk' }).x), 'base64url');
  return `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`;
}

/** The key record that matches a PKCS#8 private key (to check that what is published is the key kept). */
export function dkimRecordOf(algorithm: DkimAlgorithm, privateKeyPem: Secret): string {
  return dkimRecord(algorithm, createPublicKey(privateKeyPem.reveal()));
}

// A selector is one or more DNS labels (RFC 6376 §3.1); Firebreak's are one label.
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Checks a selector given by hand or made from configuration: one DNS label. */
export function checkSelector(selector: string): string {
  if (!SELECTOR.test(selector)) {
    throw new FirebreakError('INVALID_INPUT', `DKIM selector "${selector.slice(0, 80)}" must be one DNS label: lower-case letters, digits and "-", 1–63 characters, not starting or ending with "-"`);
  }
  return selector;
}

/** A new selector: `<prefix><yyyymmdd>`, with `-<n>` when that day's is taken (a second rotation the same day). */
export function nextSelector(prefix: string, at: Date, taken: ReadonlySet<string>): string {
  const day = at.toISOString().slice(0, 10).replace(/-/g, '');
  for (let n = 1; ; n++) {
    const candidate = checkSelector(`${prefix}${day}${n === 1 ? '' : `-${n}`}`);
    if (!taken.has(candidate)) return candidate;
  }
}

/** Where a selector's key record lives: `<selector>._domainkey.<domain>.` */
export function dkimName(selector: string, domain: string): string {
  return absoluteName(`${checkSelector(selector)}._domainkey.${domain}`, 'DKIM record name');
}

/**
 * A TXT value as a record's content in zone-file syntax: quoted character
 * strings of at most 255 bytes each (RFC 1035 §3.3.14), so that a 2048-bit
 * key (about 410 bytes) is several strings of one record, which a verifier
 * joins. `"` and `\` are escaped. Printable ASCII only (what key records are).
 */
export function txtContent(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new FirebreakError('INVALID_INPUT', 'a TXT value to publish must be printable ASCII');
  const parts: string[] = [];
  for (let i = 0; i < value.length || parts.length === 0; i += 255) parts.push(value.slice(i, i + 255));
  return parts.map((p) => `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(' ');
}

/** The value of a TXT record's content (its quoted strings joined), or undefined when it is not quoted strings. */
export function txtValue(content: string): string | undefined {
  const quoted = /\s*"((?:[^"\\]|\\.)*)"/y;
  const parts: string[] = [];
  let at = 0;
  while (content.slice(at).trim() !== '') {
    quoted.lastIndex = at;
    const m = quoted.exec(content);
    if (m === null) return undefined;
    parts.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
    at = quoted.lastIndex;
  }
  return parts.length === 0 ? undefined : parts.join('');
}
