import type { Plan, PlanEntry } from '../engine/playbook-plan.ts';
import { findDescriptor } from '../playbooks/playbook-list.ts';
import type { Out } from './output.ts';

const MARK: Record<PlanEntry['action'], string> = { change: '+', none: '=', unknown: '?', read: '·' };

/** Prints a plan grouped per system, then per step and item: what would change. */
export function printPlan(out: Out, plan: Plan, options: { maxItems?: number } = {}): void {
  const maxItems = options.maxItems ?? 20;
  const systems = [...new Set(plan.entries.map((e) => e.system))];
  const changes = plan.entries.filter((e) => e.action === 'change').length;
  const unknown = plan.entries.filter((e) => e.action === 'unknown').length;
  out.line(out.style('bold', `Plan for ${plan.playbook} (v${plan.version}) — ${changes} change(s), ${plan.entries.filter((e) => e.action === 'none').length} already in place${unknown > 0 ? `, ${unknown} unknown` : ''}`));
  out.line(out.style('dim', `plan hash ${plan.hash}`));
  for (const system of systems) {
    out.line();
    out.line(out.style('underline', system));
    const entries = plan.entries.filter((e) => e.system === system);
    const steps = [...new Set(entries.map((e) => e.stepId))];
    for (const stepId of steps) {
      const mine = entries.filter((e) => e.stepId === stepId);
      const first = mine[0];
      if (first === undefined) continue;
      const gate = first.approval ? out.style('yellow', ' [needs approval]') : first.automatic === true ? out.style('yellow', ' [automatic containment]') : '';
      if (mine.length === 1 && first.item === undefined) {
        out.line(`  ${colour(out, first.action)} ${first.detail}${first.action === 'none' ? out.style('dim', ' (already done)') : ''}${gate}`);
        continue;
      }
      const counts = (['change', 'none', 'unknown'] as const).map((a) => [a, mine.filter((e) => e.action === a).length] as const).filter(([, n]) => n > 0);
      out.line(`  ${first.title} — ${mine.length} item(s): ${counts.map(([a, n]) => `${n} ${a === 'none' ? 'already done' : a}`).join(', ')}${gate}`);
      for (const e of mine.slice(0, maxItems)) out.line(`    ${colour(out, e.action)} ${e.item ?? ''}: ${e.detail}`);
      if (mine.length > maxItems) out.line(out.style('dim', `    … and ${mine.length - maxItems} more (--json lists all)`));
    }
  }
  printAbsent(out, plan.playbook);
}

/** The phases of a playbook that are not built yet, so that a plan or a listing never reads as the whole procedure. */
export function printAbsent(out: Out, playbookId: string): void {
  const absent = findDescriptor(playbookId)?.absent ?? [];
  if (absent.length === 0) return;
  out.line();
  out.line(out.style('yellow', `Not built yet: ${playbookId} does not do these (nothing runs for them):`));
  for (const a of absent) out.line(`  - ${a.name}: ${a.why}`);
}

function colour(out: Out, action: PlanEntry['action']): string {
  const m = MARK[action];
  return action === 'change' ? out.style('green', m) : action === 'unknown' ? out.style('yellow', m) : out.style('dim', m);
}
