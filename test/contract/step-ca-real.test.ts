import { test } from 'node:test';
import { requireComponent } from '../helpers/shared.ts';
import { startRealStepCa, stepCaProblem } from '../helpers/step-ca.ts';
import { stepCaContract } from './step-ca-contract.ts';

test('step-ca contract on the real CA (built from Debian\'s sources) as a tenant Sub-CA under an openssl-made chain', async (t) => {
  if (!requireComponent(t, 'step-ca', stepCaProblem())) return;
  const ca = await startRealStepCa();
  t.after(() => ca.stop());
  await stepCaContract({
    url: ca.url, trust: ca.pki.trustBundle, rootPem: ca.pki.rootPem, subCaPem: ca.pki.subCaPem, provisioner: ca.provisioner, password: ca.password, kid: ca.kid,
    deviceCert: async (n) => ca.pki.deviceCert(n), csr: async (n) => ca.pki.csr(n),
  });
});
