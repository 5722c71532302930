// The lab's stand-in for a service that consumes a database credential
// (Telegraf, Grafana): `run` reads the password from a .env file, connects to
// PostgreSQL with an application_name and stays connected; `restart` is what
// the restart adapter runs, as `docker compose restart` would: it stops the
// instance named in the pid file and starts a new one, succeeding only once
// the new one has connected with what the .env file now holds.
//
//   lab-consumer.ts run|restart --env-file F --variable V --port P --role R --app A --pid-file F [--host H] [--database D] [--ssl]
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { readEnvValue } from '../../connectors/dotenv/dotenv-file.ts';

export interface ConsumerOptions {
  readonly envFile: string;
  readonly variable: string;
  readonly host?: string;
  readonly port: number;
  readonly database?: string;
  readonly ssl?: boolean;
  readonly role: string;
  readonly app: string;
  readonly pidFile: string;
}

export const CONSUMER = fileURLToPath(import.meta.url);

/** The argv of the consumer's `restart`: what a `restart: {kind: command}` runs. */
export function consumerRestartArgv(o: ConsumerOptions): string[] {
  return [process.execPath, CONSUMER, 'restart', '--env-file', o.envFile, '--variable', o.variable, '--port', String(o.port), '--role', o.role, '--app', o.app, '--pid-file', o.pidFile,
    ...(o.host === undefined ? [] : ['--host', o.host]), ...(o.database === undefined ? [] : ['--database', o.database]), ...(o.ssl === true ? ['--ssl'] : [])];
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'env-file': { type: 'string' }, variable: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' },
      role: { type: 'string' }, database: { type: 'string', default: 'postgres' }, app: { type: 'string' }, 'pid-file': { type: 'string' }, ssl: { type: 'boolean', default: false },
    },
  });
  const mode = positionals[0];
  const { 'env-file': envFile, variable, host, port, role, database, app, 'pid-file': pidFile, ssl } = values;
  if ((mode !== 'run' && mode !== 'restart') || envFile === undefined || variable === undefined || port === undefined || role === undefined || app === undefined || pidFile === undefined) {
    process.stderr.write('usage: lab-consumer.ts run|restart --env-file F --variable V --port P --role R --app A --pid-file F [--host H] [--database D] [--ssl]\n');
    process.exit(2);
  }
  if (mode === 'run') {
    const password = readEnvValue(readFileSync(envFile, 'utf8'), variable);
    const client = new pg.Client({ host, port: Number(port), user: role, password, database, application_name: app, ...(ssl ? { ssl: { rejectUnauthorized: false } } : {}) });
    // The server ending the session (pg_terminate_backend) ends this instance, as a real consumer would crash-loop.
    client.on('error', () => { process.exit(3); });
    try {
      await client.connect();
    } catch (err) {
      process.stderr.write(`${app}: cannot connect as ${role}: ${(err as Error).message}\n`);
      process.exit(1);
    }
    writeFileSync(pidFile, String(process.pid));
    setInterval(() => { client.query('SELECT 1').catch(() => process.exit(3)); }, 1000);
    process.on('SIGTERM', () => { void client.end().finally(() => process.exit(0)); });
    return;
  }
  const old = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (old > 0 && alive(old)) {
    process.kill(old, 'SIGTERM');
    for (let i = 0; i < 100 && alive(old); i++) await sleep(50);
  }
  writeFileSync(pidFile, '');
  const logFile = `${pidFile}.log`;
  const child = spawn(process.execPath, [CONSUMER, 'run', ...process.argv.slice(3)], { detached: true, stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] });
  child.unref();
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (readFileSync(pidFile, 'utf8') === String(child.pid)) process.exit(0);
    if (child.exitCode !== null || Date.now() > deadline) {
      process.stderr.write(`${app} did not come back: ${readFileSync(logFile, 'utf8').trim().split('\n').at(-1) ?? ''}\n`);
      process.exit(1);
    }
    await sleep(50);
  }
}

// Run as a program; imported (for its argv helper) it does nothing.
if (process.argv[1] === CONSUMER) await main();
