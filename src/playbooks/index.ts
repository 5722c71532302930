import type { AnyPlaybook } from '../engine/playbook-types.ts';
import type { PlatformEnv } from './platform.ts';
import { deviceCompromise, deviceCompromiseDrill } from './device-compromise/device-compromise.ts';
import { dbCredentialLeak, dbCredentialLeakDrill } from './db-credential-leak/db-credential-leak.ts';
import { subcaCompromise, subcaCompromiseDrill } from './subca-compromise/subca-compromise.ts';

/** A playbook as the application runs it: `connect` gets Firebreak's platform (configuration, executors, credentials, connectors) and the run's logger. */
export type PlatformPlaybook = AnyPlaybook<PlatformEnv>;

/** What a drill's lab provides beyond its fixed names (a throwaway role on a configured database…). */
export interface DrillLab {
  readonly postgresRole?: string;
}

/** How `firebreak drill` rehearses a playbook: its inputs against the lab, and what the lab must provide beyond the defaults ("postgres"). */
export interface Drill {
  readonly input: Readonly<Record<string, unknown>> | ((lab: DrillLab) => Readonly<Record<string, unknown>>);
  readonly needs?: readonly string[];
}

/** A playbook and its rehearsal: one line of the list below per playbook. */
export interface PlaybookEntry {
  readonly playbook: PlatformPlaybook;
  readonly drill?: Drill;
}

/**
 * Every playbook Firebreak ships, in one explicit list (no registration by
 * import side effect). Order is the order `firebreak playbooks` shows.
 * Adding a playbook: its folder, and one line here.
 */
const ENTRIES: readonly PlaybookEntry[] = [
  { playbook: deviceCompromise, drill: deviceCompromiseDrill },
  { playbook: subcaCompromise, drill: subcaCompromiseDrill },
  { playbook: dbCredentialLeak, drill: dbCredentialLeakDrill },
];

/** A shipped playbook with its drill beside it (`p.drill`, read by `firebreak drill`); the engine knows nothing of drills. */
export type ShippedPlaybook = PlatformPlaybook & { readonly drill?: Drill };

export const PLAYBOOKS: readonly ShippedPlaybook[] = ENTRIES.map((e) => (e.drill === undefined ? e.playbook : { ...e.playbook, drill: e.drill }));

export function findPlaybook(id: string): ShippedPlaybook | undefined {
  return PLAYBOOKS.find((p) => p.id === id);
}
