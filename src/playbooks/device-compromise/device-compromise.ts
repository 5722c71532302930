import { dirname } from 'node:path';
import { FirebreakError, toErrorData } from '../../lib/errors.ts';
import { definePlaybook, type AnyStep, type StepContext, type StepDefinition } from '../../engine/playbook-types.ts';
import { assertIssuedBy, certificateFacts, serialHex, serialProblem } from '../../connectors/step-ca/step-ca-serial.ts';
import { readPeersJson, removeFromPeersJson, restoreToPeersJson, type PeerEntry } from '../../connectors/wireguard/peers-json.ts';
import type { RestorablePeer } from '../../connectors/wireguard/wireguard-client.ts';
import { signOnce } from '../sign-once.ts';
import { connectDevice, defaultCertOut, type DeviceDeps } from './device-deps.ts';
import { deviceCompromiseInputs, type DeviceCompromiseInput } from './device-inputs.ts';
import { resolveDevice, type ResolvedDevice } from './device-resolve.ts';

type Ctx = StepContext<DeviceCompromiseInput, DeviceDeps>;
/** A step of this playbook whose output is `Out`, read by later steps with `ctx.output(step)`. */
const step = <Out>(s: StepDefinition<DeviceCompromiseInput, DeviceDeps, Out>) => s;

/** What a step's `when` made sure of: absent here is a bug, not a configuration. */
function configured<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new FirebreakError('INTERNAL', `${what} is missing although the step applies`);
  return value;
}

/** What remove-wireguard-peer removed, for its compensation: the preshared key is sealed in the journal, never here. */
interface PeerRemoval {
  readonly alreadyAbsent: boolean;
  readonly removed: (Omit<RestorablePeer, 'presharedKey'> & { readonly presharedKey: boolean }) | null;
}

/** Puts the WireGuard peer removed by remove-wireguard-peer back on the live interface (a rejection's compensation). */
async function restorePeer(ctx: Ctx, output: PeerRemoval | undefined): Promise<RestorablePeer | undefined> {
  const removed = output?.removed;
  if (ctx.deps.wg === undefined || removed == null) return undefined;
  const presharedKey = removed.presharedKey
    ? await ctx.generate('wireguard-preshared-key', () => { throw new FirebreakError('INTERNAL', 'the removed peer\'s preshared key was not kept'); })
    : null;
  const peer: RestorablePeer = { ...removed, presharedKey };
  await ctx.deps.wg.restorePeer(peer, ctx.signal);
  return peer;
}

const resolveDeviceStep = step<ResolvedDevice>({
  id: 'resolve-device', title: 'Resolve the device and its certificate serial', phase: 'assessment', system: 'inventory', effect: 'read', idempotency: 'natural',
  apply: (ctx) => resolveDevice(ctx.deps, ctx.input, ctx.signal),
});

const resolved = (ctx: Ctx): ResolvedDevice => configured(ctx.output(resolveDeviceStep), 'the output of resolve-device');
/** The WireGuard peer, when the tenant has WireGuard and the device a key. */
const wgPeer = (ctx: Ctx): true | string => (ctx.deps.wg !== undefined && resolved(ctx).publicKey !== null) || 'no WireGuard peer known for the device';

const removePeerStep = step<PeerRemoval>({
  id: 'remove-wireguard-peer', title: 'Remove the WireGuard peer from the live interface', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'],
  when: wgPeer,
  check: async (ctx) => {
    const key = configured(resolved(ctx).publicKey, 'the public key');
    const peer = await configured(ctx.deps.wg, 'WireGuard').findPeer(key, ctx.signal);
    return { done: peer === null, detail: `remove peer ${key} from ${configured(ctx.deps.tenant.wireguard, 'WireGuard').interface}` };
  },
  apply: async (ctx) => {
    const key = configured(resolved(ctx).publicKey, 'the public key');
    const wg = configured(ctx.deps.wg, 'WireGuard');
    // What the compensation needs to put the peer back; its preshared key sealed in the journal, never in the output.
    const peer = await wg.findPeer(key, ctx.signal);
    if (peer?.presharedKey != null) { const psk = peer.presharedKey; await ctx.generate('wireguard-preshared-key', () => psk); }
    const removed = peer === null ? null : { publicKey: peer.publicKey, allowedIps: peer.allowedIps, endpoint: peer.endpoint, persistentKeepalive: peer.persistentKeepalive, presharedKey: peer.presharedKey !== null };
    return { ...(await wg.removePeer(key, ctx.signal)), removed };
  },
  compensate: async (ctx, output) => { await restorePeer(ctx, output); },
  verify: async (ctx) => {
    const peer = await configured(ctx.deps.wg, 'WireGuard').findPeer(configured(resolved(ctx).publicKey, 'the public key'), ctx.signal);
    return peer === null ? { ok: true, detail: 'peer absent from wg show dump' } : { ok: false, detail: 'peer still listed by wg show dump' };
  },
});

