import { FirebreakError } from '../../lib/errors.ts';
import { assertIssuedBy, certificateFacts, parseSerial, type CertificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import { entryPublicKey, readPeersJson } from '../../connectors/wireguard/peers-json.ts';
import type { DeviceDeps } from './device-deps.ts';
import type { DeviceCompromiseInput } from './device-inputs.ts';

/** What the playbook knows about the device before it changes anything. */
export interface ResolvedDevice {
  readonly device: string;
  readonly serial: string | null;
  readonly serialSource: 'cert' | 'serial' | 'inventory' | 'none';
  readonly cert: CertificateFacts | null;
  readonly publicKey: string | null;
  readonly inPeersJson: boolean;
  readonly tbDeviceId: string | null;
  readonly hawkbitTarget: boolean;
}

/**
 * Finds the device everywhere it should be and the serial of its
 * certificate: from --cert (parsed, checked against the tenant Sub-CA), from
 * --serial, or from the inventory (cdm_peers.json `certSerial`). Refuses an
 * unknown device, a certificate for another device or from another CA, and an
 * ambiguous public key, before anything changes.
 */
export async function resolveDevice(deps: DeviceDeps, input: DeviceCompromiseInput, signal: AbortSignal): Promise<ResolvedDevice> {
  const { device } = input;
  const peersFile = deps.peers === undefined ? undefined : await readPeersJson(deps.peers.executor, deps.peers.path);
  const entry = peersFile?.peers[device];
  const publicKey = entryPublicKey(entry) ?? null;
  if (publicKey !== null && peersFile !== undefined) {
    const sharing = Object.entries(peersFile.peers).filter(([, e]) => entryPublicKey(e) === publicKey).map(([k]) => k);
    if (sharing.length > 1) throw new FirebreakError('CONFLICT', `device ${device} is ambiguous: its WireGuard key is also listed for ${sharing.filter((k) => k !== device).join(', ')} in ${deps.peers?.path ?? ''}; resolve the inventory first`);
  }
  const [tbDevice, target] = await Promise.all([
    deps.tb?.findDeviceByName(device, signal) ?? Promise.resolve(null),
    deps.hawkbit?.getTarget(device, signal) ?? Promise.resolve(null),
  ]);

  let serial: string | null = null;
  let source: ResolvedDevice['serialSource'] = 'none';
  let cert: CertificateFacts | null = null;
  if (input.cert !== undefined) {
    const parsed = await certificateFacts(deps.readLocal(input.cert, 'certificate'), `certificate ${input.cert}`);
    if (deps.subCaCert !== undefined) await assertIssuedBy(parsed.cert, deps.subCaCert, `the ${deps.tenantId} Sub-CA`);
    const cn = /CN=([^,]+)/.exec(parsed.facts.subject)?.[1];
    if (cn !== undefined && cn !== device) throw new FirebreakError('INVALID_INPUT', `certificate ${input.cert} is for "${cn}", not for device "${device}"`);
    cert = parsed.facts;
    serial = parsed.facts.serial;
    source = 'cert';
  } else if (input.serial !== undefined) {
    serial = parseSerial(input.serial);
    source = 'serial';
  } else {
    const fromInventory = entry?.['certSerial'] ?? entry?.['serial'];
    if (typeof fromInventory === 'string' || typeof fromInventory === 'number') {
      serial = parseSerial(String(fromInventory));
      source = 'inventory';
    }
  }

  if (entry === undefined && tbDevice === null && target === null && source !== 'cert' && source !== 'serial') {
    throw new FirebreakError('NOT_FOUND', `device "${device}" is unknown to tenant ${deps.tenantId}: not in ThingsBoard, hawkBit or cdm_peers.json (nothing was changed)`);
  }
  if (serial === null && deps.ca !== undefined) {
    throw new FirebreakError('INVALID_INPUT', `no certificate serial is known for device "${device}": give --cert <file> or --serial <number> (nothing was changed)`);
  }
  return { device, serial, serialSource: source, cert, publicKey, inPeersJson: entry !== undefined, tbDeviceId: tbDevice?.id ?? null, hawkbitTarget: target !== null };
}
