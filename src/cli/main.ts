import { Command, CommanderError, Option } from 'commander';
import { ErrorCodes, FirebreakError, exitCodeFor, toErrorData } from '../lib/errors.ts';
import { redactText } from '../lib/redact.ts';
import { registerRunCommands } from './commands-run.ts';
import { registerReadCommands } from './commands-read.ts';
import { registerAdminCommands } from './commands-admin.ts';
import { registerDrillCommand } from './commands-drill.ts';
import { registerLabCommand } from './commands-lab.ts';
import { registerVaultCommands } from './commands-vault.ts';
import { registerAssessCommands } from './commands-assess.ts';
import { checkIdentity } from '../lib/identity.ts';
import { refuseMissingValues } from './playbook-args.ts';
import { PLAYBOOK_DESCRIPTORS } from '../playbooks/playbook-list.ts';

const EXIT_CODES = [...new Map(Object.entries(ErrorCodes).map(([code, v]) => [v.exit, code])).entries()]
  .sort(([a], [b]) => a - b)
  .map(([exit]) => `  ${String(exit).padStart(2)}  ${Object.entries(ErrorCodes).filter(([, v]) => v.exit === exit).map(([c]) => c).join(', ')}`)
  .join('\n');

/**
 * The command tree: names, options and help texts, from modules that load
 * nothing heavy. Each action imports what it uses (the application, the
 * playbooks, the lab) when it runs, so that `--help` or `playbooks` costs
 * little more than starting Node (bench/cli, test/unit/cli-lazy.test.ts).
 * `playbookInputs` is what the help of plan and run lists of every playbook's
 * inputs ({@link playbookInputsFor}).
 */
export function buildProgram(playbookInputs = ''): Command {
  const program = new Command('firebreak')
    .description('Security incident runbooks as executable playbooks: plan, approve, execute, verify, resume, audit, report.')
    .version('0.1.0')
    .addOption(new Option('-c, --config <file>', 'configuration file').env('FIREBREAK_CONFIG').default('firebreak.yaml'))
    .option('--json', 'machine-readable output (every read command)', false)
    .option('--as <name>', 'who is acting (initiator / approver); default $FIREBREAK_USER or the OS user')
    .option('-v, --verbose', 'debug logs on stderr', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => { write(text); } })
    .addHelpText('after', `
Quick tour:
  firebreak init                         write a commented firebreak.yaml
  firebreak check                        validate it and probe every system
  firebreak playbooks                    what Firebreak can do
  firebreak plan <playbook> …            what would change (read-only)
  firebreak run <playbook> … [--yes]     plan, approve, execute, verify
  firebreak resume <run>                 continue after a crash or an approval
  firebreak report <incident>            post-incident report from the journal
  firebreak audit verify                 check the tamper-evident audit trail
  firebreak drill [playbook]             rehearse against the built-in lab
  firebreak lab up                       keep the lab running for your own tools
  firebreak vault share <run>            a key holder's unseal/rekey share, straight to Vault

Exit codes (docs/errors.md lists every error code):
   0  success
${EXIT_CODES}

Environment: FIREBREAK_CONFIG, FIREBREAK_USER, FIREBREAK_JOURNAL_KEY (base64, 32 bytes), NO_COLOR.`);
  registerRunCommands(program, playbookInputs);
  registerReadCommands(program);
  registerAdminCommands(program);
  registerDrillCommand(program);
  registerLabCommand(program);
  registerVaultCommands(program);
  registerAssessCommands(program);
  // An identity given but unusable is refused by every command, not only by those that record it.
  program.hook('preAction', (_p, action) => {
    const as = action.optsWithGlobals<{ as?: string }>().as;
    if (as !== undefined) checkIdentity(as, '--as');
  });
  guardMissingValues(program);
  return program;
}

/** The long and short flags of the options of `cmd` and its ancestors that require a value. */
function commandValueFlags(cmd: Command): string[] {
  const flags: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) {
    for (const o of c.options) if (o.required) flags.push(...[o.long, o.short].filter((f): f is string => f !== undefined));
  }
  return flags;
}

/**
 * Before commander parses a subcommand's words, refuses an option that takes a
 * value followed by another option (`--device --help`, `--tenant --yes`,
 * `--out --json`): the command's own options, the global ones and, for plan,
 * run and drill, the playbook's inputs (their schemas loaded then).
 */
function guardMissingValues(cmd: Command): void {
  if (cmd.commands.length === 0) return;
  cmd.hook('preSubcommand', async (parent, sub) => {
    const words = parent.args.slice(1);
    const flags = commandValueFlags(sub);
    if (['plan', 'run', 'drill'].includes(sub.name())) {
      const named = PLAYBOOK_DESCRIPTORS.filter((p) => p.id === words[0]);
      const { inputsOf, valueFlags } = await import('./playbook-options.ts');
      // Without a playbook id (drill's default), any playbook's inputs may follow.
      for (const p of await inputsOf(named.length > 0 ? named : PLAYBOOK_DESCRIPTORS)) flags.push(...valueFlags(p));
    }
    refuseMissingValues(words, new Set(flags));
  });
  for (const c of cmd.commands) guardMissingValues(c);
}

/**
 * Every playbook's inputs as the help of plan and run lists them. Commander
 * prints help synchronously, so the input schemas are loaded before the
 * words are parsed, and only when they name one of these commands.
 */
async function playbookInputsFor(argv: readonly string[]): Promise<string> {
  if (!argv.some((w) => w === 'plan' || w === 'run')) return '';
  const { describeInputs, inputsOf } = await import('./playbook-options.ts');
  return (await inputsOf(PLAYBOOK_DESCRIPTORS)).map(describeInputs).join('');
}

/** Runs the CLI; never throws: user errors become a message and an exit code, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = buildProgram(await playbookInputsFor(argv));
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return exitCodeFor('USAGE');
    }
    const data = toErrorData(err);
    process.stderr.write(`firebreak: ${redactText(data.message)}\n`);
    const problems = (err instanceof FirebreakError ? err.details?.['problems'] : undefined);
    if (data.code === 'CONFIG_INVALID' && Array.isArray(problems) && !data.message.includes('\n')) {
      for (const p of problems as { path: string; message: string }[]) process.stderr.write(`  ${p.path}: ${redactText(p.message)}\n`);
    }
    if (data.code === 'INTERNAL' && err instanceof Error && process.argv.includes('--verbose')) process.stderr.write(`${redactText(err.stack ?? '')}\n`);
    return exitCodeFor(data.code);
  }
}
