import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FirebreakError } from '../../lib/errors.ts';
import { freePort } from '../../lib/free-port.ts';

/** Where Debian's PostgreSQL binaries are, newest first. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export function localPostgresProblem(): string | undefined {
  if (binDir() === undefined) return 'PostgreSQL server binaries are not installed (Debian package postgresql)';
  if (process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0) return 'running as root, but there is no user postgres to run initdb as';
  return undefined;
}

export interface LocalCluster {
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly logFile: string;
  readonly dataDir: string;
  stop(): void;
}

/**
 * Starts a throwaway PostgreSQL cluster in `dir`: initdb (as user postgres
 * when running as root: initdb refuses root), a free port on 127.0.0.1 only,
 * SCRAM password authentication, every statement logged to `server.log`,
 * fsync off. The superuser password goes through a file, never a command line.
 */
export async function startLocalCluster(wanted: string): Promise<LocalCluster> {
  const bin = binDir();
  const problem = localPostgresProblem();
  if (bin === undefined || problem !== undefined) throw new FirebreakError('UNAVAILABLE', `cannot start a local PostgreSQL: ${problem ?? 'no binaries'}`);
  const asRoot = process.getuid?.() === 0;
  mkdirSync(dirname(wanted), { recursive: true });
  // As root the server runs as user postgres, which may not reach a directory under /root or a 0700 drill
  // directory: then the cluster lives in a fresh private directory under the system's temp dir instead.
  const reachable = !asRoot || spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dirname(wanted), '-a', '-x', dirname(wanted)]).status === 0;
  const dir = reachable ? wanted : mkdtempSync(join(tmpdir(), 'firebreak-pg-'));
  mkdirSync(dir, { recursive: true });
  const run = (argv: string[]) => {
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new FirebreakError('UNAVAILABLE', `${argv[0] ?? ''} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
  };
  const own = (path: string) => {
    if (!asRoot) return;
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(path, uid, gid);
  };
  own(dir);
  chmodSync(dir, 0o700);
  const adminPassword = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${adminPassword}\n`, { mode: 0o600 });
  own(pwfile);
  const dataDir = join(dir, 'data');
  try {
    run([join(bin, 'initdb'), '-D', dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
  } finally {
    rmSync(pwfile, { force: true });
  }
  const port = await freePort();
  const logFile = join(dir, 'server.log');
  run([join(bin, 'pg_ctl'), '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c log_statement=all -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c password_encryption=scram-sha-256`, 'start']);
  return {
    host: '127.0.0.1', port, adminUser: 'postgres', adminPassword, logFile, dataDir,
    stop: () => {
      run([join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      if (!reachable) rmSync(dir, { recursive: true, force: true });
    },
  };
}
