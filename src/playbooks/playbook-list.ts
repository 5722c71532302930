import { loadPlaybook, type PlatformPlaybook, type PlaybookDescriptor } from './playbook-descriptor.ts';
import { deviceCompromiseDescriptor } from './device-compromise/device-descriptor.ts';
import { subcaCompromiseDescriptor } from './subca-compromise/subca-descriptor.ts';
import { dbCredentialLeakDescriptor } from './db-credential-leak/db-descriptor.ts';
import { vaultBreachDescriptor } from './vault-breach/vault-descriptor.ts';

/**
 * Every playbook Firebreak ships, in one explicit list (no registration by
 * import side effect), as descriptors: listing them loads none of their code
 * (`firebreak playbooks`, --help). Order is the order `firebreak playbooks`
 * shows. Adding a playbook: its folder (its descriptor beside its
 * definition), and one line here.
 */
export const PLAYBOOK_DESCRIPTORS: readonly PlaybookDescriptor[] = [
  deviceCompromiseDescriptor,
  subcaCompromiseDescriptor,
  dbCredentialLeakDescriptor,
  vaultBreachDescriptor,
];

export function findDescriptor(id: string): PlaybookDescriptor | undefined {
  return PLAYBOOK_DESCRIPTORS.find((p) => p.id === id);
}

/** Every shipped playbook, loaded (steps' code, connectors' builders) and held to its descriptor. */
export async function loadPlaybooks(): Promise<PlatformPlaybook[]> {
  return Promise.all(PLAYBOOK_DESCRIPTORS.map(loadPlaybook));
}
