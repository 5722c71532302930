import type { AbsentPhase, PlaybookDescriptor } from '../playbook-descriptor.ts';

/**
 * The phases of the seed's procedure (002, "Vault compromise") that this
 * playbook does not do yet. Shown by `firebreak playbooks vault-breach`, the
 * plan and the report, so that nobody reads their absence as done.
 */
export const VAULT_BREACH_ABSENT: readonly AbsentPhase[] = [
  { name: 'rotation', why: 'every affected tenant\'s SSH keys, SMTP credentials, DKIM keys and API keys, with notifications: issue 12, not built yet' },
];

/**
 * vault-breach as it is listed, without its code (vault-breach.ts, held to
 * this outline when it is loaded).
 */
export const vaultBreachDescriptor: PlaybookDescriptor = {
  id: 'vault-breach',
  title: 'Vault breach',
  summary: 'Contain a breached Vault in an order it allows (record the auth methods, revoke their tokens, disable them, seal last); the key holders unseal and rekey to new shares encrypted to each holder\'s OpenPGP key, verified, then the encryption key is rotated; restore the auth methods and roles, give every AppRole service a new secret_id (staged: .env, Vault path, restart, its login verified), revoke root tokens made during the response. Between containment and the rekey, the breach is assessed from the audit log (suspicious events, secrets read, affected tenants). Tenant rotation is not built yet.',
  version: 1,
  rto: { containment: 5 * 60_000, assessment: 15 * 60_000, eradication: 30 * 60_000, recovery: 60 * 60_000 },
  steps: [
    { id: 'record-auth', title: 'Record every auth method\'s configuration and roles (for recovery)', phase: 'containment', system: 'vault', effect: 'read', idempotency: 'natural' },
    { id: 'revoke-tokens', title: 'Revoke every token issued through an auth method (revoke-prefix auth/<mount>/)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['record-auth'] },
    { id: 'disable-auth', title: 'Disable the configured auth methods', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['revoke-tokens'] },
    { id: 'seal-vault', title: 'Seal Vault (last: a sealed Vault refuses revocation and auth changes)', phase: 'containment', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['disable-auth'] },
    { id: 'assess-audit-log', title: 'Assess the breach from Vault\'s audit log: suspicious events, secrets read, affected tenants', phase: 'assessment', system: 'vault-audit', effect: 'read', idempotency: 'natural', dependsOn: ['seal-vault'] },
    { id: 'unseal-vault', title: 'Key holders unseal Vault with the current quorum', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['seal-vault'] },
    { id: 'rekey-init', title: 'Start the rekey: new shares, each encrypted to its holder\'s OpenPGP key, verification required', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['unseal-vault'] },
    { id: 'rekey-update', title: 'Current key holders authorise the rekey with their shares', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['rekey-init'] },
    { id: 'rekey-verify', title: 'New key holders prove their shares; the rekey takes effect', phase: 'eradication', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['rekey-update'] },
    { id: 'drop-rekey-backup', title: 'Delete Vault\'s backup of the encrypted new shares', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['rekey-verify'] },
    { id: 'rotate-key', title: 'Rotate Vault\'s encryption key (sys/rotate)', phase: 'eradication', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['rekey-verify'] },
    { id: 'restore-auth', title: 'Re-enable the disabled auth methods with their recorded configuration', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['rotate-key'] },
    { id: 'restore-roles', title: 'Re-create the roles from their recorded definitions (AppRole role_ids kept)', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['restore-auth'] },
    // Recovery's new AppRole secret_ids: the engine's staged rotation (staged-rotation.ts), one per service of provider.vault.services.
    { id: 'secret-id-create', title: 'Generate a new AppRole secret_id (PENDING)', phase: 'recovery', system: 'firebreak', effect: 'mutate', idempotency: 'natural', dependsOn: ['restore-roles'], fanOut: true },
    { id: 'secret-id-set', title: 'Set the new AppRole secret_id at the source', phase: 'recovery', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['secret-id-create'], approval: true, fanOut: true },
    { id: 'secret-id-test', title: 'Test: the new AppRole secret_id works, the old one is refused', phase: 'recovery', system: 'vault', effect: 'read', idempotency: 'natural', dependsOn: ['secret-id-set'], fanOut: true },
    { id: 'secret-id-propagate', title: 'Propagate the new AppRole secret_id to its consumers', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['secret-id-test'], fanOut: true },
    { id: 'secret-id-restart', title: 'Restart the consumers of the AppRole secret_id', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['secret-id-propagate'], fanOut: true },
    { id: 'secret-id-verify', title: 'Verify: consumers use the new AppRole secret_id, nothing uses the old one', phase: 'recovery', system: 'vault', effect: 'mutate', idempotency: 'natural', dependsOn: ['secret-id-restart'], fanOut: true },
    { id: 'secret-id-finish', title: 'Promote the new AppRole secret_id to CURRENT (the old one to PREVIOUS)', phase: 'recovery', system: 'firebreak', effect: 'mutate', idempotency: 'natural', dependsOn: ['secret-id-verify'], fanOut: true },
    { id: 'revoke-root-tokens', title: 'Revoke every root token generated during the response', phase: 'recovery', system: 'vault', effect: 'irreversible', idempotency: 'natural', dependsOn: ['restore-roles'] },
    { id: 'health-check', title: 'Health check: Vault active and unsealed, the auth methods back', phase: 'recovery', system: 'vault', effect: 'read', idempotency: 'natural', dependsOn: ['revoke-root-tokens', 'secret-id-finish'] },
  ],
  absent: VAULT_BREACH_ABSENT,
  // The drill plays the key holders: it unseals the lab Vault with the lab's shares, then confirms the manual step.
  drill: {
    input: {},
    manual: {
      'unseal-vault': async (lab, signal) => (await import('./vault-drill.ts')).unsealWithLabQuorum(lab, signal),
      'rekey-update': async (lab, signal) => (await import('./vault-drill.ts')).authoriseRekeyWithLabQuorum(lab, signal),
      'rekey-verify': async (lab, signal) => (await import('./vault-drill.ts')).verifyRekeyAsNewHolders(lab, signal),
    },
  },
  input: async () => (await import('./vault-inputs.ts')).vaultBreachInput,
  load: async () => (await import('./vault-breach.ts')).vaultBreach,
};
