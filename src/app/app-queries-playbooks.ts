import { needsApproval } from '../engine/playbook-plan.ts';
import type { AnyPlaybook, Phase } from '../engine/playbook-types.ts';

/** A playbook as data: what `firebreak playbooks --json` prints and an HTTP API would serve. */
export interface PlaybookDescription {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly version: number;
  readonly rto: Partial<Record<Phase, number>>;
  readonly steps: readonly {
    readonly id: string;
    readonly title: string;
    readonly phase: Phase;
    readonly system: string;
    readonly effect: string;
    readonly idempotency: string;
    readonly dependsOn: readonly string[];
    readonly approval: boolean;
    readonly fanOut: boolean;
  }[];
}

/** Describes a playbook without opening anything (the CLI lists playbooks without a configuration). */
export function describePlaybook(p: AnyPlaybook): PlaybookDescription {
  return {
    id: p.id, title: p.title, summary: p.summary, version: p.version, rto: p.rto,
    steps: p.steps.map((s) => ({ id: s.id, title: s.title, phase: s.phase, system: s.system, effect: s.effect, idempotency: s.idempotency, dependsOn: s.dependsOn ?? [], approval: needsApproval(s), fanOut: s.forEach !== undefined })),
  };
}