const steps: AnyStep<DeviceCompromiseInput, DeviceDeps>[] = [
  resolveDeviceStep,
  {
    // Deleting destroys the evidence: capture everything first (the seed deleted first).
    id: 'capture-evidence', title: 'Capture evidence: device record, telemetry, OTA target, WireGuard peer, certificate', phase: 'assessment', system: 'evidence', effect: 'read', idempotency: 'natural', dependsOn: ['resolve-device'],
    apply: async (ctx) => {
      const r = resolved(ctx);
      const { tb, hawkbit, wg } = ctx.deps;
      const [device, telemetry, target, peer] = await Promise.all([
        r.tbDeviceId === null || tb === undefined ? null : tb.getDevice(r.tbDeviceId, ctx.signal),
        r.tbDeviceId === null || tb === undefined ? null : tb.latestTelemetry(r.tbDeviceId, ctx.signal),
        hawkbit === undefined ? null : hawkbit.getTarget(r.device, ctx.signal),
        r.publicKey === null || wg === undefined ? null : wg.findPeer(r.publicKey, ctx.signal),
      ]);
      const refs = [
        await ctx.evidence('thingsboard-device', device?.raw ?? { absent: true }),
        await ctx.evidence('thingsboard-telemetry', telemetry ?? { absent: true }),
        await ctx.evidence('hawkbit-target', target ?? { absent: true }),
        await ctx.evidence('wireguard-peer', peer === null ? { absent: true } : { ...peer, latestHandshakeIso: peer.latestHandshake === null ? null : new Date(peer.latestHandshake * 1000).toISOString() }),
        await ctx.evidence('certificate', { serial: r.serial, source: r.serialSource, note: r.serialNote, details: r.cert }),
      ];
      return { evidence: refs.map((e) => ({ name: e.name, ref: e.ref, sha256: e.sha256 })) };
    },
  },
  {
    id: 'revoke-certificate', title: 'Revoke the device certificate at the tenant Sub-CA (keyCompromise)', phase: 'containment', system: 'step-ca', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'],
    // Without a serial the reason is said in the plan's entry, so the approver knows the device keeps a valid certificate.
    when: (ctx) => (ctx.deps.ca === undefined ? `no step-ca configured for tenant ${ctx.deps.tenantId}` : resolved(ctx).serial !== null || resolved(ctx).serialNote),
    check: async (ctx) => {
      const r = resolved(ctx);
      const serial = configured(r.serial, 'the serial');
      // step-ca 0.19 offers no read-only revocation status; revoke is idempotent ("already revoked" counts as done).
      return { done: false, detail: `revoke serial ${serial} (${serialHex(serial)}) at the ${ctx.deps.tenantId} Sub-CA, ${r.serialNote}` };
    },
    apply: async (ctx) => {
      const serial = configured(resolved(ctx).serial, 'the serial');
      return { serial, ...(await configured(ctx.deps.ca, 'step-ca').revoke(serial, 'keyCompromise', ctx.signal)) };
    },
    verify: async (ctx) => {
      const serial = configured(resolved(ctx).serial, 'the serial');
      const again = await configured(ctx.deps.ca, 'step-ca').revoke(serial, 'keyCompromise', ctx.signal);
      return again.alreadyRevoked ? { ok: true, detail: `the CA reports serial ${serial} already revoked` } : { ok: false, detail: `the CA accepted a second revocation of ${serial}: it was not revoked before` };
    },
  },
  removePeerStep,
  {
    id: 'persist-wireguard', title: 'Persist the interface configuration without the peer', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['remove-wireguard-peer'],
    when: wgPeer,
    check: async (ctx) => {
      const has = await configured(ctx.deps.wg, 'WireGuard').configHasPeer(configured(resolved(ctx).publicKey, 'the public key'));
      const wg = configured(ctx.deps.tenant.wireguard, 'WireGuard');
      return { done: has === false, detail: `${wg.persist} for ${wg.interface}` };
    },
    apply: async (ctx) => configured(ctx.deps.wg, 'WireGuard').persistRemoval(configured(resolved(ctx).publicKey, 'the public key'), ctx.signal),
    // The live peer back first, then persisted with it (compensations run newest first).
    compensate: async (ctx) => {
      const peer = await restorePeer(ctx, ctx.output(removePeerStep));
      if (peer !== undefined) await ctx.deps.wg?.persistRestore(peer, ctx.signal);
    },
    verify: async (ctx) => {
      const has = await configured(ctx.deps.wg, 'WireGuard').configHasPeer(configured(resolved(ctx).publicKey, 'the public key'));
      return has === true ? { ok: false, detail: 'the persisted configuration still has the peer' } : { ok: true, detail: has === null ? 'no configuration file to check' : 'peer absent from the configuration file' };
    },
  },
  {
    id: 'remove-from-peers-json', title: 'Remove the device from cdm_peers.json', phase: 'containment', system: 'iot-bridge', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'],
    when: (ctx) => ctx.deps.peers !== undefined || 'no cdm_peers.json configured',
    check: async (ctx) => {
      const p = configured(ctx.deps.peers, 'cdm_peers.json');
      const file = await readPeersJson(p.executor, p.path);
      return { done: !Object.hasOwn(file.peers, ctx.input.device), detail: `remove "${ctx.input.device}" from ${p.path}` };
    },
    apply: async (ctx): Promise<{ removed: boolean; entry: PeerEntry | null }> => {
      const p = configured(ctx.deps.peers, 'cdm_peers.json');
      const { removed } = await removeFromPeersJson(p.executor, p.path, ctx.input.device);
      return { removed: removed !== null, entry: removed };
    },
    compensate: async (ctx, output?: { entry?: PeerEntry | null }) => {
      const p = ctx.deps.peers;
      const entry = output?.entry;
      if (p === undefined || entry === undefined || entry === null) return;
      await restoreToPeersJson(p.executor, p.path, ctx.input.device, entry);
    },
    verify: async (ctx) => {
      const p = configured(ctx.deps.peers, 'cdm_peers.json');
      const file = await readPeersJson(p.executor, p.path);
      return Object.hasOwn(file.peers, ctx.input.device) ? { ok: false, detail: 'the device is still listed' } : { ok: true, detail: `absent from ${p.path}, ${Object.keys(file.peers).length} other peer(s) kept` };
    },
  },
  {
    id: 'delete-thingsboard-device', title: 'Delete the device from ThingsBoard', phase: 'containment', system: 'thingsboard', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'],
    when: (ctx) => ctx.deps.tb !== undefined || 'ThingsBoard not configured for the tenant',
    check: async (ctx) => {
      const d = await configured(ctx.deps.tb, 'ThingsBoard').findDeviceByName(ctx.input.device, ctx.signal);
      return { done: d === null, detail: d === null ? 'device absent from ThingsBoard' : `delete ThingsBoard device ${d.id}` };
    },
    apply: async (ctx) => {
      const tb = configured(ctx.deps.tb, 'ThingsBoard');
      const d = await tb.findDeviceByName(ctx.input.device, ctx.signal);
      if (d === null) return { alreadyAbsent: true };
      return { id: d.id, ...(await tb.deleteDevice(d.id, ctx.signal)) };
    },
    verify: async (ctx) => {
      const tb = configured(ctx.deps.tb, 'ThingsBoard');
      const byName = await tb.findDeviceByName(ctx.input.device, ctx.signal);
      const id = resolved(ctx).tbDeviceId;
      const byId = id === null ? null : await tb.getDevice(id, ctx.signal);
      return byName === null && byId === null ? { ok: true, detail: 'ThingsBoard answers 404 for the device' } : { ok: false, detail: 'ThingsBoard still has the device' };
    },
  },
  {
    id: 'delete-hawkbit-target', title: 'Delete the OTA target from hawkBit', phase: 'containment', system: 'hawkbit', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'],
    when: (ctx) => ctx.deps.hawkbit !== undefined || 'hawkBit not configured for the tenant',
    check: async (ctx) => {
      const t = await configured(ctx.deps.hawkbit, 'hawkBit').getTarget(ctx.input.device, ctx.signal);
      return { done: t === null, detail: t === null ? 'target absent from hawkBit' : `delete hawkBit target ${ctx.input.device}` };
    },
    apply: async (ctx) => configured(ctx.deps.hawkbit, 'hawkBit').deleteTarget(ctx.input.device, ctx.signal),
    verify: async (ctx) => {
      const t = await configured(ctx.deps.hawkbit, 'hawkBit').getTarget(ctx.input.device, ctx.signal);
      return t === null ? { ok: true, detail: 'hawkBit answers 404 for the target' } : { ok: false, detail: 'hawkBit still has the target' };
    },
  },
  step<{ path: string; serial: string }>({
    // Signing twice would leave a second valid certificate for the replacement: keyed by a persisted one-time token.
    id: 'issue-replacement', title: 'Issue the replacement device\'s certificate', phase: 'recovery', system: 'step-ca', effect: 'mutate', idempotency: 'keyed', dependsOn: ['revoke-certificate'],
    inDoubt: (ctx) => `The ${ctx.deps.tenantId} Sub-CA may have issued a certificate for ${ctx.input.replacement ?? 'the replacement'} in that attempt. Look for it in the CA's database or logs and revoke it (reason superseded)`,
    when: (ctx) => (ctx.input.replacement === undefined ? 'no replacement requested' : ctx.deps.ca !== undefined || `no step-ca configured for tenant ${ctx.deps.tenantId}`),
    check: async (ctx) => {
      const replacement = configured(ctx.input.replacement, 'the replacement');
      const out = ctx.input.certOut ?? defaultCertOut(ctx.deps, replacement);
      const pem = await readIfExists(ctx, out);
      if (pem === undefined) return { done: false, detail: `sign the CSR of ${replacement}, write ${out}` };
      const { facts } = await certificateFacts(pem);
      return { done: facts.subject.includes(`CN=${replacement}`), detail: `${out} holds a certificate for ${replacement}`, output: { path: out, serial: facts.serial } };
    },
    apply: async (ctx) => {
      const replacement = configured(ctx.input.replacement, 'the replacement');
      const csr = configured(ctx.input.csr, 'the CSR');
      const ca = configured(ctx.deps.ca, 'step-ca');
      const signed = await signOnce(ctx, ca, 'issue-replacement', { csr: ctx.deps.readLocal(csr, 'CSR'), subject: replacement, sans: [replacement], what: `signing the certificate of ${replacement}` });
      const out = ctx.input.certOut ?? defaultCertOut(ctx.deps, replacement);
      // Written through the local executor like every other file effect (atomic: temp file + rename).
      const mkdir = await ctx.deps.files.exec({ argv: ['mkdir', '-p', '--', dirname(out)], signal: ctx.signal });
      if (mkdir.exitCode !== 0) throw new FirebreakError('UPSTREAM_REJECTED', `cannot create ${dirname(out)}: ${mkdir.stderr.trim()}`);
      await ctx.deps.files.writeFileAtomic(out, `${signed.certChain.join('\n').trim()}\n`, { mode: 0o644 });
      return { path: out, serial: (await certificateFacts(signed.crt)).facts.serial };
    },
    verify: async (ctx, output) => {
      const replacement = configured(ctx.input.replacement, 'the replacement');
      const path = configured(output?.path, 'the written certificate');
      const { cert, facts } = await certificateFacts(configured(await readIfExists(ctx, path), `certificate ${path}`));
      if (ctx.deps.subCaCert !== undefined) await assertIssuedBy(cert, ctx.deps.subCaCert, `the ${ctx.deps.tenantId} Sub-CA`);
      return { ok: facts.subject.includes(`CN=${replacement}`), detail: `certificate ${facts.serialHex} for ${replacement} written to ${path}` };
    },
  }),
];

