import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FirebreakError } from '../../lib/errors.ts';
import { scramVerifier } from '../../connectors/postgres/scram.ts';
import { quoteIdent } from '../../connectors/postgres/postgres-client.ts';
import { randomBytes } from 'node:crypto';
import { generatePassword } from '../../lib/password.ts';
import { startLocalCluster, type LocalCluster } from './lab-postgres.ts';
import { consumerRestartArgv } from './lab-consumer.ts';
import type { z } from 'zod';
import type { timescaledbSchema } from '../../connectors/postgres/timescaledb-connector.ts';


/** A PostgreSQL the drill uses instead of starting one: it creates a throwaway role there and drops it afterwards. */
export interface ExternalPostgres {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** How the generated configuration refers to the admin password (never written into it). */
  readonly adminPasswordRef: string;
  readonly sslmode: 'disable' | 'require' | 'verify-full';
}

export interface LabDatabase {
  readonly cluster: Pick<LocalCluster, 'host' | 'port' | 'adminUser' | 'adminPassword'>;
  /** The role whose password "leaked". */
  readonly role: string;
  readonly envFile: string;
  readonly pidFile: string;
  /** The provider.timescaledb block of the lab configuration. */
  readonly config: z.input<typeof timescaledbSchema>;
  stop(): Promise<void>;
}

/**
 * The provider's TimescaleDB for drills: a real local PostgreSQL, role
 * `telegraf` with a password that "leaked", the stack's .env holding it, and
 * a running consumer (the Telegraf stand-in) connected with it.
 */
export async function startLabDatabase(dir: string, external?: ExternalPostgres): Promise<LabDatabase> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const local = external === undefined ? await startLocalCluster(join(dir, 'cluster')) : undefined;
  const cluster = local ?? external as ExternalPostgres;
  const database = external?.database ?? 'postgres';
  const ssl = external === undefined || external.sslmode === 'disable' ? false : { rejectUnauthorized: external.sslmode === 'verify-full' };
  // On a configured server the role is unique to this drill, so a real role is never touched.
  const role = external === undefined ? 'telegraf' : `firebreak_drill_${randomBytes(4).toString('hex')}`;
  const leaked = generatePassword(40);
  const admin = () => new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database, ssl });
  const c = admin();
  try {
    await c.connect();
    await c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${scramVerifier(leaked)}'`);
  } catch (err) {
    local?.stop();
    throw new FirebreakError('UNAVAILABLE', `the drill's database at ${cluster.host}:${cluster.port} refused to create the drill role: ${(err as Error).message}`, { cause: err });
  } finally {
    await c.end().catch(() => undefined);
  }
  const envFile = join(dir, 'provider-stack.env');
  writeFileSync(envFile, `# provider stack\nTSDB_HOST=${cluster.host}\nTSDB_PORT=${cluster.port}\nTSDB_TELEGRAF_PASSWORD=${leaked.reveal()}\nTSDB_GRAFANA_PASSWORD=unchanged-grafana-password\n`, { mode: 0o640 });
  const pidFile = join(dir, 'telegraf.pid');
  const argv = consumerRestartArgv({ envFile, variable: 'TSDB_TELEGRAF_PASSWORD', host: cluster.host, port: cluster.port, database, ssl: ssl !== false, role, app: 'telegraf', pidFile });
  const started = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' });
  const dropRole = async () => {
    const d = admin();
    try {
      await d.connect();
      await d.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
      await d.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    } finally {
      await d.end().catch(() => undefined);
    }
  };
  if (started.status !== 0) {
    if (local === undefined) await dropRole(); else local.stop();
    throw new FirebreakError('UNAVAILABLE', `the lab's telegraf stand-in did not start: ${started.stderr.trim()}`);
  }
  return {
    cluster, role, envFile, pidFile,
    config: {
      host: cluster.host, port: cluster.port, database, adminUser: cluster.adminUser, adminPassword: external === undefined ? { value: cluster.adminPassword } : external.adminPasswordRef, sslmode: external?.sslmode ?? 'disable',
      roles: { [role]: { envFile, variable: 'TSDB_TELEGRAF_PASSWORD', applicationName: 'telegraf', reconnectTimeout: '20s', restart: { kind: 'command', argv } } },
    },
    async stop() {
      if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* gone */ } }
      if (local === undefined) await dropRole(); else local.stop();
    },
  };
}
