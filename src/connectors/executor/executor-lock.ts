import { FirebreakError } from '../../lib/errors.ts';
import type { ExecResult } from './executor-types.ts';

/**
 * The `<path>.lock` directory convention on a host reached by commands (SSH,
 * docker compose exec): `mkdir` is atomic on every POSIX filesystem, so the
 * writer whose `mkdir` succeeds holds the lock; `rmdir` releases it. The local
 * executor uses proper-lockfile on the same `<path>.lock` instead.
 *
 * `--` is always passed: `mkdir`/`rmdir` (GNU coreutils and BusyBox alike,
 * POSIX utility syntax guideline 10) then read a path starting with "-" as a
 * path, not as options. The two copies this replaces differed on it.
 *
 * `where` completes "locked by another writer …": "on ssh u@h:22", "in compose x".
 */
export async function withMkdirLock<T>(
  exec: (argv: readonly string[]) => Promise<ExecResult>, path: string, where: string, fn: () => Promise<T>, timeoutMs = 10_000,
): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + timeoutMs;
  while ((await exec(['mkdir', '--', lock])).exitCode !== 0) {
    if (Date.now() > deadline) throw new FirebreakError('CONFLICT', `${path} is locked by another writer ${where} (${lock} exists; remove it if no writer is running)`);
    await new Promise((res) => setTimeout(res, 100));
  }
  try {
    return await fn();
  } finally {
    await exec(['rmdir', '--', lock]);
  }
}
