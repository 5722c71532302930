import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { createThingsboardClient, type ThingsboardClient } from '../../src/connectors/thingsboard/thingsboard-client.ts';
import { parseSerial, serialProblem } from '../../src/connectors/step-ca/step-ca-serial.ts';
import { startThingsboardSim } from '../../src/lab/thingsboard/thingsboard-sim.ts';
import { createLabPki, issueDeviceCert } from '../../src/lab/step-ca/step-ca-pki.ts';
import { toErrorData } from '../../src/lib/errors.ts';
import { Secret } from '../../src/lib/secret.ts';
import type { X509Certificate } from '../../src/lib/x509.ts';
import type { DeviceDeps } from '../../src/playbooks/device-compromise/device-deps.ts';
import { thingsboardCertHash } from '../../src/playbooks/device-compromise/device-known-cert.ts';
import { resolveDevice } from '../../src/playbooks/device-compromise/device-resolve.ts';

// The ThingsBoard side of "what the platform knows of the device's certificate": the lab's ThingsBoard
// only has access-token devices, so these drive resolveDevice with X.509 credentials as ThingsBoard returns them.

const pki = await createLabPki('acme');
const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'fb-resolve-'));
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }); });

type Creds = Awaited<ReturnType<ThingsboardClient['x509Credentials']>>;
/** ThingsBoard keeps the certificate as bare base64 DER (PEM armour and line breaks trimmed). */
const stored = (cert: X509Certificate) => Buffer.from(cert.rawData).toString('base64');
const serialOf = (cert: X509Certificate) => BigInt(`0x${cert.serialNumber}`).toString(10);

function deps(creds: Creds, inventory?: Record<string, unknown>): DeviceDeps {
  const tb = {
    findDeviceByName: (name: string) => Promise.resolve(name === 'device-001' ? { id: 'tb-1', name, type: 'sensor', createdTime: 0, raw: {} } : null),
    x509Credentials: () => Promise.resolve(creds),
  } as unknown as ThingsboardClient;
  let peers: DeviceDeps['peers'];
  if (inventory !== undefined) {
    const path = join(dir, `peers-${String(Math.random()).slice(2)}.json`);
    writeFileSync(path, JSON.stringify({ peers: { 'device-001': inventory } }));
    peers = { executor: createLocalExecutor(), path };
  }
  return {
    tenantId: 'acme', subCaCert: pki.subCa.cert, tb, peers, hawkbit: undefined, ca: undefined, wg: undefined, stateDir: dir,
    readLocal: (path: string) => readFileSync(path, 'utf8'),
  } as unknown as DeviceDeps;
}
const certFile = (cert: X509Certificate) => {
  const path = join(dir, `${cert.serialNumber}.crt`);
  writeFileSync(path, cert.toString('pem'));
  return path;
};
const input = (extra: { cert?: string; serial?: string } = {}) => ({ tenant: 'acme', device: 'device-001', ...extra });
async function refused(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(() => assert.fail('expected a refusal'), (e: unknown) => toErrorData(e));
  return { code: err.code, message: err.message };
}

