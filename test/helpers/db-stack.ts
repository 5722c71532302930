import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { stringify } from 'yaml';
import { generatePassword } from '../../src/lib/password.ts';
import type { Secret } from '../../src/lib/secret.ts';
import type { Cluster } from './postgres.ts';
import { quoteIdent } from '../../src/connectors/postgres/postgres-client.ts';
import { consumerRestartArgv } from '../../src/lab/postgres/lab-consumer.ts';

export const ADMIN_ENV = 'FB_TEST_PG_ADMIN';

export interface DbStackOptions {
  /** Role name (may be hostile: quotes, semicolons, unicode). Default a unique "telegraf_<n>". */
  readonly role?: string;
  /** The .env content around the password; gets the leaked value. */
  readonly envText?: (leaked: string) => string;
  /** Restart argv; default the lab consumer's `restart`. */
  readonly restartArgv?: (consumerRestart: string[], dir: string) => string[];
  readonly reconnectTimeout?: string;
  readonly rollback?: boolean;
  /** Override the database port (e.g. a closed one). */
  readonly port?: number;
  /** Start the consumer before the run (default true). */
  readonly startConsumer?: boolean;
}

export interface DbStack {
  readonly dir: string;
  readonly configPath: string;
  readonly envFile: string;
  readonly pidFile: string;
  readonly role: string;
  readonly leaked: Secret;
  /** argv of the consumer's restart (the lab's Telegraf stand-in). */
  readonly consumerRestart: string[];
  /** Environment for the CLI: the admin password by `env:` reference. */
  readonly env: Record<string, string>;
  envText(): string;
  /** Can `password` log in as the role over TCP? */
  logsIn(password: string): Promise<boolean>;
  /** How many times the server log shows the role's password being changed. */
  passwordChanges(): number;
  /** Sessions of the role: application_name and backend start. */
  sessions(): Promise<{ pid: number; application_name: string; backend_start: Date }[]>;
}

let n = 0;

/**
 * A database stack for one test: a LOGIN role with a "leaked" password on the
 * file's throwaway cluster, a .env holding it, a consumer (the lab's Telegraf
 * stand-in) connected with it, and a firebreak.yaml that names all of it, the
 * admin password as an `env:` reference.
 */
export async function dbStackFor(t: TestContext, c: Cluster, o: DbStackOptions = {}): Promise<DbStack> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-db-'));
  const role = o.role ?? `telegraf_${process.pid}_${n++}`;
  const leaked = generatePassword(40);
  await c.createRole(role, leaked);
  const envFile = join(dir, 'provider.env');
  writeFileSync(envFile, o.envText?.(leaked.reveal()) ?? `# provider stack\nTSDB_HOST=127.0.0.1\nTSDB_TELEGRAF_PASSWORD=${leaked.reveal()}\nTSDB_GRAFANA_PASSWORD=unchanged\n`, { mode: 0o640 });
  const pidFile = join(dir, 'telegraf.pid');
  const consumerRestart = consumerRestartArgv({ envFile, variable: 'TSDB_TELEGRAF_PASSWORD', port: c.port, role, app: 'telegraf', pidFile });
  if (o.startConsumer !== false) {
    const r = spawnSync(consumerRestart[0] ?? '', consumerRestart.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`consumer did not start: ${r.stderr}`);
  }
  const configPath = join(dir, 'firebreak.yaml');
  writeFileSync(configPath, stringify({
    version: 1, stateDir: 'state',
    provider: {
      timescaledb: {
        host: c.host, port: o.port ?? c.port, database: 'postgres', adminUser: c.adminUser, adminPassword: `env:${ADMIN_ENV}`, sslmode: 'disable',
        roles: {
          [role]: {
            envFile, variable: 'TSDB_TELEGRAF_PASSWORD', applicationName: 'telegraf', reconnectTimeout: o.reconnectTimeout ?? '15s',
            rollback: o.rollback ?? false, restart: { kind: 'command', argv: o.restartArgv?.(consumerRestart, dir) ?? consumerRestart },
          },
        },
      },
    },
  }));
  t.after(() => {
    if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });
  const alter = new RegExp(`statement: ALTER ROLE ${quoteIdent(role).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} PASSWORD`, 'g');
  return {
    dir, configPath, envFile, pidFile, role, leaked, consumerRestart, env: { [ADMIN_ENV]: c.adminPassword },
    envText: () => readFileSync(envFile, 'utf8'),
    async logsIn(password) {
      const client = new pg.Client({ host: c.host, port: c.port, user: role, password, database: 'postgres' });
      try { await client.connect(); return true; } catch { return false; } finally { await client.end().catch(() => undefined); }
    },
    passwordChanges: () => (readFileSync(c.logFile, 'utf8').match(alter) ?? []).length,
    async sessions() {
      return (await c.query('SELECT pid, application_name, backend_start FROM pg_stat_activity WHERE usename = $1', [role])).rows as { pid: number; application_name: string; backend_start: Date }[];
    },
  };
}
