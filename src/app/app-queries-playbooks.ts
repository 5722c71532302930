import type { AnyPlaybook } from '../engine/playbook-types.ts';
import { outlineOf, type PlaybookDescriptor, type PlaybookOutline } from '../playbooks/playbook-descriptor.ts';

/** A playbook as data: what `firebreak playbooks --json` prints and an HTTP API would serve. */
export type PlaybookDescription = PlaybookOutline;

/**
 * Describes a playbook without opening anything, loaded or from its
 * descriptor (the CLI lists playbooks without a configuration and without
 * loading them).
 */
export function describePlaybook(p: AnyPlaybook | PlaybookDescriptor): PlaybookDescription {
  return outlineOf(p);
}
