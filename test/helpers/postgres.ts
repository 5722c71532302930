import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';

export function postgresProblem(): string | undefined {
  if (!existsSync(join(BIN, 'initdb'))) return `${BIN}/initdb is missing (Debian package postgresql)`;
  if (spawnSync('id', ['postgres']).status !== 0) return 'user postgres does not exist';
  if (process.getuid?.() !== 0) return 'initdb must run as user postgres: the tests need root to switch to it';
  return undefined;
}

export interface Cluster {
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly logFile: string;
  readonly dir: string;
  /** Runs SQL as the superuser over TCP. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0); }); });
    s.on('error', reject);
  });
}

function asPostgres(argv: string[]): void {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}${r.stdout}`);
}

/**
 * A throwaway PostgreSQL cluster for one test file: initdb as user postgres
 * (it refuses root) in a temp dir, a free port on 127.0.0.1, SCRAM password
 * auth over TCP, every statement logged to a file the test can grep, fsync off.
 * The superuser's password goes through a file, never a command line.
 */
export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pg-'));
  const postgresUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const postgresGid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, postgresUid, postgresGid);
  chmodSync(dir, 0o700);
  const adminPassword = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${adminPassword}\n`, { mode: 0o600 });
  chownSync(pwfile, postgresUid, postgresGid);
  const data = join(dir, 'data');
  asPostgres([join(BIN, 'initdb'), '-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8']);
  rmSync(pwfile);
  const port = await freePort();
  const logFile = join(dir, 'server.log');
  asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-l', logFile, '-w', '-t', '30', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c log_statement=all -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c password_encryption=scram-sha-256`, 'start']);
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', password: adminPassword, database: 'postgres', max: 2 });
  return {
    host: '127.0.0.1', port, adminUser: 'postgres', adminPassword, logFile, dir,
    query: (sql, params) => pool.query(sql, params),
    async stop() {
      await pool.end();
      spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function serverLog(c: Cluster): string {
  return existsSync(c.logFile) ? readFileSync(c.logFile, 'utf8') : '';
}
