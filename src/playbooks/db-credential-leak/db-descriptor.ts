import type { PlaybookDescriptor } from '../playbook-descriptor.ts';

/**
 * db-credential-leak as it is listed, without its code (db-credential-leak.ts,
 * held to this outline when it is loaded). The password-* steps are the
 * engine's staged rotation (src/engine/staged-rotation.ts) as this playbook
 * configures it.
 */
export const dbCredentialLeakDescriptor: PlaybookDescriptor = {
  id: 'db-credential-leak',
  title: 'Leaked database credential',
  summary: 'Rotate a TimescaleDB role\'s password in stages (SCRAM verifier computed client side), update the .env, restart the consumer, end every session of the old password.',
  version: 1,
  rto: { assessment: 2 * 60_000, containment: 5 * 60_000, recovery: 15 * 60_000 },
  steps: [
    { id: 'resolve-role', title: 'Resolve the role, its .env file and its service', phase: 'assessment', system: 'timescaledb', effect: 'read', idempotency: 'natural' },
    { id: 'capture-sessions', title: 'Capture the role\'s open sessions as evidence', phase: 'assessment', system: 'evidence', effect: 'read', idempotency: 'natural', dependsOn: ['resolve-role'] },
    { id: 'password-create', title: 'Generate a new database password (PENDING)', phase: 'containment', system: 'firebreak', effect: 'mutate', idempotency: 'natural', dependsOn: ['capture-sessions'] },
    { id: 'password-set', title: 'Set the new database password at the source', phase: 'containment', system: 'timescaledb', effect: 'irreversible', idempotency: 'natural', dependsOn: ['password-create'] },
    { id: 'password-test', title: 'Test: the new database password works, the old one is refused', phase: 'containment', system: 'timescaledb', effect: 'read', idempotency: 'natural', dependsOn: ['password-set'] },
    { id: 'password-propagate', title: 'Propagate the new database password to its consumers', phase: 'recovery', system: 'timescaledb', effect: 'mutate', idempotency: 'natural', dependsOn: ['password-test'] },
    { id: 'password-restart', title: 'Restart the consumers of the database password', phase: 'recovery', system: 'timescaledb', effect: 'mutate', idempotency: 'natural', dependsOn: ['password-propagate'] },
    { id: 'password-verify', title: 'Verify: consumers use the new database password, nothing uses the old one', phase: 'recovery', system: 'timescaledb', effect: 'mutate', idempotency: 'natural', dependsOn: ['password-restart'] },
    { id: 'password-finish', title: 'Promote the new database password to CURRENT (the old one to PREVIOUS)', phase: 'recovery', system: 'firebreak', effect: 'mutate', idempotency: 'natural', dependsOn: ['password-verify'] },
  ],
  // On the lab's PostgreSQL (a throwaway role when it is an external one).
  drill: { input: (lab) => ({ stack: 'provider', role: lab.postgresRole ?? 'telegraf' }), needs: ['postgres'] },
  input: async () => (await import('./db-inputs.ts')).dbCredentialLeakInput,
  load: async () => (await import('./db-credential-leak.ts')).dbCredentialLeak,
};
