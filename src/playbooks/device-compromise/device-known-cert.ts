import { createHash } from 'node:crypto';
import { FirebreakError } from '../../lib/errors.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import { certificateFacts, parseSerial, serialHex, serialProblem } from '../../connectors/step-ca/step-ca-serial.ts';
import type { PeerEntry } from '../../connectors/wireguard/peers-json.ts';
import type { DeviceDeps } from './device-deps.ts';

/** A certificate serial (decimal) and where it came from: both sides of a mismatch are named. */
export interface KnownSerial {
  readonly serial: string;
  readonly from: string;
}

/** What the platform itself records of a device's certificate, before anything given by hand is trusted. */
export interface KnownCertificate {
  /** Serials recorded for the device (inventory, ThingsBoard's certificate); never two different ones. */
  readonly serials: readonly KnownSerial[];
  /** ThingsBoard's SHA3-256 of the certificate, when its X.509 credentials carry no certificate to read a serial from. */
  readonly hash: { readonly sha3: string; readonly from: string } | null;
}

export const describeSerial = (s: KnownSerial): string => `serial ${s.serial} (${serialHex(s.serial)}) from ${s.from}`;

/**
 * Reads what the platform knows of the device's certificate: `certSerial`
 * (or `serial`) of its cdm_peers.json entry, and its ThingsBoard
 * credentials when they are X.509 (the certificate, or at least its hash).
 * An unreadable record, or two records naming different certificates, is a
 * CONFLICT: which one to revoke is the operator's call, not a guess.
 */
export async function knownCertificate(deps: DeviceDeps, device: string, entry: PeerEntry | undefined, tbDeviceId: string | null, signal: AbortSignal): Promise<KnownCertificate> {
  const serials: KnownSerial[] = [];
  const key = entry?.['certSerial'] !== undefined ? 'certSerial' : 'serial';
  const recorded = entry?.[key];
  if (recorded !== undefined && recorded !== null) {
    const from = `${deps.peers?.path ?? 'cdm_peers.json'} (${key} of "${device}")`;
    const text = typeof recorded === 'string' || typeof recorded === 'number' ? String(recorded) : undefined;
    const problem = text === undefined ? `${JSON.stringify(recorded)} is not a serial` : serialProblem(text);
    if (text === undefined || problem !== undefined) throw new FirebreakError('CONFLICT', `${from} is unusable: ${problem ?? ''}; correct the inventory first (nothing was changed)`);
    serials.push({ serial: parseSerial(text), from });
  }

  let hash: KnownCertificate['hash'] = null;
  if (tbDeviceId !== null && deps.tb !== undefined) {
    const creds = await deps.tb.x509Credentials(tbDeviceId, signal);
    const from = `ThingsBoard's X.509 credentials of device ${tbDeviceId}`;
    if (creds?.certificate != null) {
      const facts = await certificateFacts(asPem(creds.certificate), from).catch((cause: unknown) => {
        throw new FirebreakError('CONFLICT', `${from} hold no readable certificate: ${(cause as Error).message}`, { cause });
      });
      serials.push({ serial: facts.facts.serial, from });
    } else if (creds?.certHash != null) {
      hash = { sha3: creds.certHash.toLowerCase(), from };
    }
  }

  const [first, ...others] = serials;
  const other = others.find((s) => s.serial !== first?.serial);
  if (first !== undefined && other !== undefined) {
    throw new FirebreakError('CONFLICT', `the platform disagrees on the certificate of device "${device}": ${describeSerial(first)}, but ${describeSerial(other)}; correct the inventory first (nothing was changed)`);
  }
  return { serials, hash };
}

/** ThingsBoard's certificate hash (`credentialsId`): SHA3-256 over the base64 DER, without PEM armour or line breaks. */
export function thingsboardCertHash(cert: X509Certificate): string {
  return createHash('sha3-256').update(Buffer.from(cert.rawData).toString('base64')).digest('hex');
}

/** ThingsBoard stores the certificate with its PEM armour and line breaks trimmed: put them back. */
function asPem(value: string): string {
  if (value.includes('-----BEGIN CERTIFICATE-----')) return value;
  const body = value.replace(/\s+/g, '').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
