import type { PlatformPlaybook } from './playbook-descriptor.ts';
import { loadPlaybooks } from './playbook-list.ts';

export type { Drill, DrillLab, PlatformPlaybook, PlaybookDescriptor, PlaybookOutline, StepOutline } from './playbook-descriptor.ts';
export { loadPlaybook, outlineOf } from './playbook-descriptor.ts';
export { PLAYBOOK_DESCRIPTORS, findDescriptor, loadPlaybooks } from './playbook-list.ts';

/**
 * Every shipped playbook, loaded: importing this module loads them all, with
 * their connectors. What only lists or describes them (the CLI's light
 * commands) imports playbook-list.ts, and the application loads them when it
 * runs them (src/app/app-open.ts).
 */
export const PLAYBOOKS: readonly PlatformPlaybook[] = await loadPlaybooks();

export function findPlaybook(id: string): PlatformPlaybook | undefined {
  return PLAYBOOKS.find((p) => p.id === id);
}
