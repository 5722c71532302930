import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Logger } from '../lib/log.ts';
import type { App } from '../app/app.ts';
import { createOut, type Out } from './output.ts';
import { checkIdentity } from '../lib/identity.ts';

// The logger and the application are imported when an action needs them, not
// with the command tree: `firebreak --help` and `firebreak playbooks` open
// nothing and load neither (test/unit/cli-lazy.test.ts).

export interface GlobalOptions {
  readonly config: string;
  readonly json: boolean;
  readonly as?: string;
  readonly verbose: boolean;
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Who is acting: --as, $FIREBREAK_USER, or the OS user. Recorded as initiator
 * / approver; a value set but unusable (empty, control characters) is refused
 * rather than skipped, so the operator learns that their setting is wrong.
 */
function actor(g: GlobalOptions): string {
  if (g.as !== undefined) return checkIdentity(g.as, '--as');
  const env = process.env['FIREBREAK_USER'];
  if (env !== undefined) return checkIdentity(env, '$FIREBREAK_USER');
  return checkIdentity(userInfo().username, 'the OS user name');
}

function outFor(g: GlobalOptions): Out {
  return createOut({ json: g.json });
}

/** Logs go to stderr only with --verbose; otherwise warnings and errors only. */
export async function loggerFor(g: GlobalOptions): Promise<Logger> {
  const { createLogger } = await import('../lib/log.ts');
  return createLogger({ level: g.verbose ? 'debug' : 'warn' });
}

/** What every command's action starts from: its options, where it prints, who acts. */
export interface CommandContext {
  readonly g: GlobalOptions;
  readonly out: Out;
  /** The acting identity (see {@link actor}); asked for only by commands that record it. */
  readonly actor: () => string;
}

/** A command's action given the application, opened for it and always closed. */
export interface AppContext extends CommandContext {
  readonly app: App;
}

type WaitMode = 'block' | 'suspend';

/** How a command opens the application. */
export interface OpenFor<A extends unknown[]> {
  /** The command plans, starts or continues runs: the playbooks are loaded (a read, a cancel, a close loads none). */
  readonly playbooks?: boolean;
  /** From the arguments: whether a run waits at an approval gate in this process or stops there. */
  readonly waitMode?: (...args: NoInfer<A>) => WaitMode;
}

function contextOf(cmd: Command): CommandContext {
  const g = globals(cmd);
  return { g, out: outFor(g), actor: () => actor(g) };
}

/**
 * The shared preamble of every action: commander passes the declared
 * arguments, the options and the command; `fn` gets the context first, then
 * the arguments and options. A number returned is the exit code.
 */
export function action<A extends unknown[]>(fn: (c: CommandContext, ...args: A) => unknown): (...all: [...A, Command]) => Promise<void> {
  return async (...all) => {
    const cmd = all.at(-1) as Command;
    const code = await fn(contextOf(cmd), ...(all.slice(0, -1) as A));
    if (typeof code === 'number') process.exitCode = code;
  };
}

/** {@link action} with the application opened (and closed, whatever happens) around `fn`, as `open` says. */
export function appAction<A extends unknown[]>(fn: (c: AppContext, ...args: A) => Promise<unknown>, open: OpenFor<A> = {}): (...all: [...A, Command]) => Promise<void> {
  return action<A>(async (c, ...args) => withApp(c.g, async (app) => fn({ ...c, app }, ...args), {
    playbooks: open.playbooks ?? false, ...(open.waitMode === undefined ? {} : { waitMode: open.waitMode(...args) }),
  }));
}

/** Opens the application for a command (with the playbooks only when it runs them) and always closes it. */
export async function withApp<T>(g: GlobalOptions, fn: (app: App) => Promise<T>, options: { playbooks: boolean; waitMode?: WaitMode }): Promise<T> {
  const { openApp } = await import('../app/app-open.ts');
  const { playbooks, ...rest } = options;
  const app = await openApp({ configPath: g.config, logger: await loggerFor(g), withPlaybooks: playbooks, ...rest });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
