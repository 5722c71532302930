import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { requireComponent } from '../helpers/shared.ts';
import { startRealStepCa, stepCaProblem } from '../helpers/step-ca.ts';
import { labFor } from '../e2e/cli-helpers.ts';
import { openApp } from '../../src/app/app-open.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createStepCaClient } from '../../src/connectors/step-ca/step-ca-client.ts';
import { assertIssuedBy, certificateFacts } from '../../src/connectors/step-ca/step-ca-serial.ts';
import { Secret } from '../../src/lib/secret.ts';

test('device-compromise revokes at a real step-ca Sub-CA (from --cert) and issues the replacement through /sign', async (t) => {
  if (!requireComponent(t, 'step-ca', stepCaProblem())) return;
  const ca = await startRealStepCa();
  t.after(() => ca.stop());
  const lab = await labFor(t);
  const certFile = join(lab.dir, 'real-device-001.crt');
  writeFileSync(certFile, ca.pki.deviceCert('device-001'));
  // The inventory records the real CA's certificate of the device: a --cert must agree with it.
  const peersPath = join(lab.dir, 'cdm_peers.json');
  const peers = JSON.parse(readFileSync(peersPath, 'utf8')) as { peers: Record<string, Record<string, unknown>> };
  const inventoried = peers.peers['device-001'];
  assert.ok(inventoried !== undefined);
  inventoried['certSerial'] = (await certificateFacts(readFileSync(certFile, 'utf8'))).facts.serialHex;
  writeFileSync(peersPath, JSON.stringify(peers, null, 2));
  writeFileSync(join(lab.dir, 'trust.pem'), ca.pki.trustBundle);
  writeFileSync(join(lab.dir, 'real-root.crt'), ca.pki.rootPem);
  writeFileSync(join(lab.dir, 'real-sub.crt'), ca.pki.subCaPem);
  const csrFile = join(lab.dir, 'device-001b.csr');
  writeFileSync(csrFile, ca.pki.csr('device-001b'));
  const config = parse(readFileSync(lab.configPath, 'utf8')) as { tenants: { acme: { stepCa: Record<string, unknown> } } };
  config.tenants.acme.stepCa = { url: ca.url, caFile: join(lab.dir, 'trust.pem'), rootCertFile: join(lab.dir, 'real-root.crt'), caCertFile: join(lab.dir, 'real-sub.crt'), provisioner: ca.provisioner, provisionerPassword: { value: ca.password } };
  writeFileSync(lab.configPath, stringify(config));

  const app = await openApp({ loaded: loadConfig(lab.configPath) });
  const certOut = join(lab.dir, 'device-001b.crt');
  try {
    const started = await app.start({ playbook: 'device-compromise', input: { tenant: 'acme', device: 'device-001', cert: certFile, replacement: 'device-001b', csr: csrFile, certOut }, initiator: 'alice', yes: true });
    const outcome = await started.outcome;
    assert.equal(outcome.status, 'completed', JSON.stringify(outcome.error));
  } finally {
    await app.close();
  }
  const serial = (await certificateFacts(readFileSync(certFile, 'utf8'))).facts.serial;
  const probe = createStepCaClient({ url: ca.url, provisioner: ca.provisioner, provisionerPassword: new Secret(ca.password), tls: { ca: ca.pki.trustBundle } });
  assert.deepEqual(await probe.revoke(serial, 'keyCompromise'), { alreadyRevoked: true }, 'the real CA has the device certificate revoked');
  await probe.close();
  const replacement = await certificateFacts(readFileSync(certOut, 'utf8'));
  assert.match(replacement.facts.subject, /CN=device-001b/);
  await assertIssuedBy(replacement.cert, (await certificateFacts(ca.pki.subCaPem)).cert, 'the real Sub-CA');
});
