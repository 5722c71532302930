import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FirebreakError } from '../../lib/errors.ts';
import { scramVerifier } from '../../connectors/postgres/scram.ts';
import { generatePassword } from '../../playbooks/db-credential-leak/db-credential-leak.ts';
import { startLocalCluster, type LocalCluster } from './lab-postgres.ts';

const CONSUMER = fileURLToPath(new URL('./lab-consumer.ts', import.meta.url));

export interface LabDatabase {
  readonly cluster: LocalCluster;
  readonly envFile: string;
  readonly pidFile: string;
  /** The provider.timescaledb block of the lab configuration. */
  readonly config: Record<string, unknown>;
  stop(): void;
}

/**
 * The provider's TimescaleDB for drills: a real local PostgreSQL, role
 * `telegraf` with a password that "leaked", the stack's .env holding it, and
 * a running consumer (the Telegraf stand-in) connected with it.
 */
export async function startLabDatabase(dir: string): Promise<LabDatabase> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cluster = await startLocalCluster(join(dir, 'cluster'));
  const leaked = generatePassword(40);
  const admin = new pg.Client({ host: cluster.host, port: cluster.port, user: cluster.adminUser, password: cluster.adminPassword, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE telegraf LOGIN PASSWORD '${scramVerifier(leaked)}'`);
  } finally {
    await admin.end();
  }
  const envFile = join(dir, 'provider-stack.env');
  writeFileSync(envFile, `# provider stack\nTSDB_HOST=${cluster.host}\nTSDB_PORT=${cluster.port}\nTSDB_TELEGRAF_PASSWORD=${leaked.reveal()}\nTSDB_GRAFANA_PASSWORD=unchanged-grafana-password\n`, { mode: 0o640 });
  const pidFile = join(dir, 'telegraf.pid');
  const argv = [process.execPath, CONSUMER, 'restart', envFile, 'TSDB_TELEGRAF_PASSWORD', String(cluster.port), 'telegraf', 'telegraf', pidFile];
  const started = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' });
  if (started.status !== 0) throw new FirebreakError('UNAVAILABLE', `the lab's telegraf stand-in did not start: ${started.stderr.trim()}`);
  return {
    cluster, envFile, pidFile,
    config: {
      host: cluster.host, port: cluster.port, database: 'postgres', adminUser: cluster.adminUser, adminPassword: { value: cluster.adminPassword }, sslmode: 'disable',
      roles: { telegraf: { envFile, variable: 'TSDB_TELEGRAF_PASSWORD', applicationName: 'telegraf', reconnectTimeout: '20s', restart: { kind: 'command', argv } } },
    },
    stop() {
      if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* gone */ } }
      cluster.stop();
    },
  };
}
