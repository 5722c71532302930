import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CRASH_RUN = fileURLToPath(new URL('../fixtures/crash-run/crash-run.ts', import.meta.url));
const CRASH_INSIDE = fileURLToPath(new URL('../fixtures/crash-run/crash-inside.ts', import.meta.url));

type Crashed = Promise<{ runId: string; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;

/** Starts a run in a child process that SIGKILLs itself right after the journal commits `stepId`. */
export function crashRun(config: string, stepId: string, playbook: string, input: object, env: Record<string, string> = {}): Crashed {
  return crash(CRASH_RUN, config, stepId, playbook, input, env);
}

/** Starts a run without --yes in a child process that SIGKILLs itself the moment `stepId` starts (in flight, nothing done). */
export function crashWhenStarted(config: string, stepId: string, playbook: string, input: object, env: Record<string, string> = {}): Crashed {
  return crash(CRASH_RUN, config, stepId, playbook, input, env, ['--when', 'started', '--no-yes']);
}

/** Starts a run in a child process that SIGKILLs itself inside `stepId`: its effect applied, not yet journaled. */
export function crashInside(config: string, stepId: string, playbook: string, input: object, env: Record<string, string> = {}): Crashed {
  return crash(CRASH_INSIDE, config, stepId, playbook, input, env);
}

function crash(fixture: string, config: string, stepId: string, playbook: string, input: object, env: Record<string, string>, flags: readonly string[] = []): Crashed {
  const child = spawn(process.execPath, [fixture, config, stepId, playbook, JSON.stringify(input), ...flags], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => { child.on('close', (_code, signal) => { resolve({ runId: stdout.split('\n')[0] ?? '', signal, stdout, stderr }); }); });
}
