import type { CommittedEvent } from '../engine/runtime-types.ts';
import type { AuditInput } from './audit-log.ts';

/** What turning a journal event into an audit entry needs to look up. */
export interface JournalLookups {
  /** The incident a run belongs to. */
  incidentOf(runId: string): Promise<string | null>;
  /** A completed step's recorded output (immutable once completed). */
  output(runId: string, stepId: string): Promise<unknown>;
}

const CITED_META = ['title', 'phase', 'system', 'effect', 'item'];

/**
 * The audit entry a journal event makes, or undefined for pure progress
 * (a step starting, a wait, fan-out counts, an item's end). Runs' statuses,
 * steps' and generated values' ends and accepted signals are audited.
 */
export async function auditEntryOf(r: CommittedEvent, look: JournalLookups): Promise<AuditInput | undefined> {
  const e = r.event;
  if (e.type === 'waiting' || e.type === 'fanout') return undefined;
  const incidentId = await look.incidentOf(e.runId);
  const ids = { ...(incidentId === null ? {} : { incidentId }), runId: e.runId, ts: r.at };
  switch (e.type) {
    case 'run':
      return { kind: `run.${e.status}`, actor: 'firebreak', ...ids, ...(e.error === undefined ? {} : { data: { error: e.error } }) };
    case 'signal':
      return { kind: 'signal.accepted', actor: (e.payload as { approver?: string } | null)?.approver ?? 'unknown', ...ids, data: { name: e.name, payload: e.payload } };
    case 'step': {
      if (e.status === 'running' || e.status === 'waiting' || e.kind === 'signal' || e.kind === 'item' || e.kind === 'sleep') return undefined;
      // An event committed by this process carries the output its commit stored; one read from the journal does not.
      let output = e.status !== 'completed' ? undefined : 'output' in r ? r.output : await look.output(e.runId, e.stepId);
      // The plan can list thousands of items: the audit entry cites its hash, the journal keeps the rest.
      if (e.stepId === 'plan' && output !== undefined && output !== null) {
        const plan = output as { hash?: unknown; entries?: readonly unknown[] };
        output = { planHash: plan.hash, entries: plan.entries?.length };
      }
      const meta = Object.fromEntries(CITED_META.filter((k) => e.meta[k] !== undefined).map((k) => [k, e.meta[k]]));
      return {
        kind: e.kind === 'generate' ? 'secret.generated' : `step.${e.status}`, actor: 'firebreak', ...ids, stepId: e.stepId,
        data: { attempt: e.attempt, ...meta, ...(output === undefined ? {} : { output }), ...(e.error === undefined ? {} : { error: e.error }) },
      };
    }
  }
}
