import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import * as x509 from '../../src/lib/x509.ts';
import { createStepCaClient } from '../../src/connectors/step-ca/step-ca-client.ts';
import { Secret } from '../../src/lib/secret.ts';
import type { Lab } from '../../src/lab/lab.ts';
import { labFor, run, type CliResult } from './cli-helpers.ts';
import { crashRun } from '../helpers/crash-run.ts';

interface RunJson { runId: string; status: string; exitCode: number; error: { code: string; message: string } | null; result: { failures?: { stepId: string; key?: string }[] } | null }
const parsed = (r: CliResult) => JSON.parse(r.stdout) as RunJson;
const firstCert = (pem: string) => new x509.X509Certificate(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem)?.[0] ?? '');
const serialDec = (c: x509.X509Certificate) => BigInt(`0x${c.serialNumber}`).toString();
const spki = (c: x509.X509Certificate) => Buffer.from(c.publicKey.rawData).toString('base64');
function keyFileSpki(path: string): string {
  const r = spawnSync('openssl', ['pkey', '-in', path, '-pubout'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

/** Which devices hold a certificate from `ca` (their reported client attribute), by name. */
async function reenrolled(lab: Lab, ca: x509.X509Certificate): Promise<string[]> {
  const tb = lab.simulators.thingsboard;
  await tb.settled();
  const out: string[] = [];
  for (const [id, d] of tb.devices) {
    const pem = tb.attributes.get(id)?.CLIENT_SCOPE.get('certificate')?.value;
    if (typeof pem !== 'string') continue;
    const cert = new x509.X509Certificate(pem);
    if (cert.issuer === ca.subject && await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })) out.push(d.name);
  }
  return out.sort();
}
const deliveries = (lab: Lab, device: string) => lab.simulators.thingsboard.audit.filter((a) => a.entityName === device && a.actionType === 'ATTRIBUTES_UPDATED').length;

test('subca-compromise: revokes the Sub-CA at the provider CA, installs a new one made from a key generated on the host, re-enrolls every device; offline devices are listed and resume retries only them', async (t) => {
  const offline = new Set(['device-004', 'device-009']);
  const lab = await labFor(t, { devices: 12, offlineDevices: offline, reenrollTimeout: '2s' });
  const c = ['--config', lab.configPath];
  const old = firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8'));
  const oldKey = keyFileSpki(lab.subCaFiles.keyFile);

  const r = await run([...c, 'run', 'subca-compromise', '--tenant', 'acme', '--yes', '--json']);
  assert.equal(r.code, 11, r.stdout + r.stderr);
  const out = parsed(r);
  assert.equal(out.status, 'completed_with_failures');
  assert.deepEqual((out.result?.failures ?? []).map((f) => `${f.stepId} ${f.key ?? ''}`).sort(), ['reenroll-devices device-004', 'reenroll-devices device-009']);

  // The old Sub-CA is revoked at the provider CA; a new CA certificate for a new key, made on the host, is installed.
  assert.ok(lab.simulators['provider-ca'].revoked.has(serialDec(old)), 'the old Sub-CA serial is revoked at the provider CA');
  const installed = firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8'));
  assert.notEqual(installed.serialNumber, old.serialNumber);
  assert.equal(installed.subject, old.subject);
  assert.equal(installed.getExtension(x509.BasicConstraintsExtension)?.ca, true);
  assert.equal(keyFileSpki(lab.subCaFiles.keyFile), spki(installed), 'the key file is the new certificate\'s key');
  assert.notEqual(spki(installed), oldKey);
  assert.equal(statSync(lab.subCaFiles.keyFile).mode & 0o777, 0o600, 'the new key is 0600');
  assert.equal(existsSync(`${lab.subCaFiles.keyFile}.pending`), false);
  const kept = readdirSync(dirname(lab.subCaFiles.keyFile)).filter((f) => f.includes('.compromised-'));
  assert.equal(kept.length, 2, `the old certificate and key are kept as evidence: ${kept.join(', ')}`);

  const online = lab.devices.filter((d) => !offline.has(d));
  assert.deepEqual(await reenrolled(lab, installed), online);

  // The two devices come back; resume re-enrolls only them.
  offline.clear();
  const resumed = await run([...c, 'resume', out.runId, '--json']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(parsed(resumed).status, 'completed');
  assert.deepEqual(await reenrolled(lab, installed), [...lab.devices].sort());
  assert.equal(deliveries(lab, 'device-001'), 1, 'a device that re-enrolled the first time got one token');
  assert.equal(deliveries(lab, 'device-004'), 2, 'a device that was offline got a second token on resume');
  assert.equal(lab.simulators['provider-ca'].issued.size, 1, 'the Sub-CA was signed once');
  const verify = await run([...c, 'audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout);
});

test('subca-compromise with the provider CA offline: the run stops at manual steps with exact instructions (even with --yes) and continues when the operator confirms', async (t) => {
  const lab = await labFor(t, { devices: 3, providerOffline: true });
  const c = ['--config', lab.configPath];
  const old = firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8'));
  const first = await run([...c, 'run', 'subca-compromise', '--tenant', 'acme', '--yes', '--detach']);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  const runId = /Run (run-\S+)/.exec(first.stdout)?.[1] ?? '';
  assert.match(first.stdout, new RegExp(`Manual step approve-revoke-subca: the provider CA is offline\\. On it, revoke the Sub-CA certificate serial 0x${old.serialNumber.toLowerCase()}`));
  assert.match(first.stdout, new RegExp(`firebreak approve ${runId} --step revoke-subca`));
  assert.equal(lab.simulators['provider-ca'].revoked.size, 0, 'nothing was sent to the provider CA');

  // The operator revoked it by hand and confirms; the run goes on to the next manual step: signing.
  assert.equal((await run([...c, 'approve', runId, '--step', 'revoke-subca', '--no-resume', '--as', 'carol'])).code, 0);
  const second = await run([...c, 'resume', runId, '--detach']);
  assert.equal(second.code, 9, second.stdout + second.stderr);
  const csrPath = `${lab.subCaFiles.certFile}.csr`;
  assert.match(second.stdout, new RegExp(`Sign the CSR ${csrPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.ok(existsSync(csrPath), 'the CSR waits on the host for the operator');

  // Confirming before the certificate is there fails clearly and changes nothing.
  assert.equal((await run([...c, 'approve', runId, '--step', 'sign-subca', '--no-resume', '--as', 'carol'])).code, 0);
  const early = await run([...c, 'resume', runId, '--json']);
  assert.equal(early.code, 8, early.stdout);
  assert.match(parsed(early).error?.message ?? '', /intermediate_ca\.crt\.new is not on local: put the signed Sub-CA certificate there, then resume/);
  assert.equal(firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8')).serialNumber, old.serialNumber, 'nothing installed');

  // The operator signs it on the offline CA (here: the provider CA simulator) and drops the chain in place.
  const cfg = parse(readFileSync(lab.configPath, 'utf8')) as { provider: { stepCa: { url: string; provisioner: string; provisionerPassword: { value: string } } } };
  const provider = createStepCaClient({ url: cfg.provider.stepCa.url, provisioner: cfg.provider.stepCa.provisioner, provisionerPassword: new Secret(cfg.provider.stepCa.provisionerPassword.value) });
  t.after(() => provider.close());
  const signed = await provider.sign(readFileSync(csrPath, 'utf8'), /CN=([^,]+)/.exec(old.subject)?.[1] ?? '', []);
  writeFileSync(`${lab.subCaFiles.certFile}.new`, `${signed.crt.trim()}\n${signed.ca.trim()}\n`);
  const done = await run([...c, 'resume', runId, '--json']);
  assert.equal(done.code, 0, done.stdout + done.stderr);
  const installed = firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8'));
  assert.equal(installed.serialNumber, firstCert(signed.crt).serialNumber);
  assert.deepEqual(await reenrolled(lab, installed), [...lab.devices].sort());
});

async function assertUntouched(lab: Lab, before: string): Promise<void> {
  assert.equal(readFileSync(lab.subCaFiles.certFile, 'utf8'), before, 'the Sub-CA certificate file is unchanged');
  assert.equal(existsSync(`${lab.subCaFiles.keyFile}.pending`), false, 'no new key was generated');
  assert.equal(lab.simulators['provider-ca'].issued.size, 0, 'nothing was signed');
}

test('subca-compromise: bad configuration and bad certificates are refused before anything changes', async (t) => {
  const cases: { name: string; setup: (lab: Lab) => void; args?: string[]; code: number; message: RegExp; revoked?: boolean }[] = [
    { name: 'unknown tenant', setup: () => undefined, args: ['--tenant', 'nope'], code: 4, message: /nope/ },
    { name: 'tenant id with shell metacharacters', setup: () => undefined, args: ['--tenant', 'acme;rm -rf /'], code: 2, message: /tenant must be a tenant id/ },
    { name: 'no subCa block', setup: (lab) => { editConfig(lab, (cfg) => { delete (cfg['tenants'] as Record<string, Record<string, unknown>>)['acme']?.['subCa']; }); }, code: 3, message: /tenants\.acme\.subCa \(.*\) is not configured/ },
    { name: 'malformed PEM in the certificate file', setup: (lab) => { writeFileSync(lab.subCaFiles.certFile, '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n'); }, code: 2, message: /intermediate_ca\.crt/ },
    { name: 'a Sub-CA certificate the provider CA did not issue', setup: (lab) => { writeFileSync(lab.subCaFiles.certFile, selfSignedCa(lab)); }, code: 2, message: /was not issued by the provider CA/ },
    { name: 'provider CA refuses the provisioner key (401)', setup: (lab) => { editConfig(lab, (cfg) => { ((cfg['provider'] as Record<string, Record<string, unknown>>)['stepCa'] as Record<string, unknown>)['provisionerPassword'] = { value: 'wrong' }; }); }, code: 6, message: /provider CA.*(provisioner|decrypt|password)/i },
  ];
  for (const k of cases) {
    await t.test(k.name, async (tt: TestContext) => {
      const lab = await labFor(tt, { devices: 2 });
      k.setup(lab);
      const before = readFileSync(lab.subCaFiles.certFile, 'utf8');
      const r = await run(['--config', lab.configPath, 'run', 'subca-compromise', ...(k.args ?? ['--tenant', 'acme']), '--yes']);
      assert.equal(r.code, k.code, `${k.name}\n${r.stdout}${r.stderr}`);
      const said = r.stdout + r.stderr;
      assert.match(said, k.message, said);
      assert.doesNotMatch(said, /\n\s+at /, 'no stack trace');
      assert.equal(lab.simulators['provider-ca'].revoked.size, 0, 'nothing was revoked');
      await assertUntouched(lab, before);
    });
  }
});

function editConfig(lab: Lab, edit: (cfg: Record<string, unknown>) => void): void {
  const cfg = parse(readFileSync(lab.configPath, 'utf8')) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(lab.configPath, stringify(cfg));
}

function selfSignedCa(lab: Lab): string {
  const dir = dirname(lab.subCaFiles.certFile);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'rogue.key'), '-subj', '/CN=acme Sub-CA', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:true,pathlen:0'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('subca-compromise: SIGKILL after each eradication step, then resume: one revocation, one new key, one signature, key and certificate matching', async (t) => {
  for (const stepId of ['revoke-subca', 'new-key', 'sign-subca', 'install-subca', 'restart-tenant-ca']) {
    await t.test(`killed after ${stepId}`, async (tt) => {
      const lab = await labFor(tt, { devices: 3 });
      const crashed = await crashRun(lab.configPath, stepId, 'subca-compromise', { tenant: 'acme' });
      assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
      const resumed = await run(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      const installed = firstCert(readFileSync(lab.subCaFiles.certFile, 'utf8'));
      assert.equal(keyFileSpki(lab.subCaFiles.keyFile), spki(installed), 'the installed key is the certificate\'s');
      assert.equal(lab.simulators['provider-ca'].revoked.size, 1, 'one revocation');
      assert.equal(lab.simulators['provider-ca'].issued.size, 1, 'one signature');
      assert.equal(readdirSync(dirname(lab.subCaFiles.keyFile)).filter((f) => f.includes('.compromised-')).length, 2, 'the old files kept once');
      assert.deepEqual(await reenrolled(lab, installed), [...lab.devices].sort());
    });
  }
});
