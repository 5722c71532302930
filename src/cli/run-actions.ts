// What plan, run, resume and approve do, imported by their actions (commands-run.ts) once the application is open.
import { FirebreakError, exitCodeFor } from '../lib/errors.ts';
import type { RunOutcome } from '../engine/runtime-types.ts';
import type { AppContext } from './cli-context.ts';
import { parseInputArgs } from './playbook-options.ts';
import { printPlan } from './plan-print.ts';
import { findDescriptor } from '../playbooks/playbook-list.ts';
import { createTaskList } from './task-list.ts';
import { formatDuration } from './output.ts';
import { askTerminal, promptApproval } from './approval-prompt.ts';

/** The run a command follows: its id and incident. */
interface Followed { readonly runId: string; readonly incidentId: string | null }

export interface RunOptions { yes: boolean; incident?: string; detectedAt?: string; idempotencyKey?: string; detach: boolean }

/** `firebreak plan`: what the playbook would change, without changing anything. */
export async function plan({ g, out, app }: AppContext, playbook: string, inputs: readonly string[]): Promise<void> {
  const p = await app.plan(playbook, parseInputArgs(app.playbook(playbook), inputs));
  // The phases not built are part of what a plan says, for a machine as for a person.
  if (g.json) out.data({ ...p, absent: findDescriptor(p.playbook)?.absent ?? [] });
  else printPlan(out, p);
}

/** `firebreak run`: starts (or joins) a run and follows it; returns the exit code. */
export async function start(c: AppContext, playbook: string, inputs: readonly string[], o: RunOptions): Promise<number> {
  const { app, g, out } = c;
  const input = parseInputArgs(app.playbook(playbook), inputs);
  const who = c.actor();
  const handle = await app.start({
    playbook, input, initiator: who, yes: o.yes,
    ...(o.incident === undefined ? {} : { incidentId: o.incident }), ...(o.detectedAt === undefined ? {} : { detectedAt: o.detectedAt }),
    ...(o.idempotencyKey === undefined ? {} : { idempotencyKey: o.idempotencyKey }),
  });
  if (handle.duplicate && !g.json) out.line(out.style('yellow', `Joined run ${handle.runId}${handle.incidentId === null ? '' : ` of incident ${handle.incidentId}`}: an earlier start with idempotency key "${o.idempotencyKey ?? ''}" made it. Following it.`));
  // A run starts from its first event: nothing to skip.
  return followed(c, who, o.yes, handle, 0, () => handle.outcome, handle.duplicate);
}

/** `firebreak resume`: continues a run (approving first with --yes) and follows it; returns the exit code. */
export async function resume(c: AppContext, runRef: string, o: { yes: boolean; detach: boolean }): Promise<number> {
  const { app } = c;
  const run = await app.queries.run(runRef);
  const who = c.actor();
  if (o.yes && app.settings.twoPersonRule) {
    throw new FirebreakError('APPROVAL_INVALID', 'the two-person rule is on (approvals.twoPersonRule): --yes is refused; another person approves with `firebreak approve <run>`');
  }
  const planned = await app.queries.plan(run.id);
  const resumed = async () => (await app.resume(run.id, who)).outcome;
  const target: Followed = { runId: run.id, incidentId: run.incidentId };
  if (!o.yes || planned.status === 'completed') {
    // --yes approves what is still to approve; a run past its gates (or completed) is simply continued.
    if (o.yes && (await app.pendingGates(run)).length > 0) await app.approve({ runRef: run.id, approver: who, decision: 'approve' });
    return followed(c, who, o.yes, target, await app.queries.progressRecorded(run.id), resumed);
  }
  // No plan yet (a crash during planning): the resumed run makes it, then approval is given at its gate.
  const skip = await app.queries.progressRecorded(run.id);
  const gate = approveAtGate(c, run.id, who, skip);
  try {
    return await followed(c, who, true, target, skip, async () => {
      const outcome = await resumed();
      // Suspend mode (--detach) stops at the gate as soon as it is reached: continue once the approval is in.
      return outcome.status === 'waiting' && await gate.approved() ? resumed() : outcome;
    });
  } finally {
    await gate.stop();
  }
}

