import type { z } from 'zod';
import { FirebreakError } from '../lib/errors.ts';
import { needsApproval } from '../engine/playbook-plan.ts';
import type { AnyPlaybook, Phase, StepDefinition } from '../engine/playbook-types.ts';
import type { PlatformEnv } from './platform.ts';

/** A playbook as the application runs it: `connect` gets Firebreak's platform (configuration, executors, credentials, connectors) and the run's logger. */
export type PlatformPlaybook = AnyPlaybook<PlatformEnv>;

/** What a drill's lab provides beyond its fixed names (a throwaway role on a configured database…). */
export interface DrillLab {
  readonly postgresRole?: string;
  /** The lab Vault and its unseal shares (base64): lab only, so that a drill can play the key holders' quorum. */
  readonly vault?: {
    readonly url: string;
    /** The PEM of the lab Vault's CA: the only CA its clients trust (it serves HTTPS). */
    readonly ca: string;
    /** The current shares: replaced by the new ones once a drill's rekey took effect. */
    readonly unsealKeys: string[];
    readonly threshold: number;
    /** The lab's root token (reads the rekey's encrypted shares back, as a holder's own copy would). */
    readonly token: string;
    /** The new shares' holders, with their private keys (armored), so that the drill can decrypt and verify. */
    readonly holders: readonly { readonly name: string; readonly privateKey: string }[];
  };
}

/** How `firebreak drill` rehearses a playbook: its inputs against the lab, and what the lab must provide beyond the defaults ("postgres"). */
export interface Drill {
  readonly input: Readonly<Record<string, unknown>> | ((lab: DrillLab) => Readonly<Record<string, unknown>>);
  readonly needs?: readonly string[];
  /**
   * Manual steps the drill performs in the people's place, by step id: what
   * they would do, against the lab (the Vault quorum unsealing). The drill
   * then confirms the step as a person would (`firebreak approve --step`),
   * after recording what they saw that the system cannot show afterwards.
   */
  readonly manual?: Readonly<Record<string, (lab: DrillLab, signal: AbortSignal) => Promise<DrillSaw | undefined>>>;
}

/** What the people of a manual step saw happen, recorded as a credential's CURRENT stage (App.labelCredential). */
export interface DrillSaw { readonly credential: string; readonly fingerprint: string; readonly note: string }

/**
 * A phase of the seed's procedure that the playbook does not do yet: listed
 * (by `firebreak playbooks <id>`, the plan and the report) so that nobody
 * takes its absence for a phase that ran. Never a step that pretends.
 */
export interface AbsentPhase {
  readonly name: string;
  /** What it would do, and why it is not there yet (which issue builds it). */
  readonly why: string;
}

/** A step as it is listed before its code is loaded: the header of its definition, and whether it fans out over items (devices, tenants). */
export type StepOutline = Pick<StepDefinition, 'id' | 'title' | 'phase' | 'system' | 'effect' | 'idempotency' | 'dependsOn' | 'approval'> & {
  readonly fanOut?: boolean;
};

/**
 * A playbook without its code: what `firebreak playbooks`, the CLI's help and
 * option checks and `firebreak drill` read, so that they load neither the
 * steps' code nor the connectors. The steps' code and the connectors'
 * builder come with {@link loadPlaybook}, which holds the definition to this
 * outline: an outline that no longer says what the playbook does is an error
 * at its first load, not a wrong listing.
 */
export interface PlaybookDescriptor {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly version: number;
  readonly rto: Partial<Record<Phase, number>>;
  readonly steps: readonly StepOutline[];
  /** Phases of the seed's procedure not built yet (shown, never faked). */
  readonly absent?: readonly AbsentPhase[];
  readonly drill?: Drill;
  /** The input schema, for the names and help of the playbook's options (validation is the loaded playbook's). */
  readonly input: () => Promise<z.ZodType>;
  /** The playbook itself; use {@link loadPlaybook}, which checks it against this outline. */
  readonly load: () => Promise<PlatformPlaybook>;
}

/** A playbook's outline with every default spelled out: what `firebreak playbooks --json` prints and an HTTP API would serve. */
export interface PlaybookOutline {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly version: number;
  readonly rto: Partial<Record<Phase, number>>;
  readonly steps: readonly Required<StepOutline>[];
}

/** The outline of a loaded playbook, or of a descriptor: the same for both when the descriptor is right. */
export function outlineOf(p: AnyPlaybook | PlaybookDescriptor): PlaybookOutline {
  const steps: readonly (StepOutline & { readonly forEach?: unknown })[] = p.steps;
  return {
    id: p.id, title: p.title, summary: p.summary, version: p.version, rto: p.rto,
    steps: steps.map((s) => ({
      id: s.id, title: s.title, phase: s.phase, system: s.system, effect: s.effect, idempotency: s.idempotency,
      dependsOn: s.dependsOn ?? [], approval: needsApproval(s), fanOut: s.fanOut ?? s.forEach !== undefined,
    })),
  };
}

/** Loads a descriptor's playbook; refuses one whose definition says something else than its descriptor (INTERNAL: a bug of the playbook's folder). */
export async function loadPlaybook(d: PlaybookDescriptor): Promise<PlatformPlaybook> {
  const [p, input] = await Promise.all([d.load(), d.input()]);
  const problem = difference(outlineOf(d), outlineOf(p)) ?? inputDifference(input, p.input);
  if (problem !== undefined) throw new FirebreakError('INTERNAL', `playbook ${d.id}: its descriptor and its definition differ: ${problem}`);
  return p;
}

/** The first difference between two outlines, in words; undefined when they are the same. */
function difference(described: PlaybookOutline, defined: PlaybookOutline): string | undefined {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const key of ['id', 'title', 'summary', 'version', 'rto'] as const) {
    if (!same(described[key], defined[key])) return `${key}: ${JSON.stringify(described[key])} described, ${JSON.stringify(defined[key])} defined`;
  }
  const ids = (o: PlaybookOutline) => o.steps.map((s) => s.id).join(', ');
  if (ids(described) !== ids(defined)) return `steps: ${ids(described)} described, ${ids(defined)} defined`;
  for (const [i, s] of described.steps.entries()) {
    const t = defined.steps[i];
    if (t !== undefined && !same(s, t)) return `step ${s.id}: ${JSON.stringify(s)} described, ${JSON.stringify(t)} defined`;
  }
  return undefined;
}

/** The option names must be the ones the playbook validates: the same top-level fields. */
function inputDifference(described: z.ZodType, defined: z.ZodType): string | undefined {
  const fields = (schema: unknown) => Object.keys((schema as { shape?: object }).shape ?? {}).join(', ');
  return fields(described) === fields(defined) ? undefined : `input fields: ${fields(described)} described, ${fields(defined)} defined`;
}
