import { test } from 'node:test';
import { createCsr, createLabPki, issueDeviceCert } from '../../src/lab/step-ca/step-ca-pki.ts';
import { startStepCaSim } from '../../src/lab/step-ca/step-ca-sim.ts';
import { stepCaContract } from './step-ca-contract.ts';

test('step-ca contract on the lab simulator', async (t) => {
  const pki = await createLabPki('acme');
  const sim = await startStepCaSim({ ca: pki.subCa, provisioner: 'firebreak', password: 'lab-pw-123456' });
  t.after(() => sim.stop());
  const list = await (await fetch(`${sim.url}/provisioners`)).json() as { provisioners: { encryptedKey: string; key: { kid: string } }[] };
  const kid = list.provisioners[0]?.key.kid ?? '';
  await stepCaContract({
    url: sim.url, trust: undefined, rootPem: pki.root.pem, subCaPem: pki.subCa.pem, provisioner: 'firebreak', password: 'lab-pw-123456', kid,
    deviceCert: async (n) => (await issueDeviceCert(pki.subCa, n)).toString('pem'), csr: (n) => createCsr(n),
  });
});