/** `firebreak approve`: records the decision, then continues the run here when no process executes it; returns the exit code. */
export async function approve(c: AppContext, runRef: string, o: { step?: string; reject: boolean; note?: string; resume: boolean }): Promise<number> {
  const { app, g, out } = c;
  const who = c.actor();
  const r = await app.approve({ runRef, approver: who, decision: o.reject ? 'reject' : 'approve', ...(o.note === undefined ? {} : { note: o.note }), ...(o.step === undefined ? {} : { step: o.step }) });
  if (g.json) out.data({ runId: r.run.id, steps: r.steps, planHash: r.planHash, decision: o.reject ? 'reject' : 'approve', approver: who });
  else out.line(`${o.reject ? 'Rejected' : 'Approved'} ${r.steps.join(', ')} of run ${r.run.id} as ${who} (plan ${r.planHash.slice(0, 16)}…)`);
  const executing = await app.isExecuting(r.run.id);
  if (!o.resume || executing || !['waiting', 'interrupted', 'running'].includes(r.run.status)) {
    if (executing && !g.json) out.line('The process executing the run picks the approval up.');
    return 0;
  }
  if (!g.json) out.line('No process is executing the run: resuming it here.');
  const skip = await app.queries.progressRecorded(r.run.id);
  return followed(c, who, false, { runId: r.run.id, incidentId: r.run.incidentId }, skip, async () => (await app.resume(r.run.id, who)).outcome);
}

/**
 * Follows a run's progress from the store, skipping the first `skip` events
 * (those recorded before this command continued it). Returns the function
 * that stops following once every event recorded so far is delivered.
 */
function followFrom(c: AppContext, runId: string, skip: number, listener: Parameters<AppContext['app']['follow']>[1]): () => Promise<void> {
  let seen = 0;
  const off = c.app.follow(runId, (e) => { if (seen++ >= skip) listener(e); });
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= off());
}

/**
 * `--yes` on a run that has no plan yet: approves, as the operator, when the
 * run first waits at an approval gate (the plan exists by then). A manual
 * step is not an approval: it waits for the person who does it.
 */
function approveAtGate(c: AppContext, runId: string, who: string, skip: number): { approved: () => Promise<boolean>; stop: () => Promise<void> } {
  let sent: Promise<boolean> | undefined;
  const stop = followFrom(c, runId, skip, (e) => {
    if (e.type !== 'waiting' || e.meta?.['manual'] === true || sent !== undefined) return;
    sent = c.app.approve({ runRef: runId, approver: who, decision: 'approve', note: 'resume --yes' }).then(() => true, (err: unknown) => {
      c.out.err(`firebreak: could not approve run ${runId}: ${err instanceof Error ? err.message : String(err)}; approve it with: firebreak approve ${runId}`);
      return false;
    });
  });
  // Stopping delivers what is recorded so far: a wait already reached has been seen (and approved) when `approved` answers.
  return { approved: async () => { await stop(); return sent ?? false; }, stop };
}

/** Follows a run with the live task list until `outcome` settles, then prints the summary; returns the exit code. */
async function followed(c: AppContext, who: string, yes: boolean, run: Followed, skip: number, outcome: () => Promise<RunOutcome>, duplicate = false): Promise<number> {
  const stop = watch(c, who, yes, run.runId, skip);
  try {
    const o = await outcome();
    await stop(); // every event up to the end is shown, and the task list's last frame goes, before the summary
    return await summarize(c, o, run, duplicate);
  } finally {
    await stop();
  }
}

