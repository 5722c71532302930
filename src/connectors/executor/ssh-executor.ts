import { createHash, randomBytes } from 'node:crypto';
import ssh2, { type ClientChannel, type SFTPWrapper } from 'ssh2';
import { FirebreakError } from '../../lib/errors.ts';
import { isSecret, type Secret } from '../../lib/secret.ts';
import type { ExecRequest, ExecResult, Executor } from './executor-types.ts';
import { withMkdirLock } from './executor-lock.ts';

export interface SshConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: Secret;
  /** Pinned host key: an OpenSSH public key line (`ssh-ed25519 AAAA…`) or a `SHA256:` fingerprint. */
  readonly hostKey: string;
  readonly connectTimeoutMs?: number;
}

/** Quotes one argument for a POSIX shell: single quotes, with embedded ones closed, escaped and reopened. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line the remote shell runs for a request (argv quoted, optional cd and env). */
export function remoteCommand(req: ExecRequest): string {
  const env = Object.entries(req.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new FirebreakError('INVALID_INPUT', `environment variable name ${JSON.stringify(k)} is not valid`);
    return shellQuote(`${k}=${v}`);
  });
  const cmd = [...(env.length > 0 ? ['env', ...env] : []), ...req.argv.map(shellQuote)].join(' ');
  return req.cwd === undefined ? cmd : `cd ${shellQuote(req.cwd)} && ${cmd}`;
}

// ssh2 is CommonJS: take its members from the default export.
const { Client, utils } = ssh2;

function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Whether the key the server presented is the pinned one. */
export function hostKeyMatches(pinned: string, presented: Buffer): boolean {
  const p = pinned.trim();
  if (p.startsWith('SHA256:')) return fingerprint(presented) === p.replace(/=+$/, '');
  const blob = p.split(/\s+/)[1];
  return blob !== undefined && Buffer.from(blob, 'base64').equals(presented);
}

/**
 * Runs commands on a host over SSH (the `ssh2` library): key authentication
 * only, the host key pinned (anything else is refused before authenticating),
 * argv quoted for the remote POSIX shell, secrets only on stdin; files over
 * SFTP, replaced atomically (temp file, fsync, same mode and owner, POSIX
 * rename).
 */
