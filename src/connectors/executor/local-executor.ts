import { spawn } from 'node:child_process';
import { chownSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { lock } from 'proper-lockfile';
import { FirebreakError } from '../../lib/errors.ts';
import { redactText } from '../../lib/redact.ts';
import { isSecret } from '../../lib/secret.ts';
import type { ExecRequest, ExecResult, Executor } from './executor-types.ts';

const MAX_OUTPUT = 16 * 1024 * 1024;

/** Runs commands on this host with no shell; secrets only ever on stdin. */
const LOCK_STALE_MS = 10_000;
const PERMANENT = new Set(['EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

export function createLocalExecutor(options: { env?: NodeJS.ProcessEnv } = {}): Executor {
  return {
    describe: 'local',
    exec: (req) => runLocal(req, options.env ?? process.env),
    async readFile(path) {
      try {
        return readFileSync(path);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        // Missing is NOT_FOUND; a permission or file-type problem will not fix itself (not retried); anything else may.
        const kind = code === 'ENOENT' ? 'NOT_FOUND' : code !== undefined && PERMANENT.has(code) ? 'UPSTREAM_REJECTED' : 'UNAVAILABLE';
        throw new FirebreakError(kind, `cannot read ${path} (local): ${code ?? (cause as Error).message}`, { cause });
      }
    },
    async writeFileAtomic(path, data, opts = {}) {
      writeAtomicLocal(path, data, opts.mode);
    },
    async withLock(path, fn, opts = {}) {
      let release: () => Promise<void>;
      const wait = opts.timeoutMs ?? LOCK_STALE_MS + 5_000;
      try {
        // The holder refreshes the lock every 5 s; one not refreshed for 10 s is a crashed holder's, and is taken over,
        // so a writer killed with the lock held (SIGKILL, power cut) delays the next one by at most 10 s.
        release = await lock(path, { realpath: false, stale: LOCK_STALE_MS, retries: { retries: Math.ceil(wait / 100), minTimeout: 100, maxTimeout: 100, factor: 1 } });
      } catch (cause) {
        throw new FirebreakError('CONFLICT', `${path} is locked by another writer (waited ${wait} ms)`, { cause });
      }
      try {
        return await fn();
      } finally {
        await release();
      }
    },
    async close() { /* nothing held */ },
  };
}

/**
 * Replaces `path` atomically: temp file in the same directory, fsync, same mode
 * and owner as the file it replaces, rename. A crash leaves the old file or the
 * new one, never a mix.
 */
export function writeAtomicLocal(path: string, data: string | Buffer, mode?: number): void {
  let st: { mode: number; uid: number; gid: number } | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', st === undefined ? (mode ?? 0o600) : st.mode & 0o7777);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    if (st !== undefined) chownSync(tmp, st.uid, st.gid);
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  const dfd = openSync(dirname(path), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

function runLocal(req: ExecRequest, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  const [cmd, ...args] = req.argv;
  if (cmd === undefined) return Promise.reject(new FirebreakError('INTERNAL', 'exec: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: req.cwd, env: { ...env, ...req.env }, shell: false, stdio: ['pipe', 'pipe', 'pipe'],
      ...(req.signal === undefined ? {} : { signal: req.signal }),
    });
    // Our own timer rather than spawn's `timeout`: that one outlives a child that never started (ENOENT) and keeps the process alive.
    let timedOut = false;
    const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, req.timeoutMs);
    const settle = () => { if (timer !== undefined) clearTimeout(timer); };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (d: Buffer) => { size += d.length; if (size <= MAX_OUTPUT) into.push(d); };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => {
      settle();
      if (e.code === 'ENOENT') reject(new FirebreakError('UNAVAILABLE', `${cmd} not found on local host (is it installed and on PATH?)`, { cause: e, retryable: false }));
      else if (e.name === 'AbortError') reject(new FirebreakError('CANCELLED', `${cmd} was cancelled`, { cause: e }));
      else reject(new FirebreakError('UNAVAILABLE', `cannot run ${cmd} locally: ${redactText(e.message)}`, { cause: e }));
    });
    child.on('close', (code) => {
      settle();
      if (timedOut) {
        reject(new FirebreakError('TIMEOUT', `${cmd} did not finish within ${req.timeoutMs} ms`));
        return;
      }
      resolve({ exitCode: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    const input = req.stdin === undefined ? undefined : isSecret(req.stdin) ? req.stdin.reveal() : req.stdin;
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
