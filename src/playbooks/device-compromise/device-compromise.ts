import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FirebreakError } from '../../lib/errors.ts';
import { definePlaybook, type StepContext, type StepDefinition } from '../../engine/playbook-types.ts';
import { writeAtomicLocal } from '../../connectors/executor/local-executor.ts';
import { assertIssuedBy, certificateFacts, serialHex } from '../../connectors/step-ca/step-ca-serial.ts';
import { readPeersJson, removeFromPeersJson, restoreToPeersJson, type PeerEntry } from '../../connectors/wireguard/peers-json.ts';
import type { RestorablePeer } from '../../connectors/wireguard/wireguard-client.ts';
import { signOnce } from '../sign-once.ts';
import { connectDevice, defaultCertOut, type DeviceDeps } from './device-deps.ts';
import { deviceCompromiseInput, type DeviceCompromiseInput } from './device-inputs.ts';
import { resolveDevice, type ResolvedDevice } from './device-resolve.ts';

type Ctx = StepContext<DeviceCompromiseInput, DeviceDeps>;
type Step = StepDefinition<DeviceCompromiseInput, DeviceDeps>;

const resolved = (ctx: Ctx): ResolvedDevice => {
  const r = ctx.outputs['resolve-device'] as ResolvedDevice | undefined;
  if (r === undefined) throw new FirebreakError('INTERNAL', 'resolve-device has no output');
  return r;
};
const skip = (detail: string) => ({ done: true, detail });

/** Puts the WireGuard peer removed by remove-wireguard-peer back on the live interface (a rejection's compensation). */
async function restorePeer(ctx: Ctx, output: unknown): Promise<RestorablePeer | undefined> {
  const removed = (output as { removed?: Omit<RestorablePeer, 'presharedKey'> & { presharedKey: boolean } | null } | null | undefined)?.removed;
  if (ctx.deps.wg === undefined || removed == null) return undefined;
  const presharedKey = removed.presharedKey
    ? await ctx.generate('wireguard-preshared-key', () => { throw new FirebreakError('INTERNAL', 'the removed peer\'s preshared key was not kept'); })
    : null;
  const peer: RestorablePeer = { ...removed, presharedKey };
  await ctx.deps.wg.restorePeer(peer, ctx.signal);
  return peer;
}

