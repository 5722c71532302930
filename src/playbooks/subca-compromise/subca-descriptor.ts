import type { PlaybookDescriptor } from '../playbook-descriptor.ts';

/**
 * subca-compromise as it is listed, without its code (subca-compromise.ts,
 * held to this outline when it is loaded).
 */
export const subcaCompromiseDescriptor: PlaybookDescriptor = {
  id: 'subca-compromise',
  title: 'Tenant Sub-CA compromise',
  summary: 'Revoke the tenant Sub-CA at the provider CA (by hand when it is offline), generate a new key on the tenant CA host and have it signed, install it, restart the tenant CA, and re-enroll every device of the tenant.',
  version: 1,
  rto: { assessment: 5 * 60_000, containment: 15 * 60_000, eradication: 60 * 60_000, recovery: 4 * 3_600_000 },
  steps: [
    { id: 'resolve-subca', title: 'Read the tenant Sub-CA certificate on its host', phase: 'assessment', system: 'step-ca', effect: 'read', idempotency: 'natural' },
    { id: 'inventory', title: 'List the tenant\'s devices (evidence of what must re-enroll)', phase: 'assessment', system: 'thingsboard', effect: 'read', idempotency: 'natural' },
    { id: 'revoke-subca', title: 'Revoke the Sub-CA certificate at the provider CA (cACompromise)', phase: 'containment', system: 'step-ca', effect: 'irreversible', idempotency: 'natural', dependsOn: ['resolve-subca'], approval: true },
    { id: 'new-key', title: 'Generate the new Sub-CA key on the tenant CA host, and its CSR', phase: 'eradication', system: 'tenant-ca-host', effect: 'mutate', idempotency: 'natural', dependsOn: ['revoke-subca'] },
    { id: 'sign-subca', title: 'Have the provider CA sign the new Sub-CA certificate', phase: 'eradication', system: 'step-ca', effect: 'mutate', idempotency: 'keyed', dependsOn: ['new-key'], approval: true },
    { id: 'install-subca', title: 'Install the new Sub-CA certificate and key (the old ones kept as evidence)', phase: 'eradication', system: 'tenant-ca-host', effect: 'mutate', idempotency: 'natural', dependsOn: ['sign-subca'] },
    { id: 'restart-tenant-ca', title: 'Restart the tenant CA; check it now issues under the new Sub-CA', phase: 'eradication', system: 'step-ca', effect: 'mutate', idempotency: 'natural', dependsOn: ['install-subca'] },
    { id: 'reenroll-devices', title: 'Re-enroll every device of the tenant under the new Sub-CA', phase: 'recovery', system: 'thingsboard', effect: 'mutate', idempotency: 'natural', dependsOn: ['restart-tenant-ca', 'inventory'], fanOut: true },
  ],
  drill: { input: { tenant: 'acme' } },
  input: async () => (await import('./subca-inputs.ts')).subcaCompromiseInput,
  load: async () => (await import('./subca-compromise.ts')).subcaCompromise,
};
