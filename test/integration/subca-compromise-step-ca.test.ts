import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { requireComponent } from '../helpers/shared.ts';
import { freePort, LAUNCHER, makePki, makeProvisioner, stepCaProblem } from '../helpers/step-ca.ts';
import { labFor, run } from '../e2e/cli-helpers.ts';
import * as x509 from '../../src/lib/x509.ts';
import { createStepCaClient } from '../../src/connectors/step-ca/step-ca-client.ts';
import { Secret } from '../../src/lib/secret.ts';

/** A ca.json for the launcher. */
function caJson(dir: string, o: { root: string; crt: string; key: string; port: number; provisioners: unknown[] }): void {
  writeFileSync(join(dir, 'password.txt'), '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'ca.json'), JSON.stringify({
    root: o.root, crt: o.crt, key: o.key, address: `127.0.0.1:${o.port}`, dnsNames: ['127.0.0.1', 'localhost'], logger: { format: 'text' },
    db: { type: 'badgerv2', dataSource: join(dir, 'db') }, authority: { provisioners: o.provisioners }, tls: { minVersion: 1.2, maxVersion: 1.3, renegotiation: false },
  }, null, 2));
}

/** (Re)starts a step-ca from `dir` the way a service manager would: stop the running one, start a new one detached. */
function restartScript(dir: string): string {
  const script = join(dir, 'restart.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `dir='${dir}'`,
    'if [ -s "$dir/ca.pid" ]; then pid=$(cat "$dir/ca.pid"); kill "$pid" 2>/dev/null; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; fi',
    `STEPPATH="$dir" setsid '${LAUNCHER}' "$dir/ca.json" "$dir/password.txt" >>"$dir/ca.log" 2>&1 </dev/null &`,
    'echo $! > "$dir/ca.pid"',
  ].join('\n'), { mode: 0o755 });
  return script;
}

