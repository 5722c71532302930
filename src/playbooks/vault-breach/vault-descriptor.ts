import type { AbsentPhase, PlaybookDescriptor } from '../playbook-descriptor.ts';

/**
 * The phases of the seed's procedure (002, "Vault compromise") that this
 * playbook does not do yet. Shown by `firebreak playbooks vault-breach`, the
 * plan and the report, so that nobody reads their absence as done.
 */
export const VAULT_BREACH_ABSENT: readonly AbsentPhase[] = [
  { name: 'assessment', why: 'breach scope from the Vault audit log (suspicious events, secrets read, affected tenants): issue 11 (`firebreak assess vault-audit`), not built yet' },
  { name: 'rekey', why: 'new unseal shares (5 / threshold 3, each encrypted to its holder\'s OpenPGP key, verified) and `sys/rotate`: needs `firebreak vault share` and a durable quorum wait, not built yet' },
  { name: 'rotation', why: 'every affected tenant\'s SSH keys, SMTP credentials, DKIM keys and API keys, with notifications: issue 12, not built yet' },
  { name: 'new AppRole secret-ids', why: 'disabling AppRole destroyed every secret_id; issuing new ones to each service (staged rotation with a verified login) is part of issue 12, not built yet: services cannot log in with AppRole until then' },
  { name: 'root token revocation', why: 'revoking root tokens generated during the response belongs with the rekey ceremony, not built yet' },
];

/**
 * vault-breach as it is listed, without its code (vault-breach.ts, held to
 * this outline when it is loaded).
 */
export const vaultBreachDescriptor: PlaybookDescriptor = {
  id: 'vault-breach',
  title: 'Vault breach',
  summary: 'Contain a breached Vault in an order it allows (record the auth methods, revoke their tokens, disable them, seal last), then restore the auth methods and roles once the key holders have unsealed it. Assessment, rekey and rotation are not built yet.',
  version: 1,
  rto: { containment: 5 * 60_000, recovery: 60 * 60_000 },
  steps: [
    { id: 'record-auth', title: 'Record every auth method\'s configuration and roles (for recovery)', phase: 'containment', system: 'vault', effect: 'read', idempotency: 'natural' },
    { id: 'revoke-tokens', title: 'Revoke every token issued through an auth method (revoke-prefix auth/<mount>/)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['record-auth'] },
    { id: 'disable-auth', title: 'Disable the configured auth methods', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['revoke-tokens'] },
    { id: 'seal-vault', title: 'Seal Vault (last: a sealed Vault refuses revocation and auth changes)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['disable-auth'] },
    { id: 'unseal-vault', title: 'Key holders unseal Vault with the quorum', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['seal-vault'] },
    { id: 'restore-auth', title: 'Re-enable the disabled auth methods with their recorded configuration', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['unseal-vault'] },
    { id: 'restore-roles', title: 'Re-create the roles from their recorded definitions (AppRole role_ids kept)', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['restore-auth'] },
    { id: 'health-check', title: 'Health check: Vault active and unsealed, the auth methods back', phase: 'recovery', system: 'vault', effect: 'read', idempotency: 'natural', dependsOn: ['restore-roles'] },
  ],
  absent: VAULT_BREACH_ABSENT,
  // The drill plays the key holders: it unseals the lab Vault with the lab's shares, then confirms the manual step.
  drill: {
    input: {},
    manual: { 'unseal-vault': async (lab, signal) => (await import('./vault-drill.ts')).unsealWithLabQuorum(lab, signal) },
  },
  input: async () => (await import('./vault-inputs.ts')).vaultBreachInput,
  load: async () => (await import('./vault-breach.ts')).vaultBreach,
};
