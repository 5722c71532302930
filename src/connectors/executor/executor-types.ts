import type { Secret } from '../../lib/secret.ts';

/**
 * One command to run on a host. `argv` is passed without a shell (no word
 * splitting, no globbing) wherever the transport allows; secrets only ever
 * travel on stdin (or in files), never in argv or env.
 */
export interface ExecRequest {
  readonly argv: readonly string[];
  readonly stdin?: string | Secret;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Where the commands of a tenant or provider host run: locally, over SSH
 * (pinned host key, key auth) or inside a `docker compose exec` container.
 * Chosen per host in firebreak.yaml (`executors:`).
 */
export interface Executor {
  /** For messages: "ssh root@10.0.0.5:22", "local", "compose acme-stack/iot-bridge-api". */
  readonly describe: string;
  /** Runs the command; a non-zero exit is returned, not thrown. Failure to start (binary missing, host unreachable) throws. */
  exec(req: ExecRequest): Promise<ExecResult>;
  /** Reads a whole file on that host; a missing file throws NOT_FOUND. */
  readFile(path: string): Promise<Buffer>;
  /**
   * Replaces a file atomically (temp file in the same directory + rename),
   * keeping the existing file's mode and owner (or `mode` for a new file).
   */
  writeFileAtomic(path: string, data: string | Buffer, options?: { readonly mode?: number }): Promise<void>;
  /**
   * Runs `fn` holding an exclusive lock on `path` (a `<path>.lock` directory,
   * the convention other writers of the file can share). Waits up to
   * `timeoutMs`. A lock left by a crashed writer is taken over locally once its
   * holder has not refreshed it for 10 s; on SSH and compose hosts (a mkdir
   * lock) it is not: the wait ends with CONFLICT naming the lock directory,
   * which the operator removes once no writer is left.
   */
  withLock<T>(path: string, fn: () => Promise<T>, options?: { readonly timeoutMs?: number }): Promise<T>;
  close(): Promise<void>;
}
