import { FirebreakError } from '../../lib/errors.ts';
import { assertIssuedBy, certificateFacts, parseSerial, subjectCommonNames, type CertificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import { entryPublicKey, readPeersJson } from '../../connectors/wireguard/peers-json.ts';
import type { DeviceDeps } from './device-deps.ts';
import type { DeviceCompromiseInput } from './device-inputs.ts';
import { describeSerial, knownCertificate, thingsboardCertHash, type KnownCertificate, type KnownSerial } from './device-known-cert.ts';

/** What the playbook knows about the device before it changes anything. */
export interface ResolvedDevice {
  readonly device: string;
  readonly serial: string | null;
  readonly serialSource: 'cert' | 'serial' | 'inventory' | 'thingsboard' | 'none';
  /**
   * Where the serial comes from and what confirms it, or why there is none:
   * shown in the plan's revoke-certificate entry, so the approver sees it.
   */
  readonly serialNote: string;
  readonly cert: CertificateFacts | null;
  readonly publicKey: string | null;
  readonly inPeersJson: boolean;
  readonly tbDeviceId: string | null;
  readonly hawkbitTarget: boolean;
}

/**
 * Finds the device everywhere it should be and the serial of its
 * certificate. The platform's own records (cdm_peers.json `certSerial`,
 * ThingsBoard's X.509 credentials) come first; a --cert (parsed, its CN the
 * device, issued by the tenant Sub-CA) or --serial given by hand must agree
 * with them, or the run stops here, during the plan, before anything changes.
 * Also refuses an unknown device and an ambiguous public key.
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
  if (entry === undefined && tbDevice === null && target === null && input.cert === undefined) {
    // A bare serial for a device nobody knows cannot be checked against anything: only a certificate (subject, issuer) can.
    const hint = input.serial === undefined ? '' : '; a --serial cannot be checked for a device the platform does not know: give --cert <file>';
    throw new FirebreakError('NOT_FOUND', `device "${device}" is unknown to tenant ${deps.tenantId}: not in ThingsBoard, hawkBit or cdm_peers.json${hint} (nothing was changed)`);
  }
  const known = await knownCertificate(deps, device, entry, tbDevice?.id ?? null, signal);
  const common = { device, publicKey, inPeersJson: entry !== undefined, tbDeviceId: tbDevice?.id ?? null, hawkbitTarget: target !== null };

  if (input.cert !== undefined) {
    const { cert, facts } = await givenCertificate(deps, device, input.cert);
    const given = { serial: facts.serial, from: `--cert ${input.cert}` };
    agree(device, given, known);
    if (known.hash !== null && thingsboardCertHash(cert) !== known.hash.sha3) {
      throw new FirebreakError('INVALID_INPUT', `certificate ${input.cert} (${describeSerial(given)}) is not the certificate of device "${device}": ${known.hash.from} name another one (SHA3-256 ${known.hash.sha3}); nothing was changed`);
    }
    const confirmed = [...known.serials.map((s) => s.from), ...(known.hash === null ? [] : [known.hash.from])];
    return { ...common, serial: facts.serial, serialSource: 'cert', cert: facts, serialNote: `from ${given.from}, ${confirmation(confirmed)}` };
  }
  if (input.serial !== undefined) {
    const given = { serial: parseSerial(input.serial, '--serial'), from: '--serial' };
    if (known.hash !== null) {
      throw new FirebreakError('INVALID_INPUT', `${known.hash.from} identify the certificate of device "${device}" by its hash only, which a serial cannot be checked against: give --cert <file> instead of --serial (nothing was changed)`);
    }
    agree(device, given, known);
    const note = known.serials.length === 0
      ? `from --serial, NOT confirmed: nothing the platform holds records the certificate of ${device}`
      : `from --serial, ${confirmation(known.serials.map((s) => s.from))}`;
    return { ...common, serial: given.serial, serialSource: 'serial', cert: null, serialNote: note };
  }
  const first = known.serials[0];
  if (first === undefined) {
    const note = known.hash === null
      ? `no certificate known for ${device}: the certificate will NOT be revoked (cdm_peers.json and ThingsBoard record none; give --cert <file> or --serial <n> if it has one)`
      : `no certificate serial known for ${device} (${known.hash.from} give only its hash): the certificate will NOT be revoked; give --cert <file> to revoke it`;
    return { ...common, serial: null, serialSource: 'none', cert: null, serialNote: note };
  }
  const source = first.from.startsWith('ThingsBoard') ? 'thingsboard' : 'inventory';
  return { ...common, serial: first.serial, serialSource: source, cert: null, serialNote: `from ${known.serials.map((s) => s.from).join(' and ')}` };
}

/** The --cert file, parsed; refused unless its subject CN is the device and (with caCertFile) the tenant Sub-CA signed it. */
async function givenCertificate(deps: DeviceDeps, device: string, file: string): Promise<Awaited<ReturnType<typeof certificateFacts>>> {
  const parsed = await certificateFacts(deps.readLocal(file, 'certificate'), `certificate ${file}`);
  if (deps.subCaCert !== undefined) await assertIssuedBy(parsed.cert, deps.subCaCert, `the ${deps.tenantId} Sub-CA`);
  const cns = subjectCommonNames(parsed.cert);
  if (cns.length === 0) throw new FirebreakError('INVALID_INPUT', `certificate ${file} has no subject CN: it cannot be matched to device "${device}"`);
  if (cns.length > 1 || cns[0] !== device) throw new FirebreakError('INVALID_INPUT', `certificate ${file} is for "${cns.join('", "')}", not for device "${device}"`);
  return parsed;
}

/** A serial given by hand must be the one the platform records, if it records one. */
function agree(device: string, given: KnownSerial, known: KnownCertificate): void {
  const other = known.serials.find((s) => s.serial !== given.serial);
  if (other !== undefined) {
    throw new FirebreakError('INVALID_INPUT', `${describeSerial(given)} is not the certificate of device "${device}": ${describeSerial(other)}; nothing was changed (check the device and the serial, or leave --serial/--cert out to revoke the recorded one)`);
  }
}

const confirmation = (froms: readonly string[]) => (froms.length === 0 ? 'not recorded anywhere else on the platform' : `matches ${froms.join(' and ')}`);
