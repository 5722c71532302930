import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { createLogger, type Logger } from '../lib/log.ts';
import { openApp } from '../app/app-open.ts';
import type { App } from '../app/app.ts';
import { createOut, type Out } from './output.ts';
import { checkIdentity } from '../lib/identity.ts';

export interface GlobalOptions {
  readonly config: string;
  readonly json: boolean;
  readonly as?: string;
  readonly verbose: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * Who is acting: --as, $FIREBREAK_USER, or the OS user. Recorded as initiator
 * / approver; a value set but unusable (empty, control characters) is refused
 * rather than skipped, so the operator learns that their setting is wrong.
 */
export function actor(g: GlobalOptions): string {
  if (g.as !== undefined) return checkIdentity(g.as, '--as');
  const env = process.env['FIREBREAK_USER'];
  if (env !== undefined) return checkIdentity(env, '$FIREBREAK_USER');
  return checkIdentity(userInfo().username, 'the OS user name');
}

export function outFor(g: GlobalOptions): Out {
  return createOut({ json: g.json });
}

/** Logs go to stderr only with --verbose; otherwise warnings and errors only. */
export function loggerFor(g: GlobalOptions): Logger {
  return createLogger({ level: g.verbose ? 'debug' : 'warn' });
}

/** Opens the application for a command and always closes it. */
export async function withApp<T>(g: GlobalOptions, fn: (app: App) => Promise<T>, options: { waitMode?: 'block' | 'suspend' } = {}): Promise<T> {
  const app = await openApp({ configPath: g.config, logger: loggerFor(g), ...options });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