/** Shows the live task list; on a TTY, offers to approve at a gate when the operator may approve their own run. */
function watch(c: AppContext, who: string, yes: boolean, runId: string, skip: number): () => Promise<void> {
  const { app, g, out } = c;
  if (g.json) return () => Promise.resolve();
  const tasks = createTaskList(out);
  let prompted = false;
  let announced = false;
  let stopping: Promise<void> | undefined;
  // What the listener prints after reading the store (the plan), awaited before the summary so that the output keeps its order.
  let printing: Promise<void> = Promise.resolve();
  const off = followFrom(c, runId, skip, (e) => {
    if (e.type === 'run' && !announced) {
      announced = true;
      out.line(out.style('bold', `Run ${e.runId}`) + out.style('dim', ` (firebreak runs show ${e.runId})`));
    }
    tasks.onEvent(e);
    if (e.type === 'waiting' && e.meta?.['manual'] === true) {
      // An interrupted step in doubt names its step in meta (its wait is resolve-<step>@<attempt>).
      const step = typeof e.meta['step'] === 'string' ? e.meta['step'] : e.stepId.replace(/^approve-/, '');
      const label = e.meta['inDoubt'] === true ? `In doubt: step ${step}` : `Manual step ${e.stepId}`;
      out.line(out.style('yellow', `\n${label}: ${String(e.meta['note'])}\nWhen it is done: firebreak approve ${e.runId} --step ${step}`));
      return;
    }
    if (e.type !== 'waiting' || yes || prompted) return;
    prompted = true;
    // Not prompted once the command is ending (a detached run that stopped at its gate): nobody would be left to record the answer.
    const ask = process.stdin.isTTY && !app.settings.twoPersonRule && stopping === undefined;
    printing = printing.then(async () => {
      const { plan } = await app.queries.plan(e.runId);
      if (plan !== null) printPlan(out, plan);
      out.line(out.style('yellow', `\nApproval needed for run ${e.runId}. From another terminal: firebreak approve ${e.runId}${app.settings.twoPersonRule ? ' --as <someone other than you>' : ''}`));
      if (ask) {
        void promptApproval(e.runId, {
          ask: askTerminal,
          approve: (decision) => app.approve({ runRef: e.runId, approver: who, decision, note: 'answered at the prompt' }),
          report: (message) => { out.err(message); },
        });
      }
    }).catch((err: unknown) => { out.err(`firebreak: cannot show the plan of run ${e.runId}: ${err instanceof Error ? err.message : String(err)}`); });
  });
  return () => (stopping ??= (async () => { await off(); await printing; tasks.stop(); })());
}

/** The end-of-run summary and the exit code derived from the outcome. */
async function summarize({ app, g, out }: AppContext, outcome: RunOutcome, { runId, incidentId }: Followed, duplicate: boolean): Promise<number> {
  const { applied, alreadyDone: already, verified, failed, durationMs: took, planRefused } = await app.queries.runSummary(runId);
  const code = outcome.status === 'completed' ? 0
    : outcome.status === 'completed_with_failures' ? exitCodeFor('PARTIAL_FAILURE')
      : outcome.status === 'waiting' ? exitCodeFor('APPROVAL_REQUIRED')
        : outcome.status === 'cancelled' ? exitCodeFor('CANCELLED')
          : exitCodeFor(outcome.error?.code ?? 'INTERNAL');
  if (g.json) {
    out.data({ runId, incidentId, status: outcome.status, error: outcome.error ?? null, result: outcome.result ?? null, applied, alreadyDone: already, verified, failed, durationMs: took, exitCode: code, ...(duplicate ? { duplicate } : {}) });
    return code;
  }
  out.line();
  const status = outcome.status === 'completed' ? out.style('green', 'completed') : out.style(outcome.status === 'waiting' ? 'yellow' : 'red', outcome.status);
  out.line(`${out.style('bold', `Run ${runId}`)} ${status} in ${formatDuration(took)}: ${applied} applied, ${already} already in place, ${verified} verified, ${failed} failed.`);
  if (outcome.error !== undefined) out.line(out.style('red', `${outcome.error.code}: ${outcome.error.message}`));
  const failures = (outcome.result as { failures?: { stepId: string; key?: string; error: { message: string } }[] } | undefined)?.failures ?? [];
  for (const f of failures.slice(0, 20)) out.line(out.style('red', `  ✖ ${f.stepId}${f.key === undefined ? '' : ` ${f.key}`}: ${f.error.message}`));
  if (failures.length > 20) out.line(`  … ${failures.length - 20} more (firebreak runs show ${runId} --json)`);
  if (outcome.status === 'waiting') out.line(`Waiting for approval: firebreak approve ${runId}`);
  if (planRefused) out.line(`Nothing was changed: the plan was refused. Correct the input and start again${incidentId === null ? '' : ` (--incident ${incidentId} keeps this incident)`}.`);
  else if (outcome.status !== 'completed' && outcome.status !== 'waiting') out.line(`Continue with: firebreak resume ${runId}`);
  if (incidentId !== null) {
    out.line(`Incident ${incidentId}: firebreak incidents show ${incidentId} · report: firebreak report ${incidentId}`);
    out.line(`Evidence: ${app.settings.stateDir}/evidence/${incidentId}/`);
  }
  return code;
}
