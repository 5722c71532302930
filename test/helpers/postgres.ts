import { after, type TestContext } from 'node:test';
import { requireComponent } from './shared.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { localPostgresProblem, startLocalCluster } from '../../src/lab/postgres/lab-postgres.ts';
import { quoteIdent } from '../../src/connectors/postgres/postgres-client.ts';
import { scramVerifier } from '../../src/connectors/postgres/scram.ts';
import type { Secret } from '../../src/lib/secret.ts';

/** Why a throwaway cluster cannot start here (for requireComponent), or undefined. */
export function postgresProblem(): string | undefined {
  return localPostgresProblem();
}

export interface Cluster {
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** The server's log: every statement (log_statement=all), for tests to grep. */
  readonly logFile: string;
  readonly dir: string;
  /** How long initdb + start took, in ms. */
  readonly startMs: number;
  /** Runs SQL as the superuser over TCP. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Creates a LOGIN role; its password, when given, is set from a client-side verifier (never in the log). */
  createRole(name: string, password?: Secret): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throwaway cluster for one test file (the lab's own starter: initdb as user
 * postgres in a temp dir, free port on 127.0.0.1, SCRAM over TCP, every
 * statement logged, fsync off), with a superuser pool.
 */
export async function startCluster(): Promise<Cluster> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'fb-pg-'));
  const c = await startLocalCluster(dir);
  const startMs = Math.round(performance.now() - started);
  const pool = new pg.Pool({ host: c.host, port: c.port, user: c.adminUser, password: c.adminPassword, database: 'postgres', max: 2 });
  pool.on('error', () => undefined);
  return {
    host: c.host, port: c.port, adminUser: c.adminUser, adminPassword: c.adminPassword, logFile: c.logFile, dir, startMs,
    query: (sql, params) => pool.query(sql, params),
    async createRole(name, password) {
      await pool.query(`CREATE ROLE ${quoteIdent(name)} LOGIN${password === undefined ? '' : ` PASSWORD '${scramVerifier(password)}'`}`);
    },
    async stop() {
      await pool.end();
      c.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function serverLog(c: Cluster): string {
  return existsSync(c.logFile) ? readFileSync(c.logFile, 'utf8') : '';
}

/**
 * One throwaway cluster per test file: started by the first test that asks
 * (which skips, or fails under CI, without PostgreSQL), stopped after the file.
 */
export function clusterPerFile(): (t: TestContext) => Promise<Cluster | undefined> {
  let cluster: Promise<Cluster> | undefined;
  after(async () => { if (cluster !== undefined) await (await cluster).stop(); });
  return async (t) => {
    if (!requireComponent(t, 'PostgreSQL', postgresProblem())) return undefined;
    if (cluster === undefined) {
      cluster = startCluster();
      t.diagnostic(`throwaway cluster started in ${(await cluster).startMs} ms`);
    }
    return cluster;
  };
}