test('ThingsBoard\'s X.509 certificate is the device\'s: used when nothing is given, a different --serial refused naming it', async () => {
  const own = await issueDeviceCert(pki.subCa, 'device-001');
  const d = deps({ certHash: thingsboardCertHash(own), certificate: stored(own) });
  const r = await resolveDevice(d, input(), signal);
  assert.equal(r.serial, serialOf(own));
  assert.equal(r.serialSource, 'thingsboard');
  assert.match(r.serialNote, /^from ThingsBoard's X\.509 credentials of device tb-1$/);

  const e = await refused(resolveDevice(d, input({ serial: '123' }), signal));
  assert.equal(e.code, 'INVALID_INPUT');
  assert.ok(e.message.includes(`serial 123 (0x7b) from --serial is not the certificate of device "device-001": serial ${serialOf(own)} (0x${BigInt(serialOf(own)).toString(16)}) from ThingsBoard's X.509 credentials of device tb-1`), e.message);

  const ok = await resolveDevice(d, input({ serial: `0x${own.serialNumber}` }), signal);
  assert.equal(ok.serial, serialOf(own));
  assert.match(ok.serialNote, /from --serial, matches ThingsBoard's X\.509 credentials of device tb-1/);
});

test('only a hash in ThingsBoard: the --cert must hash to it, a bare --serial cannot be checked and is refused', async () => {
  const own = await issueDeviceCert(pki.subCa, 'device-001');
  const other = await issueDeviceCert(pki.subCa, 'device-001');
  const d = deps({ certHash: thingsboardCertHash(own).toUpperCase(), certificate: null });

  const r = await resolveDevice(d, input({ cert: certFile(own) }), signal);
  assert.equal(r.serial, serialOf(own));
  assert.match(r.serialNote, /matches ThingsBoard's X\.509 credentials of device tb-1/);

  const wrong = await refused(resolveDevice(d, input({ cert: certFile(other) }), signal));
  assert.equal(wrong.code, 'INVALID_INPUT');
  assert.match(wrong.message, new RegExp(`serial ${serialOf(other)} .* is not the certificate of device "device-001": ThingsBoard's X\\.509 credentials of device tb-1 name another one \\(SHA3-256 ${thingsboardCertHash(own)}\\)`));

  const bare = await refused(resolveDevice(d, input({ serial: '42' }), signal));
  assert.equal(bare.code, 'INVALID_INPUT');
  assert.match(bare.message, /by its hash only.*give --cert <file> instead of --serial/);

  const none = await resolveDevice(d, input(), signal);
  assert.equal(none.serial, null);
  assert.match(none.serialNote, /no certificate serial known for device-001 .*the certificate will NOT be revoked/);
});

test('the inventory and ThingsBoard naming different certificates, or an unreadable inventory serial, is a CONFLICT', async () => {
  const a = await issueDeviceCert(pki.subCa, 'device-001');
  const b = await issueDeviceCert(pki.subCa, 'device-001');
  const split = deps({ certHash: null, certificate: b.toString('pem') }, { publicKey: 'k', certSerial: `0x${a.serialNumber}` });
  for (const given of [input(), input({ serial: serialOf(a) }), input({ cert: certFile(a) })]) {
    const e = await refused(resolveDevice(split, given, signal));
    assert.equal(e.code, 'CONFLICT');
    assert.match(e.message, new RegExp(`the platform disagrees on the certificate of device "device-001": serial ${serialOf(a)} .*certSerial of "device-001"\\), but serial ${serialOf(b)} .* from ThingsBoard's X\\.509 credentials`));
  }
  const broken = await refused(resolveDevice(deps(null, { publicKey: 'k', certSerial: 'n/a' }), input(), signal));
  assert.equal(broken.code, 'CONFLICT');
  assert.match(broken.message, /certSerial of "device-001"\) is unusable: serial "n\/a" is not a number/);
});

test('serial forms: decimal, 0x-hex and colon-hex normalised to decimal; the 20-octet bound is exact', () => {
  assert.equal(parseSerial('0x0100'), '256');
  assert.equal(parseSerial('01:00'), '256');
  assert.equal(parseSerial(' 256 '), '256');
  assert.equal(serialProblem(`0x7f${'ff'.repeat(19)}`), undefined, '2^159 - 1: 20 octets');
  assert.match(serialProblem(`0x80${'00'.repeat(19)}`) ?? '', /is 21 octets long/, '2^159 needs a leading zero octet');
  assert.match(serialProblem(String(2n ** 159n)) ?? '', /is 21 octets long/);
});

test('the ThingsBoard client reads X.509 credentials only: an access token never leaves it', async (t) => {
  const sim = await startThingsboardSim({ username: 'u@lab', password: 'pw-pw-pw', devices: [{ name: 'device-001' }] });
  t.after(() => sim.stop());
  const tb = createThingsboardClient({ url: sim.url, username: 'u@lab', password: new Secret('pw-pw-pw') });
  t.after(() => tb.close());
  const device = await tb.findDeviceByName('device-001');
  assert.ok(device !== null);
  assert.equal(await tb.x509Credentials(device.id), null);
  assert.ok(sim.calls().some((c) => c.path === `/api/device/${device.id}/credentials` && c.status === 200), 'the credentials were asked for');
});
