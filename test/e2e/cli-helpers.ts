import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startLab, type Lab, type LabOptions } from '../../src/lab/lab.ts';
import { repoRoot } from '../helpers/shared.ts';

export const BIN = join(repoRoot, 'bin', 'firebreak.js');

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly input?: string;
  /** File descriptor 3 opened on this file (read only), as `3<file` in a shell. */
  readonly fd3?: string;
}

/** Runs the real CLI in a child process (no TTY, NO_COLOR). */
export function cli(args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const fd3 = options.fd3 === undefined ? undefined : openSync(options.fd3, 'r');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? repoRoot, env: { ...process.env, NO_COLOR: '1', FIREBREAK_USER: 'alice', ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', ...(fd3 === undefined ? [] : [fd3])],
  });
  if (fd3 !== undefined) closeSync(fd3);
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<CliResult>((resolve) => { child.on('close', (code, signal) => { resolve({ code, signal, stdout, stderr }); }); });
  return { child, done };
}

export async function run(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return cli(args, options).done;
}

/** A lab in a temp dir owned by the test, stopped and removed afterwards. */
export async function labFor(t: TestContext, options: Partial<LabOptions> = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-e2e-'));
  const lab = await startLab({ dir, ...options });
  t.after(async () => { await lab.stop(); rmSync(dir, { recursive: true, force: true }); });
  return lab;
}

export async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every file below `dir` (recursively) except those named: what a secret scan reads. */
export function filesBelow(dir: string, except: readonly string[] = []): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).filter((f) => !except.includes(f));
}