async function waitServing(dir: string, times: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let log = '';
    try { log = readFileSync(join(dir, 'ca.log'), 'utf8'); } catch { /* not yet */ }
    if ((log.match(/Serving HTTPS on/g) ?? []).length >= times) return;
    if (Date.now() > deadline) throw new Error(`step-ca in ${dir} did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const INTERMEDIATE_TEMPLATE = JSON.stringify({ subject: '{{ toJson .Subject }}', keyUsage: ['certSign', 'crlSign'], basicConstraints: { isCA: true, maxPathLen: 0 } }).replace('"{{ toJson .Subject }}"', '{{ toJson .Subject }}');

test('subca-compromise on real step-ca: the provider CA revokes the Sub-CA and signs the new one (intermediate template); the restarted tenant CA issues under it; devices re-enroll there', async (t) => {
  if (!requireComponent(t, 'step-ca', stepCaProblem())) return;
  const pkiDir = mkdtempSync(join(tmpdir(), 'fb-subca-pki-'));
  t.after(() => { rmSync(pkiDir, { recursive: true, force: true }); });
  const pki = makePki(pkiDir);
  // The lab's ThingsBoard; its devices enroll at the real tenant CA, trusting the real chain.
  const lab = await labFor(t, { devices: 4, deviceCaTrust: pki.trustBundle });
  // The provider CA: its own intermediate from the chain, a JWK provisioner that issues Sub-CA certificates.
  const providerDir = join(lab.dir, 'provider-ca');
  mkdirSync(providerDir);
  const providerProv = await makeProvisioner('sub-ca-signer', 'provider-pw-31a');
  caJson(providerDir, { root: join(pki.dir, 'root_ca.crt'), crt: join(pki.dir, 'provider_ca.crt'), key: join(pki.dir, 'provider_ca.key'), port: await freePort(),
    provisioners: [{ type: 'JWK', name: providerProv.name, key: providerProv.key, encryptedKey: providerProv.encryptedKey, options: { x509: { template: INTERMEDIATE_TEMPLATE } } }] });
  // The tenant CA: the Sub-CA's certificate and key in its own files, restarted by a script.
  const tenantDir = join(lab.dir, 'tenant-ca-real');
  mkdirSync(tenantDir);
  const files = { certFile: join(tenantDir, 'intermediate_ca.crt'), keyFile: join(tenantDir, 'intermediate_ca_key') };
  copyFileSync(join(pki.dir, 'sub_ca.crt'), files.certFile);
  copyFileSync(join(pki.dir, 'sub_ca.key'), files.keyFile);
  const tenantProv = await makeProvisioner('firebreak', 'tenant-pw-9c1');
  const tenantPort = await freePort();
  caJson(tenantDir, { root: join(pki.dir, 'root_ca.crt'), crt: files.certFile, key: files.keyFile, port: tenantPort, provisioners: [{ type: 'JWK', name: tenantProv.name, key: tenantProv.key, encryptedKey: tenantProv.encryptedKey }] });
  const providerScript = restartScript(providerDir);
  const tenantScript = restartScript(tenantDir);
  // By command line, not by ca.pid: the lab's own teardown may already have removed the directories (hooks run in order).
  t.after(() => { for (const d of [providerDir, tenantDir]) spawnSync('pkill', ['-f', `${d}/ca.json`]); });
  spawnSync('/bin/sh', [providerScript]);
  spawnSync('/bin/sh', [tenantScript]);
  await Promise.all([waitServing(providerDir, 1), waitServing(tenantDir, 1)]);
  const providerUrl = `https://127.0.0.1:${(JSON.parse(readFileSync(join(providerDir, 'ca.json'), 'utf8')) as { address: string }).address.split(':')[1] ?? ''}`;
  const tenantUrl = `https://127.0.0.1:${tenantPort}`;

  const trust = join(lab.dir, 'real-trust.pem');
  writeFileSync(trust, pki.trustBundle);
  const cfg = parse(readFileSync(lab.configPath, 'utf8')) as Record<string, Record<string, unknown>> & { tenants: Record<string, Record<string, unknown>> };
  cfg['provider'] = { stepCa: { url: providerUrl, caFile: trust, rootCertFile: join(pki.dir, 'root_ca.crt'), caCertFile: join(pki.dir, 'provider_ca.crt'), provisioner: providerProv.name, provisionerPassword: { value: 'provider-pw-31a' } } };
  const acme = cfg.tenants['acme'] as Record<string, unknown>;
  acme['stepCa'] = { url: tenantUrl, caFile: trust, rootCertFile: join(pki.dir, 'root_ca.crt'), provisioner: tenantProv.name, provisionerPassword: { value: 'tenant-pw-9c1' } };
  acme['subCa'] = { executor: 'local', ...files, restart: { kind: 'command', argv: ['/bin/sh', tenantScript] }, reenroll: { concurrency: 4, timeout: '20s', pollInterval: '200ms' } };
  writeFileSync(lab.configPath, stringify(cfg));

  const old = new x509.X509Certificate(readFileSync(files.certFile, 'utf8'));
  const r = await run(['--config', lab.configPath, 'run', 'subca-compromise', '--tenant', 'acme', '--yes', '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'completed');

  // The provider CA (real) has the old Sub-CA revoked.
  const provider = createStepCaClient({ url: providerUrl, provisioner: providerProv.name, provisionerPassword: new Secret('provider-pw-31a'), tls: { ca: pki.trustBundle } });
  t.after(() => provider.close());
  assert.deepEqual(await provider.revoke(BigInt(`0x${old.serialNumber}`).toString(), 'cACompromise'), { alreadyRevoked: true });
  // The new Sub-CA: a CA certificate signed by the real provider CA, its key on the host, and the restarted tenant CA issues under it.
  const installed = new x509.X509Certificate(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(readFileSync(files.certFile, 'utf8'))?.[0] ?? '');
  const providerCert = new x509.X509Certificate(pki.providerPem);
  assert.notEqual(installed.serialNumber, old.serialNumber);
  assert.equal(installed.subject, old.subject);
  assert.equal(installed.getExtension(x509.BasicConstraintsExtension)?.ca, true);
  assert.ok(await installed.verify({ publicKey: providerCert.publicKey, signatureOnly: true }), 'signed by the provider CA');
  await waitServing(tenantDir, 2);
  // Every device re-enrolled at the real tenant CA under the new Sub-CA.
  const tb = lab.simulators.thingsboard;
  await tb.settled();
  const holders: string[] = [];
  for (const [id, d] of tb.devices) {
    const pem = tb.attributes.get(id)?.CLIENT_SCOPE.get('certificate')?.value;
    if (typeof pem === 'string' && await new x509.X509Certificate(pem).verify({ publicKey: installed.publicKey, signatureOnly: true })) holders.push(d.name);
  }
  assert.deepEqual(holders.sort(), [...lab.devices].sort());
});