export function createSshExecutor(config: SshConfig): Executor {
  const where = `ssh ${config.user}@${config.host}:${config.port}`;
  let connection: Promise<ssh2.Client> | undefined;
  let sftp: Promise<SFTPWrapper> | undefined;

  function connect(): Promise<ssh2.Client> {
    connection ??= new Promise<ssh2.Client>((resolve, reject) => {
      const client = new Client();
      let presented: Buffer | undefined;
      client.once('ready', () => { resolve(client); });
      client.once('error', (err: Error & { level?: string }) => {
        connection = undefined;
        if (presented !== undefined && !hostKeyMatches(config.hostKey, presented)) {
          reject(new FirebreakError('AUTH_FAILED', `${where} presented host key ${fingerprint(presented)}, not the pinned one: refusing to connect (possible man in the middle, or the host was reinstalled)`));
        } else if (err.level === 'client-authentication') {
          reject(new FirebreakError('AUTH_FAILED', `${where} refused Firebreak's key for user ${config.user}`, { cause: err }));
        } else if (err.level === 'client-timeout') {
          reject(new FirebreakError('TIMEOUT', `${where} did not answer within ${config.connectTimeoutMs ?? 10_000} ms`, { cause: err }));
        } else {
          reject(new FirebreakError('UNAVAILABLE', `${where} is unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
        }
      });
      client.on('close', () => { connection = undefined; sftp = undefined; });
      let privateKey: ReturnType<typeof utils.parseKey>;
      try {
        privateKey = utils.parseKey(config.privateKey.reveal());
        if (privateKey instanceof Error) throw privateKey;
      } catch (cause) {
        reject(new FirebreakError('SECRET_UNAVAILABLE', `the private key for ${where} cannot be parsed: ${(cause as Error).message}`));
        connection = undefined;
        return;
      }
      client.connect({
        host: config.host, port: config.port, username: config.user, privateKey: config.privateKey.reveal(),
        readyTimeout: config.connectTimeoutMs ?? 10_000, tryKeyboard: false,
        hostVerifier: (key: Buffer) => { presented = key; return hostKeyMatches(config.hostKey, key); },
      });
    });
    return connection;
  }

  function session(): Promise<SFTPWrapper> {
    sftp ??= connect().then((c) => new Promise<SFTPWrapper>((resolve, reject) => {
      c.sftp((err, s) => { if (err !== undefined && err !== null) { sftp = undefined; reject(new FirebreakError('UNAVAILABLE', `${where}: SFTP is not available: ${err.message}`)); } else resolve(s); });
    }));
    return sftp;
  }

  async function exec(req: ExecRequest): Promise<ExecResult> {
    const client = await connect();
    const command = remoteCommand(req);
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, (err: Error | undefined, channel: ClientChannel) => {
        if (err !== undefined) { reject(new FirebreakError('UNAVAILABLE', `${where}: cannot start a command: ${err.message}`)); return; }
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code: number | null = null;
        let timer: NodeJS.Timeout | undefined;
        const abort = () => { channel.signal('KILL'); channel.close(); };
        if (req.timeoutMs !== undefined) timer = setTimeout(() => { abort(); reject(new FirebreakError('TIMEOUT', `${req.argv[0] ?? ''} on ${where} did not finish within ${req.timeoutMs} ms`)); }, req.timeoutMs);
        const onAbort = () => { abort(); reject(new FirebreakError('CANCELLED', `${req.argv[0] ?? ''} on ${where} was cancelled`)); };
        // The signal can be the run's own (a step without a timeout): the listener goes with the command.
        req.signal?.addEventListener('abort', onAbort, { once: true });
        channel.on('data', (d: Buffer) => out.push(d));
        channel.stderr.on('data', (d: Buffer) => errs.push(d));
        channel.on('exit', (c: number | null) => { code = c; });
        channel.on('close', () => {
          if (timer !== undefined) clearTimeout(timer);
          req.signal?.removeEventListener('abort', onAbort);
          const stderr = Buffer.concat(errs).toString('utf8');
          if (code === 127 && /not found/.test(stderr)) {
            reject(new FirebreakError('UNAVAILABLE', `${req.argv[0] ?? ''} not found on ${where} (is it installed and on PATH?)`));
            return;
          }
          resolve({ exitCode: code ?? 255, stdout: Buffer.concat(out).toString('utf8'), stderr });
        });
        const input = req.stdin === undefined ? undefined : isSecret(req.stdin) ? req.stdin.reveal() : req.stdin;
        if (input !== undefined) channel.write(input);
        channel.end();
      });
    });
  }

  const sftpCall = <T>(what: string, path: string, fn: (s: SFTPWrapper, cb: (err: (Error & { code?: number }) | null | undefined, v?: T) => void) => void): Promise<T> =>
    session().then((s) => new Promise<T>((resolve, reject) => {
      fn(s, (err, v) => {
        if (err === null || err === undefined) { resolve(v as T); return; }
        reject(new FirebreakError(err.code === 2 ? 'NOT_FOUND' : 'UNAVAILABLE', `cannot ${what} ${path} (${where}): ${err.message}`));
      });
    }));

  return {
    describe: where,
    exec,
    readFile: (path) => sftpCall<Buffer>('read', path, (s, cb) => { s.readFile(path, cb); }),
    async writeFileAtomic(path, data, opts = {}) {
      const existing = await sftpCall<{ mode: number; uid: number; gid: number } | undefined>('stat', path, (s, cb) => { s.stat(path, (err, st) => { cb(err !== undefined && err !== null && (err as { code?: number }).code === 2 ? null : err, err ? undefined : st); }); });
      const slash = path.lastIndexOf('/');
      const tmp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
      const mode = existing === undefined ? (opts.mode ?? 0o600) : existing.mode & 0o7777;
      const handle = await sftpCall<Buffer>('create', tmp, (s, cb) => { s.open(tmp, 'wx', { mode }, cb); });
      const body = typeof data === 'string' ? Buffer.from(data) : data;
      await sftpCall<undefined>('write', tmp, (s, cb) => { s.write(handle, body, 0, body.length, 0, (e) => { cb(e); }); });
      await sftpCall<undefined>('fsync', tmp, (s, cb) => { s.ext_openssh_fsync(handle, (e) => { cb(e); }); });
      await sftpCall<undefined>('close', tmp, (s, cb) => { s.close(handle, (e) => { cb(e); }); });
      if (existing !== undefined) await sftpCall<undefined>('chown', tmp, (s, cb) => { s.setstat(tmp, { uid: existing.uid, gid: existing.gid, mode }, (e) => { cb(e); }); });
      await sftpCall<undefined>('rename over', path, (s, cb) => { s.ext_openssh_rename(tmp, path, (e) => { cb(e); }); });
    },
    withLock: (path, fn, opts = {}) => withMkdirLock((argv) => exec({ argv }), path, `on ${where}`, fn, opts.timeoutMs),
    async close() {
      const c = connection === undefined ? undefined : await connection.catch(() => undefined);
      c?.end();
    },
  };
}
