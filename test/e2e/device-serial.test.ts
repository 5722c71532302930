import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { labFor, run } from './cli-helpers.ts';
import type { Lab } from '../../src/lab/lab.ts';
import type { StepCaSim } from '../../src/lab/step-ca/step-ca-sim.ts';
import { issueLeaf, loadLabCa } from '../../src/lab/step-ca/step-ca-pki.ts';

// A hand-given serial or certificate is checked against what the platform records of the device, during the plan.

const DC = (device: string) => ['device-compromise', '--tenant', 'acme', '--device', device];
const json = <T>(text: string): T => JSON.parse(text) as T;
const peersFile = (lab: Lab) => join(lab.dir, 'cdm_peers.json');
const inventory = (lab: Lab) => json<{ peers: Record<string, { certSerial?: string; publicKey: string }> }>(readFileSync(peersFile(lab), 'utf8'));
/** The serial cdm_peers.json records for the device (lab: 0x-hex), as hex and decimal. */
function recorded(lab: Lab, device: string): { hex: string; decimal: string } {
  const stored = inventory(lab).peers[device]?.certSerial ?? '';
  assert.match(stored, /^0x[0-9a-f]+$/);
  return { hex: `0x${BigInt(stored).toString(16)}`, decimal: BigInt(stored).toString(10) };
}
const stepCa = (lab: Lab) => lab.simulators['step-ca'] as StepCaSim;
const revokeCalls = (lab: Lab) => stepCa(lab).calls().filter((x) => x.path === '/1.0/revoke');
const livePeers = async (lab: Lab) => (await lab.wireguard.exec({ argv: ['wg', 'show', 'wg0', 'dump'] })).stdout.trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
const tbNames = (lab: Lab) => [...lab.simulators.thingsboard.devices.values()].map((d) => d.name).sort();

/** Everything a device-compromise run would change, to prove nothing did. */
async function snapshot(lab: Lab) {
  return { tb: tbNames(lab), peers: (await livePeers(lab)).sort(), inventory: readFileSync(peersFile(lab), 'utf8'), hawkbitDeletes: lab.simulators.hawkbit.calls().filter((x) => x.method === 'DELETE').length };
}

test('a --serial that is not the device\'s own is refused during the plan, naming both serials, and nothing changes', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const before = await snapshot(lab);
  const own = recorded(lab, 'device-001');

  const r = await run([...c, 'run', ...DC('device-001'), '--serial', '123', '--yes', '--json']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const message = json<{ error: { code: string; message: string } }>(r.stdout).error;
  assert.equal(message.code, 'INVALID_INPUT');
  assert.match(message.message, /serial 123 \(0x7b\) from --serial is not the certificate of device "device-001"/);
  assert.ok(message.message.includes(`serial ${own.decimal} (${own.hex}) from ${peersFile(lab)} (certSerial of "device-001")`), message.message);
  assert.match(message.message, /nothing was changed/);

  // Another device's serial (a copy-paste from the wrong line) is just as wrong; plan refuses it too.
  const plan = await run([...c, 'plan', ...DC('device-002'), '--serial', own.hex]);
  assert.equal(plan.code, 2, plan.stdout + plan.stderr);
  assert.ok(plan.stderr.includes(`serial ${own.decimal} (${own.hex}) from --serial is not the certificate of device "device-002": serial ${recorded(lab, 'device-002').decimal}`), plan.stderr);

  assert.deepEqual(revokeCalls(lab), [], 'the CA was never asked to revoke');
  assert.equal(stepCa(lab).revoked.size, 0);
  assert.deepEqual(await snapshot(lab), before, 'ThingsBoard, hawkBit, the WireGuard peers and cdm_peers.json are untouched');
  assert.deepEqual(before.tb, ['device-001', 'device-002', 'device-003']);
  assert.equal(before.peers.length, 3);
});

