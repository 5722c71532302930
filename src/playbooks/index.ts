import type { AnyPlaybook } from '../engine/playbook-types.ts';
import { deviceCompromise } from './device-compromise/device-compromise.ts';
import { dbCredentialLeak } from './db-credential-leak/db-credential-leak.ts';
import { subcaCompromise } from './subca-compromise/subca-compromise.ts';

/**
 * Every playbook Firebreak ships, in one explicit list (no registration by
 * import side effect). Order is the order `firebreak playbooks` shows.
 */
export const PLAYBOOKS: readonly AnyPlaybook[] = [deviceCompromise, subcaCompromise, dbCredentialLeak];

export function findPlaybook(id: string): AnyPlaybook | undefined {
  return PLAYBOOKS.find((p) => p.id === id);
}