const steps: Step[] = [
  {
    id: 'resolve-device', title: 'Resolve the device and its certificate serial', phase: 'assessment', system: 'inventory', effect: 'read', idempotency: 'natural',
    apply: (ctx) => resolveDevice(ctx.deps, ctx.input, ctx.signal),
  },
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
    check: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.ca === undefined) return skip(`no step-ca configured for tenant ${ctx.deps.tenantId}`);
      // Said in the plan's entry, so the approver knows the device keeps a valid certificate.
      if (r.serial === null) return skip(r.serialNote);
      // step-ca 0.19 offers no read-only revocation status; revoke is idempotent ("already revoked" counts as done).
      return { done: false, detail: `revoke serial ${r.serial} (${serialHex(r.serial)}) at the ${ctx.deps.tenantId} Sub-CA, ${r.serialNote}` };
    },
    apply: async (ctx) => {
      const r = resolved(ctx);
      const ca = ctx.deps.ca;
      if (ca === undefined || r.serial === null) throw new FirebreakError('INTERNAL', 'revoke without a CA or serial');
      return { serial: r.serial, ...(await ca.revoke(r.serial, 'keyCompromise', ctx.signal)) };
    },
    verify: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.ca === undefined || r.serial === null) return { ok: true, detail: 'not applicable' };
      const again = await ctx.deps.ca.revoke(r.serial, 'keyCompromise', ctx.signal);
      return again.alreadyRevoked ? { ok: true, detail: `the CA reports serial ${r.serial} already revoked` } : { ok: false, detail: `the CA accepted a second revocation of ${r.serial}: it was not revoked before` };
    },
  },
  {
    id: 'remove-wireguard-peer', title: 'Remove the WireGuard peer from the live interface', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'],
    check: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.wg === undefined || r.publicKey === null) return skip('no WireGuard peer known for the device');
      const peer = await ctx.deps.wg.findPeer(r.publicKey, ctx.signal);
      return { done: peer === null, detail: `remove peer ${r.publicKey} from ${ctx.deps.tenant.wireguard?.interface ?? ''}` };
    },
    apply: async (ctx) => {
      const r = resolved(ctx);
      const wg = ctx.deps.wg;
      if (wg === undefined || r.publicKey === null) return null;
      // What the compensation needs to put the peer back; its preshared key sealed in the journal, never in the output.
      const peer = await wg.findPeer(r.publicKey, ctx.signal);
      if (peer?.presharedKey != null) { const psk = peer.presharedKey; await ctx.generate('wireguard-preshared-key', () => psk); }
      const removed = peer === null ? null : { publicKey: peer.publicKey, allowedIps: peer.allowedIps, endpoint: peer.endpoint, persistentKeepalive: peer.persistentKeepalive, presharedKey: peer.presharedKey !== null };
      return { ...(await wg.removePeer(r.publicKey, ctx.signal)), removed };
    },
    compensate: async (ctx, output) => { await restorePeer(ctx, output); },
    verify: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.wg === undefined || r.publicKey === null) return { ok: true, detail: 'not applicable' };
      const peer = await ctx.deps.wg.findPeer(r.publicKey, ctx.signal);
      return peer === null ? { ok: true, detail: 'peer absent from wg show dump' } : { ok: false, detail: 'peer still listed by wg show dump' };
    },
  },
  {
    id: 'persist-wireguard', title: 'Persist the interface configuration without the peer', phase: 'containment', system: 'wireguard', effect: 'mutate', idempotency: 'natural', dependsOn: ['remove-wireguard-peer'],
    check: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.wg === undefined || r.publicKey === null) return skip('no WireGuard peer known for the device');
      const has = await ctx.deps.wg.configHasPeer(r.publicKey);
      return { done: has === false, detail: `${ctx.deps.tenant.wireguard?.persist ?? ''} for ${ctx.deps.tenant.wireguard?.interface ?? ''}` };
    },
    apply: async (ctx) => ctx.deps.wg?.persistRemoval(resolved(ctx).publicKey ?? '', ctx.signal),
    // The live peer back first, then persisted with it (compensations run newest first).
    compensate: async (ctx) => {
      const peer = await restorePeer(ctx, ctx.outputs['remove-wireguard-peer']);
      if (peer !== undefined) await ctx.deps.wg?.persistRestore(peer, ctx.signal);
    },
    verify: async (ctx) => {
      const r = resolved(ctx);
      if (ctx.deps.wg === undefined || r.publicKey === null) return { ok: true, detail: 'not applicable' };
      const has = await ctx.deps.wg.configHasPeer(r.publicKey);
      return has === true ? { ok: false, detail: 'the persisted configuration still has the peer' } : { ok: true, detail: has === null ? 'no configuration file to check' : 'peer absent from the configuration file' };
    },
  },
  {
    id: 'remove-from-peers-json', title: 'Remove the device from cdm_peers.json', phase: 'containment', system: 'iot-bridge', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-evidence'],
    check: async (ctx) => {
      const p = ctx.deps.peers;
      if (p === undefined) return skip('no cdm_peers.json configured');
      const file = await readPeersJson(p.executor, p.path);
      return { done: !Object.hasOwn(file.peers, ctx.input.device), detail: `remove "${ctx.input.device}" from ${p.path}` };
    },
    apply: async (ctx) => {
      const p = ctx.deps.peers;
      if (p === undefined) return null;
      const { removed } = await removeFromPeersJson(p.executor, p.path, ctx.input.device);
      return { removed: removed !== null, entry: removed };
    },
    compensate: async (ctx, output) => {
      const p = ctx.deps.peers;
      const entry = (output as { entry?: PeerEntry | null } | null | undefined)?.entry;
      if (p === undefined || entry === undefined || entry === null) return;
      await restoreToPeersJson(p.executor, p.path, ctx.input.device, entry);
    },
    verify: async (ctx) => {
      const p = ctx.deps.peers;
      if (p === undefined) return { ok: true, detail: 'not applicable' };
      const file = await readPeersJson(p.executor, p.path);
      return Object.hasOwn(file.peers, ctx.input.device) ? { ok: false, detail: 'the device is still listed' } : { ok: true, detail: `absent from ${p.path}, ${Object.keys(file.peers).length} other peer(s) kept` };
    },
  },
  {
    id: 'delete-thingsboard-device', title: 'Delete the device from ThingsBoard', phase: 'containment', system: 'thingsboard', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'],
    check: async (ctx) => {
      if (ctx.deps.tb === undefined) return skip('ThingsBoard not configured for the tenant');
      const d = await ctx.deps.tb.findDeviceByName(ctx.input.device, ctx.signal);
      return { done: d === null, detail: d === null ? 'device absent from ThingsBoard' : `delete ThingsBoard device ${d.id}` };
    },
    apply: async (ctx) => {
      const tb = ctx.deps.tb;
      const d = await tb?.findDeviceByName(ctx.input.device, ctx.signal);
      if (tb === undefined || d === null || d === undefined) return { alreadyAbsent: true };
      return { id: d.id, ...(await tb.deleteDevice(d.id, ctx.signal)) };
    },
    verify: async (ctx) => {
      const tb = ctx.deps.tb;
      if (tb === undefined) return { ok: true, detail: 'not applicable' };
      const byName = await tb.findDeviceByName(ctx.input.device, ctx.signal);
      const id = resolved(ctx).tbDeviceId;
      const byId = id === null ? null : await tb.getDevice(id, ctx.signal);
      return byName === null && byId === null ? { ok: true, detail: 'ThingsBoard answers 404 for the device' } : { ok: false, detail: 'ThingsBoard still has the device' };
    },
  },
  {
    id: 'delete-hawkbit-target', title: 'Delete the OTA target from hawkBit', phase: 'containment', system: 'hawkbit', effect: 'irreversible', idempotency: 'natural', dependsOn: ['capture-evidence'],
    check: async (ctx) => {
      if (ctx.deps.hawkbit === undefined) return skip('hawkBit not configured for the tenant');
      const t = await ctx.deps.hawkbit.getTarget(ctx.input.device, ctx.signal);
      return { done: t === null, detail: t === null ? 'target absent from hawkBit' : `delete hawkBit target ${ctx.input.device}` };
    },
    apply: async (ctx) => ctx.deps.hawkbit?.deleteTarget(ctx.input.device, ctx.signal),
    verify: async (ctx) => {
      if (ctx.deps.hawkbit === undefined) return { ok: true, detail: 'not applicable' };
      const t = await ctx.deps.hawkbit.getTarget(ctx.input.device, ctx.signal);
      return t === null ? { ok: true, detail: 'hawkBit answers 404 for the target' } : { ok: false, detail: 'hawkBit still has the target' };
    },
  },
  {
    // Signing twice would leave a second valid certificate for the replacement: keyed by a persisted one-time token.
    id: 'issue-replacement', title: 'Issue the replacement device\'s certificate', phase: 'recovery', system: 'step-ca', effect: 'mutate', idempotency: 'keyed', dependsOn: ['revoke-certificate'],
    inDoubt: (ctx) => `The ${ctx.deps.tenantId} Sub-CA may have issued a certificate for ${ctx.input.replacement ?? 'the replacement'} in that attempt. Look for it in the CA's database or logs and revoke it (reason superseded)`,
    check: async (ctx) => {
      const { replacement } = ctx.input;
      if (replacement === undefined) return skip('no replacement requested');
      const out = ctx.input.certOut ?? defaultCertOut(ctx.deps, replacement);
      if (!existsSync(out)) return { done: false, detail: `sign the CSR of ${replacement}, write ${out}` };
      const { facts } = await certificateFacts(ctx.deps.readLocal(out, 'certificate'));
      return { done: facts.subject.includes(`CN=${replacement}`), detail: `${out} holds a certificate for ${replacement}`, output: { path: out, serial: facts.serial } };
    },
    apply: async (ctx) => {
      const { replacement, csr } = ctx.input;
      const ca = ctx.deps.ca;
      if (replacement === undefined || csr === undefined || ca === undefined) return null;
      const signed = await signOnce(ctx, ca, 'issue-replacement', { csr: ctx.deps.readLocal(csr, 'CSR'), subject: replacement, sans: [replacement], what: `signing the certificate of ${replacement}` });
      const out = ctx.input.certOut ?? defaultCertOut(ctx.deps, replacement);
      mkdirSync(dirname(out), { recursive: true });
      writeAtomicLocal(out, `${signed.certChain.join('\n').trim()}\n`, 0o644);
      return { path: out, serial: (await certificateFacts(signed.crt)).facts.serial };
    },
    verify: async (ctx, output) => {
      const o = output as { path?: string } | null | undefined;
      if (ctx.input.replacement === undefined || o?.path === undefined) return { ok: true, detail: 'not applicable' };
      const { cert, facts } = await certificateFacts(ctx.deps.readLocal(o.path, 'certificate'));
      if (ctx.deps.subCaCert !== undefined) await assertIssuedBy(cert, ctx.deps.subCaCert, `the ${ctx.deps.tenantId} Sub-CA`);
      return { ok: facts.subject.includes(`CN=${ctx.input.replacement}`), detail: `certificate ${facts.serialHex} for ${ctx.input.replacement} written to ${o.path}` };
    },
  },
];

/** Seed Scenario 1: a device stolen or its key extracted. */
export const deviceCompromise = definePlaybook<DeviceCompromiseInput, DeviceDeps>({
  id: 'device-compromise',
  title: 'Compromised device',
  summary: 'Capture evidence, then revoke the device certificate, remove its WireGuard peer, ThingsBoard device and hawkBit target, verify each; optionally issue the replacement\'s certificate.',
  version: 1,
  incidentKind: 'device-compromise',
  severity: 'high',
  input: deviceCompromiseInput,
  rto: { assessment: 2 * 60_000, containment: 5 * 60_000, recovery: 30 * 60_000 },
  targets: (i) => [`device:${i.tenant}/${i.device}`],
  entities: (i) => [{ type: 'tenant', id: i.tenant }, { type: 'device', id: i.device }],
  connect: connectDevice,
  disconnect: async (d) => { await Promise.all([d.ca?.close(), d.tb?.close(), d.hawkbit?.close()]); },
  drill: { input: { tenant: 'acme', device: 'device-001' } },
  steps,
});
