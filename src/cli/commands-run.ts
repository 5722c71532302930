import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { FirebreakError, exitCodeFor } from '../lib/errors.ts';
import type { App } from '../app/app.ts';
import type { Plan } from '../engine/playbook-plan.ts';
import type { RunOutcome } from '../engine/runtime-types.ts';
import { actor, globals, outFor, withApp, type GlobalOptions } from './cli-context.ts';
import { acceptPlaybookArgs, describeInputs, parseInputArgs } from './playbook-options.ts';
import { printPlan } from './plan-print.ts';
import { createTaskList } from './task-list.ts';
import { formatDuration, type Out } from './output.ts';
import { PLAYBOOKS } from '../playbooks/index.ts';

const playbookHelp = () => PLAYBOOKS.map(describeInputs).join('');

export function registerRunCommands(program: Command): void {
  acceptPlaybookArgs(program.command('plan')
    .description('Show what a playbook would change, per system and per item, without changing anything (runs only read steps and checks)')
    .argument('<playbook>', 'playbook id (firebreak playbooks lists them)'))
    .addHelpText('after', `\nExamples:\n  firebreak plan device-compromise --tenant acme --device device-001\n  firebreak plan device-compromise --tenant acme --device device-001 --json\n${playbookHelp()}`)
    .action(async (playbook: string, inputs: string[], _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      await withApp(g, async (app) => {
        const plan = await app.plan(playbook, parseInputArgs(app.playbook(playbook), inputs));
        if (g.json) out.data(plan);
        else printPlan(out, plan);
      });
    });

  acceptPlaybookArgs(program.command('run')
    .description('Plan, ask for approval, execute and verify a playbook; opens an incident unless --incident is given')
    .argument('<playbook>', 'playbook id')
    .option('-y, --yes', 'approve the plan up front (single operator; refused under the two-person rule)', false)
    .option('--incident <id>', 'attach the run to an existing incident')
    .option('--detected-at <time>', 'when the incident was detected (ISO 8601); RTO clocks start there', undefined)
    .option('--detach', 'do not wait at an approval gate: exit (code 9) and let `firebreak approve` + `resume` continue', false))
    .addHelpText('after', `\nExamples:\n  firebreak run device-compromise --tenant acme --device device-001\n  firebreak run device-compromise --tenant acme --device device-001 --yes\n  firebreak run subca-compromise --tenant acme --detach\n${playbookHelp()}`)
    .action(async (playbook: string, inputs: string[], o: { yes: boolean; incident?: string; detectedAt?: string; detach: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      const code = await withApp(g, async (app) => {
        const input = parseInputArgs(app.playbook(playbook), inputs);
        const who = actor(g);
        return followed(app, out, g, who, o.yes, () => app.start({
          playbook, input, initiator: who, yes: o.yes,
          ...(o.incident === undefined ? {} : { incidentId: o.incident }), ...(o.detectedAt === undefined ? {} : { detectedAt: o.detectedAt }),
        }));
      }, { waitMode: o.detach ? 'suspend' : 'block' });
      process.exitCode = code;
    });

  program.command('resume')
    .description('Continue a run after a crash, an interruption, a cancel, an approval, or to retry the items that failed')
    .argument('<run>', 'run id (or a unique prefix)')
    .option('-y, --yes', 'approve when asked: the plan now if there is one, else as soon as the run reaches its approval gate (refused under the two-person rule)', false)
    .option('--detach', 'do not wait at an approval gate', false)
    .addHelpText('after', '\nExamples:\n  firebreak resume run-20261125-1a2b3c4d\n  firebreak resume run-2026 --yes\n  firebreak resume run-2026 --yes --json')
    .action(async (runRef: string, o: { yes: boolean; detach: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      const code = await withApp(g, async (app) => {
        const run = app.run(runRef);
        const who = actor(g);
        if (o.yes && app.settings.twoPersonRule) {
          throw new FirebreakError('APPROVAL_INVALID', 'the two-person rule is on (approvals.twoPersonRule): --yes is refused; another person approves with `firebreak approve <run>`');
        }
        const planned = app.journal.getStep(run.id, 'plan');
        if (!o.yes || planned?.status === 'completed') {
          // --yes approves what is still to approve; a run past its gates (or completed) is simply continued.
          if (o.yes && app.pendingGates(run).length > 0) await app.approve({ runRef: run.id, approver: who, decision: 'approve' });
          return followed(app, out, g, who, o.yes, async () => ({ runId: run.id, incidentId: run.incidentId, outcome: await app.resume(run.id, who) }));
        }
        // No plan yet (a crash during planning): the resumed run makes it, then approval is given at its gate.
        const gate = approveAtGate(app, out, run.id, who);
        try {
          return await followed(app, out, g, who, true, async () => {
            let outcome = await app.resume(run.id, who);
            // Suspend mode (--detach) stops at the gate as soon as it is reached: continue once the approval is in.
            if (outcome.status === 'waiting' && await gate.approved()) outcome = await app.resume(run.id, who);
            return { runId: run.id, incidentId: run.incidentId, outcome };
          });
        } finally {
          gate.stop();
        }
      }, { waitMode: o.detach ? 'suspend' : 'block' });
      process.exitCode = code;
    });

  program.command('approve')
    .description('Approve (or reject) the plan of a run waiting at an approval gate; bound to the plan\'s hash')
    .argument('<run>', 'run id (or a unique prefix)')
    .option('--step <id>', 'approve only this gated step (default: every gate of the plan)')
    .option('--reject', 'reject instead: the run fails without applying the gated steps', false)
    .option('--note <text>', 'reason, recorded in the audit trail and the report')
    .option('--no-resume', 'only record the approval; do not continue a run that no process is executing')
    .addHelpText('after', '\nExamples:\n  firebreak approve run-20261125-1a2b3c4d --as bob\n  firebreak approve run-2026 --reject --note "wrong device"')
    .action(async (runRef: string, o: { step?: string; reject: boolean; note?: string; resume: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const out = outFor(g);
      const code = await withApp(g, async (app) => {
        const who = actor(g);
        const r = await app.approve({ runRef, approver: who, decision: o.reject ? 'reject' : 'approve', ...(o.note === undefined ? {} : { note: o.note }), ...(o.step === undefined ? {} : { step: o.step }) });
        if (g.json) out.data({ runId: r.run.id, steps: r.steps, planHash: r.planHash, decision: o.reject ? 'reject' : 'approve', approver: who });
        else out.line(`${o.reject ? 'Rejected' : 'Approved'} ${r.steps.join(', ')} of run ${r.run.id} as ${who} (plan ${r.planHash.slice(0, 16)}…)`);
        const executing = app.isExecuting(r.run.id);
        if (!o.resume || executing || !['waiting', 'interrupted', 'running'].includes(r.run.status)) {
          if (executing && !g.json) out.line('The process executing the run picks the approval up.');
          return 0;
        }
        if (!g.json) out.line('No process is executing the run: resuming it here.');
        return followed(app, out, g, who, false, async () => ({ runId: r.run.id, incidentId: r.run.incidentId, outcome: await app.resume(r.run.id, who) }));
      }, { waitMode: 'suspend' });
      process.exitCode = code;
    });
}

/**
 * `--yes` on a run that has no plan yet: approves, as the operator, when the
 * run first waits at an approval gate (the plan exists by then). A manual
 * step is not an approval: it waits for the person who does it.
 */
function approveAtGate(app: App, out: Out, runId: string, who: string): { approved: () => Promise<boolean>; stop: () => void } {
  let sent: Promise<boolean> | undefined;
  const off = app.runtime.onProgress((e) => {
    if (e.type !== 'waiting' || e.runId !== runId || e.meta?.['manual'] === true || sent !== undefined) return;
    sent = app.approve({ runRef: runId, approver: who, decision: 'approve', note: 'resume --yes' }).then(() => true, (err: unknown) => {
      out.err(`firebreak: could not approve run ${runId}: ${err instanceof Error ? err.message : String(err)}; approve it with: firebreak approve ${runId}`);
      return false;
    });
  });
  return { approved: () => sent ?? Promise.resolve(false), stop: off };
}

/** Executes a run with the live task list, then prints the summary; returns the exit code. */
async function followed(app: App, out: Out, g: GlobalOptions, who: string, yes: boolean, exec: () => Promise<{ runId: string; incidentId: string | null; outcome: RunOutcome }>): Promise<number> {
  const stop = follow(app, out, g, who, yes);
  try {
    const { runId, incidentId, outcome } = await exec();
    stop(); // the task list's last frame goes before the summary
    return summarize(app, out, g, outcome, incidentId, runId);
  } finally {
    stop();
  }
}

/** Shows the live task list; on a TTY, offers to approve at a gate when the operator may approve their own run. */
function follow(app: App, out: Out, g: GlobalOptions, who: string, yes: boolean): () => void {
  if (g.json) return () => undefined;
  const tasks = createTaskList(out);
  let prompted = false;
  let announced = false;
  const off = app.runtime.onProgress((e) => {
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
    const plan = app.journal.getStep(e.runId, 'plan')?.output as Plan | undefined;
    if (plan !== undefined) printPlan(out, plan);
    out.line(out.style('yellow', `\nApproval needed for run ${e.runId}. From another terminal: firebreak approve ${e.runId}${app.settings.twoPersonRule ? ' --as <someone other than you>' : ''}`));
    if (process.stdin.isTTY && !app.settings.twoPersonRule) {
      void (async () => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question('Approve this plan and continue? [y/N] ');
        rl.close();
        await app.approve({ runRef: e.runId, approver: who, decision: /^y(es)?$/i.test(answer.trim()) ? 'approve' : 'reject', note: 'answered at the prompt' });
      })();
    }
  });
  let stopped = false;
  return () => { if (stopped) return; stopped = true; off(); tasks.stop(); };
}

/** The end-of-run summary and the exit code derived from the outcome. */
function summarize(app: App, out: Out, g: GlobalOptions, outcome: RunOutcome, incidentId: string | null, runId: string): number {
  const steps = app.journal.listSteps(runId).filter((s) => s.kind === 'step' && s.stepId !== 'plan' && !s.stepId.startsWith('phase-'));
  const applied = steps.filter((s) => (s.output as { outcome?: string } | null)?.outcome === 'applied').length;
  const already = steps.filter((s) => (s.output as { outcome?: string } | null)?.outcome === 'already').length;
  const verified = steps.filter((s) => typeof (s.output as { verified?: string } | null)?.verified === 'string').length;
  const failed = steps.filter((s) => s.status === 'failed').length;
  const run = app.journal.getRun(runId);
  const took = run === undefined ? 0 : Date.parse(run.endedAt ?? new Date().toISOString()) - Date.parse(run.createdAt);
  const code = outcome.status === 'completed' ? 0
    : outcome.status === 'completed_with_failures' ? exitCodeFor('PARTIAL_FAILURE')
      : outcome.status === 'waiting' ? exitCodeFor('APPROVAL_REQUIRED')
        : outcome.status === 'cancelled' ? exitCodeFor('CANCELLED')
          : exitCodeFor(outcome.error?.code ?? 'INTERNAL');
  if (g.json) {
    out.data({ runId, incidentId, status: outcome.status, error: outcome.error ?? null, result: outcome.result ?? null, applied, alreadyDone: already, verified, failed, durationMs: took, exitCode: code });
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
  const planRefused = app.journal.getStep(runId, 'plan')?.status === 'failed';
  if (planRefused) out.line(`Nothing was changed: the plan was refused. Correct the input and start again${incidentId === null ? '' : ` (--incident ${incidentId} keeps this incident)`}.`);
  else if (outcome.status !== 'completed' && outcome.status !== 'waiting') out.line(`Continue with: firebreak resume ${runId}`);
  if (incidentId !== null) {
    out.line(`Incident ${incidentId}: firebreak incidents show ${incidentId} · report: firebreak report ${incidentId}`);
    out.line(`Evidence: ${app.settings.stateDir}/evidence/${incidentId}/`);
  }
  return code;
}

export function assertNever(x: never): never {
  throw new FirebreakError('INTERNAL', `unexpected ${String(x)}`);
}
