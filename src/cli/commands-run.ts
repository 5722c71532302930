import type { Command } from 'commander';
import { appAction } from './cli-context.ts';
import { acceptPlaybookArgs } from './playbook-args.ts';
import type { RunOptions } from './run-actions.ts';

// The actions import run-actions.ts (the task list, the approval prompt…) when they run.
const actions = () => import('./run-actions.ts');

/** `playbookInputs`: every playbook's inputs, for the help of plan and run (see main.ts: loaded only when they may be shown). */
export function registerRunCommands(program: Command, playbookInputs: string): void {
  acceptPlaybookArgs(program.command('plan')
    .description('Show what a playbook would change, per system and per item, without changing anything (runs only read steps and checks)')
    .argument('<playbook>', 'playbook id (firebreak playbooks lists them)'))
    .addHelpText('after', `\nExamples:\n  firebreak plan device-compromise --tenant acme --device device-001\n  firebreak plan device-compromise --tenant acme --device device-001 --json\n${playbookInputs}`)
    .action(appAction(async (c, playbook: string, inputs: string[]) => { await (await actions()).plan(c, playbook, inputs); }, { playbooks: true }));

  acceptPlaybookArgs(program.command('run')
    .description('Plan, ask for approval, execute and verify a playbook; opens an incident unless --incident is given')
    .argument('<playbook>', 'playbook id')
    .option('-y, --yes', 'approve the plan up front (single operator; refused under the two-person rule)', false)
    .option('--incident <id>', 'attach the run to an existing incident')
    .option('--detected-at <time>', 'when the incident was detected (ISO 8601); RTO clocks start there', undefined)
    .option('--idempotency-key <key>', 'two identical triggers (a retried alert, a double click) carry the same key and open one incident and one run: a duplicate says that it joined the existing run and follows it')
    .option('--detach', 'do not wait at an approval gate: exit (code 9) and let `firebreak approve` + `resume` continue', false))
    .addHelpText('after', `\nExamples:\n  firebreak run device-compromise --tenant acme --device device-001\n  firebreak run device-compromise --tenant acme --device device-001 --yes\n  firebreak run subca-compromise --tenant acme --detach\n  firebreak run device-compromise --tenant acme --device device-001 --idempotency-key alert-4711\n${playbookInputs}`)
    .action(appAction(async (c, playbook: string, inputs: string[], o: RunOptions) => (await actions()).start(c, playbook, inputs, o), {
      playbooks: true, waitMode: (_p, _i, o) => (o.detach ? 'suspend' : 'block'),
    }));

  program.command('resume')
    .description('Continue a run after a crash, an interruption, a cancel, an approval, or to retry the items that failed')
    .argument('<run>', 'run id (or a unique prefix)')
    .option('-y, --yes', 'approve when asked: the plan now if there is one, else as soon as the run reaches its approval gate (refused under the two-person rule)', false)
    .option('--detach', 'do not wait at an approval gate', false)
    .addHelpText('after', '\nExamples:\n  firebreak resume run-20261125-1a2b3c4d\n  firebreak resume run-2026 --yes\n  firebreak resume run-2026 --yes --json')
    .action(appAction(async (c, runRef: string, o: { yes: boolean; detach: boolean }) => (await actions()).resume(c, runRef, o), {
      playbooks: true, waitMode: (_r, o) => (o.detach ? 'suspend' : 'block'),
    }));

  program.command('approve')
    .description('Approve (or reject) the plan of a run waiting at an approval gate; bound to the plan\'s hash')
    .argument('<run>', 'run id (or a unique prefix)')
    .option('--step <id>', 'approve only this gated step (default: every gate of the plan)')
    .option('--reject', 'reject instead: the run fails without applying the gated steps', false)
    .option('--note <text>', 'reason, recorded in the audit trail and the report')
    .option('--no-resume', 'only record the approval; do not continue a run that no process is executing')
    .addHelpText('after', '\nExamples:\n  firebreak approve run-20261125-1a2b3c4d --as bob\n  firebreak approve run-2026 --reject --note "wrong device"')
    .action(appAction(async (c, runRef: string, o: { step?: string; reject: boolean; note?: string; resume: boolean }) => (await actions()).approve(c, runRef, o), {
      playbooks: true, waitMode: () => 'suspend',
    }));
}