test('a serial beyond 20 octets, or malformed, is refused at input parsing with INVALID_INPUT', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const cases: [string, RegExp][] = [
    ['1'.repeat(72), /serial "1{40}…" \(72 characters\) is 30 octets long: an X\.509 serial has at most 20 \(RFC 5280 §4\.1\.2\.2\)/],
    [`0x${'ff'.repeat(20)}`, /is 21 octets long/],
    ['0', /serial "0" is zero: certificate serials are positive/],
    ['0x000', /is zero/],
    ['-=-5', /serial "-5" is negative/],
    ['12abz', /serial "12abz" is not a number: give it in decimal, as 0x-prefixed hex or as colon-separated hex pairs/],
    ['0x', /serial "0x" is not a number/],
    ['1e5', /is not a number/],
    ['3a:f:01', /is not a number/],
    ['٣٤٥', /is not a number/],
  ];
  for (const [serial, expected] of cases) {
    const arg = serial.startsWith('-=') ? [`--serial=${serial.slice(2)}`] : ['--serial', serial];
    const r = await run([...c, 'run', ...DC('device-001'), ...arg, '--yes']);
    assert.equal(r.code, 2, `${serial}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /invalid input for playbook device-compromise:\n\s+serial: /, serial);
    assert.match(r.stderr, expected, serial);
  }
  // Refused before any system is asked anything.
  assert.deepEqual(stepCa(lab).calls(), []);
  assert.deepEqual(lab.simulators.thingsboard.calls(), []);
  assert.equal((await livePeers(lab)).length, 3);
});

test('the device\'s own serial, in any accepted form, is accepted: the CA revokes exactly it', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const own = recorded(lab, 'device-001');
  const digits = own.hex.slice(2);
  const colon = (digits.length % 2 === 0 ? digits : `0${digits}`).match(/../g)?.join(':').toUpperCase() ?? '';

  const plan = await run([...c, 'plan', ...DC('device-001'), '--serial', own.decimal]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.ok(plan.stdout.includes(`revoke serial ${own.decimal} (${own.hex}) at the acme Sub-CA, from --serial, matches ${peersFile(lab)} (certSerial of "device-001")`), plan.stdout);

  const r = await run([...c, 'run', ...DC('device-001'), '--serial', colon, '--yes', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(json<{ status: string }>(r.stdout).status, 'completed');
  assert.deepEqual([...stepCa(lab).revoked.keys()], [own.decimal], 'normalised to decimal for step-ca; nothing else revoked');
  assert.deepEqual(tbNames(lab), ['device-002', 'device-003']);
});

test('a --cert of another device is refused, even without a CN or with the device\'s name on another certificate', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const before = await snapshot(lab);
  const subCa = await loadLabCa(readFileSync(lab.subCaFiles.certFile, 'utf8'), readFileSync(lab.subCaFiles.keyFile, 'utf8'));
  const key = async () => (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])).publicKey;

  // Issued by the tenant Sub-CA for device-002, its name only in the SAN: the old CN check let it through.
  const noCn = join(lab.dir, 'no-cn.crt');
  writeFileSync(noCn, (await issueLeaf(subCa, 'O=acme devices', await key(), ['device-002'])).toString('pem'));
  const a = await run([...c, 'run', ...DC('device-001'), '--cert', noCn, '--yes']);
  assert.equal(a.code, 2, a.stdout + a.stderr);
  assert.match(a.stdout + a.stderr, /certificate .*no-cn\.crt has no subject CN: it cannot be matched to device "device-001"/);

  // CN=device-001 and signed by the Sub-CA, but not the certificate the inventory records for device-001.
  const other = await issueLeaf(subCa, 'CN=device-001', await key(), ['device-001']);
  const otherFile = join(lab.dir, 'other-device-001.crt');
  writeFileSync(otherFile, other.toString('pem'));
  const otherSerial = BigInt(`0x${other.serialNumber}`).toString(10);
  const b = await run([...c, 'run', ...DC('device-001'), '--cert', otherFile, '--yes']);
  assert.equal(b.code, 2, b.stdout + b.stderr);
  assert.ok((b.stdout + b.stderr).includes(`serial ${otherSerial} (0x${BigInt(otherSerial).toString(16)}) from --cert ${otherFile} is not the certificate of device "device-001": serial ${recorded(lab, 'device-001').decimal}`), b.stdout + b.stderr);
  assert.match(b.stdout, /Nothing was changed: the plan was refused\. Correct the input and start again \(--incident inc-[^ ]+ keeps this incident\)/i, 'no pointless "resume" advice');
  assert.doesNotMatch(b.stdout, /Continue with: firebreak resume/);

  // The device's real certificate file is accepted (plan only).
  const own = await run([...c, 'plan', ...DC('device-001'), '--cert', join(lab.dir, 'device-001.crt')]);
  assert.equal(own.code, 0, own.stderr);
  assert.match(own.stdout, /revoke serial \d+ \(0x[0-9a-f]+\) at the acme Sub-CA, from --cert .*device-001\.crt, matches .*cdm_peers\.json/);

  assert.deepEqual(revokeCalls(lab), []);
  assert.deepEqual(await snapshot(lab), before);
});

test('a device with no known certificate: the plan says it will NOT be revoked; a --serial for it is marked unconfirmed', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const inv = inventory(lab);
  delete inv.peers['device-003']?.certSerial;
  writeFileSync(peersFile(lab), JSON.stringify(inv, null, 2));

  const plan = await run([...c, 'plan', ...DC('device-003'), '--json']);
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  const entry = json<{ entries: { stepId: string; detail: string; approval: boolean }[] }>(plan.stdout).entries.find((e) => e.stepId === 'revoke-certificate');
  assert.match(entry?.detail ?? '', /^no certificate known for device-003: the certificate will NOT be revoked/);
  assert.equal(entry?.approval, true, 'shown among what the approval covers');
  const text = await run([...c, 'plan', ...DC('device-003')]);
  assert.match(text.stdout, /no certificate known for device-003: the certificate will NOT be revoked/);

  const given = await run([...c, 'plan', ...DC('device-003'), '--serial', '0x1234']);
  assert.equal(given.code, 0, given.stderr);
  assert.match(given.stdout, /revoke serial 4660 \(0x1234\) at the acme Sub-CA, from --serial, NOT confirmed: nothing the platform holds records the certificate of device-003/);

  const r = await run([...c, 'run', ...DC('device-003'), '--yes', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(revokeCalls(lab), [], 'nothing to revoke');
  assert.deepEqual(tbNames(lab), ['device-001', 'device-002']);
  const report = await run([...c, 'report', json<{ incidentId: string }>(r.stdout).incidentId, '--format', 'md']);
  assert.match(report.stdout, /no certificate known for device-003: the certificate will NOT be revoked/);
});
