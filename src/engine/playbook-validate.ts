import { FirebreakError } from '../lib/errors.ts';
import { Phases, type AnyPlaybook, type StepDefinition } from './playbook-types.ts';

export interface ValidationProblem {
  readonly step?: string;
  readonly message: string;
}

/**
 * Static validation, before anything runs: unique ids, known dependencies, no
 * cycles, and preconditions that hold for every order the DAG allows.
 *
 * A step requiring P is safe when P holds initially (`assumes`) or an ancestor
 * establishes it, and no step that invalidates P can run before it without a
 * re-establishing step in between: every invalidator must be a descendant of
 * the step, or an ancestor followed (still as an ancestor) by an establisher.
 * An invalidator unordered with the step could run first: rejected.
 */
export function validatePlaybook(p: AnyPlaybook): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const byId = new Map<string, StepDefinition>();
  for (const s of p.steps as readonly StepDefinition[]) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(s.id)) problems.push({ step: s.id, message: 'step id must be lower-case letters, digits and dashes' });
    if (byId.has(s.id)) problems.push({ step: s.id, message: 'duplicate step id' });
    byId.set(s.id, s);
    if (!Phases.includes(s.phase)) problems.push({ step: s.id, message: `unknown phase "${s.phase}"` });
    if (s.idempotency === 'none' && (s.retry?.maxAttempts ?? 1) > 1) problems.push({ step: s.id, message: 'a step with idempotency "none" cannot be retried automatically' });
  }
  for (const s of p.steps as readonly StepDefinition[]) {
    for (const d of s.dependsOn ?? []) {
      if (!byId.has(d)) problems.push({ step: s.id, message: `depends on unknown step "${d}"` });
    }
  }
  if (problems.length > 0) return problems;

  const cycle = findCycle(byId);
  if (cycle !== undefined) return [{ step: cycle[0] ?? '', message: `dependency cycle: ${cycle.join(' → ')}` }];

  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (id: string): Set<string> => {
    let set = ancestors.get(id);
    if (set !== undefined) return set;
    set = new Set();
    for (const d of byId.get(id)?.dependsOn ?? []) {
      set.add(d);
      for (const a of ancestorsOf(d)) set.add(a);
    }
    ancestors.set(id, set);
    return set;
  };

  const assumed = new Set(p.assumes ?? []);
  for (const s of byId.values()) {
    for (const cond of s.requires ?? []) {
      const anc = ancestorsOf(s.id);
      const establishers = [...byId.values()].filter((x) => x.establishes?.includes(cond));
      if (!assumed.has(cond) && !establishers.some((e) => anc.has(e.id))) {
        problems.push({ step: s.id, message: `requires "${cond}", which nothing before it establishes (and the playbook does not assume it)` });
        continue;
      }
      for (const inv of byId.values()) {
        if (inv.id === s.id || !inv.invalidates?.includes(cond)) continue;
        if (ancestorsOf(inv.id).has(s.id)) continue; // runs after s
        const restored = anc.has(inv.id) && establishers.some((e) => anc.has(e.id) && ancestorsOf(e.id).has(inv.id));
        if (restored) continue;
        problems.push({
          step: s.id,
          message: anc.has(inv.id)
            ? `requires "${cond}", but "${inv.id}" before it invalidates it and nothing re-establishes it`
            : `requires "${cond}", but "${inv.id}" (which invalidates it) is not ordered after it and may run first`,
        });
      }
    }
  }
  return problems;
}

/** Throws PLAYBOOK_INVALID listing every problem. */
export function assertValidPlaybook(p: AnyPlaybook): void {
  const problems = validatePlaybook(p);
  if (problems.length > 0) {
    throw new FirebreakError('PLAYBOOK_INVALID', `playbook ${p.id} is invalid:\n${problems.map((x) => `  ${x.step === undefined ? '' : `${x.step}: `}${x.message}`).join('\n')}`, { details: { problems } });
  }
}

function findCycle(byId: Map<string, StepDefinition>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const d of byId.get(id)?.dependsOn ?? []) {
      const c = visit(d);
      if (c !== undefined) return c;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of byId.keys()) {
    const c = visit(id);
    if (c !== undefined) return c.reverse();
  }
  return undefined;
}

/** Steps in an order compatible with their dependencies (stable: definition order among ready steps). */
export function topologicalOrder<S extends { readonly id: string; readonly dependsOn?: readonly string[] }>(steps: readonly S[]): S[] {
  const done = new Set<string>();
  const out: S[] = [];
  while (out.length < steps.length) {
    const next = steps.find((s) => !done.has(s.id) && (s.dependsOn ?? []).every((d) => done.has(d)));
    if (next === undefined) throw new FirebreakError('PLAYBOOK_INVALID', 'dependency cycle');
    done.add(next.id);
    out.push(next);
  }
  return out;
}