/** Seed Scenario 1: a device stolen or its key extracted (listed from device-descriptor.ts, which must say the same). */
export const deviceCompromise = definePlaybook({
  id: 'device-compromise',
  title: 'Compromised device',
  summary: 'Capture evidence, then revoke the device certificate, remove its WireGuard peer, ThingsBoard device and hawkBit target, verify each; optionally issue the replacement\'s certificate.',
  version: 1,
  incidentKind: 'device-compromise',
  severity: 'high',
  input: deviceCompromiseInputs(serialProblem),
  rto: { assessment: 2 * 60_000, containment: 5 * 60_000, recovery: 30 * 60_000 },
  targets: (i) => [`device:${i.tenant}/${i.device}`],
  entities: (i) => [{ type: 'tenant', id: i.tenant }, { type: 'device', id: i.device }],
  connect: connectDevice,
  disconnect: async (d) => { await Promise.all([d.ca?.close(), d.tb?.close(), d.hawkbit?.close()]); },
  steps,
});

/** A local file's text, or undefined when there is none. */
async function readIfExists(ctx: Ctx, path: string): Promise<string | undefined> {
  try {
    return (await ctx.deps.files.readFile(path)).toString('utf8');
  } catch (err) {
    if (toErrorData(err).code === 'NOT_FOUND') return undefined;
    throw err;
  }
}
