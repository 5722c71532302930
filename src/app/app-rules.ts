import { FirebreakError } from '../lib/errors.ts';
import type { AnyPlaybook, Phase } from '../engine/playbook-types.ts';
import { STATUS_AFTER_PHASE, type IncidentStatus } from '../incidents/incident-store.ts';

/**
 * The incident status a run has earned: contained, eradicated, recovered in
 * that order, each needing its phase complete (a phase the playbook does not
 * have does not hold the next one back). Recovery finishing before
 * containment does not make an incident "recovered".
 */
export function statusReached(p: AnyPlaybook, completed: readonly Phase[]): IncidentStatus | undefined {
  const present = new Set(p.steps.map((s) => s.phase));
  let reached: IncidentStatus | undefined;
  for (const [phase, status] of Object.entries(STATUS_AFTER_PHASE) as [Phase, IncidentStatus][]) {
    if (!present.has(phase)) continue;
    if (!completed.includes(phase)) break;
    reached = status;
  }
  return reached;
}

/** Automatic containment is for steps a rejection can undo: they must exist, change something reversibly and have a compensation. */
export function assertAutomaticSteps(playbooks: readonly AnyPlaybook[], automatic: Readonly<Record<string, readonly string[]>>): void {
  const problems: string[] = [];
  for (const [pb, ids] of Object.entries(automatic)) {
    const p = playbooks.find((x) => x.id === pb);
    if (p === undefined) { problems.push(`approvals.automatic.${pb}: no playbook "${pb}" (known: ${playbooks.map((x) => x.id).join(', ')})`); continue; }
    for (const id of ids) {
      const s = p.steps.find((x) => x.id === id);
      if (s === undefined) problems.push(`approvals.automatic.${pb}: no step "${id}" in ${pb} (steps: ${p.steps.map((x) => x.id).join(', ')})`);
      else if (s.effect === 'read') problems.push(`approvals.automatic.${pb}: ${id} only reads: it needs no approval`);
      else if (s.effect === 'irreversible') problems.push(`approvals.automatic.${pb}: ${id} is irreversible: a rejection could not undo it, so it always waits for the approval`);
      else if (s.compensate === undefined || s.manual !== undefined) problems.push(`approvals.automatic.${pb}: ${id} has no compensation: a rejection could not undo it`);
    }
  }
  if (problems.length > 0) throw new FirebreakError('CONFIG_INVALID', `automatic containment is misconfigured:\n  ${problems.join('\n  ')}`, { details: { problems } });
}

export function describeEntities(p: AnyPlaybook, input: unknown): string {
  const entities = p.entities?.(input) ?? [];
  return entities.length === 0 ? '' : `: ${entities.map((e) => `${e.type} ${e.id}`).join(', ')}`;
}
