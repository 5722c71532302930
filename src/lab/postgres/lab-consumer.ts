// The lab's stand-in for a service that consumes a database credential
// (Telegraf, Grafana): it reads the password from a .env file, connects with
// an application_name, and stays connected. `restart` replaces the running
// instance the way `docker compose restart` would, and succeeds only once the
// new instance has connected with what the .env file now holds.
//
//   node lab-consumer.ts run|restart <env-file> <variable> <target> <role> <application-name> <pid-file>
//   target: <port> (127.0.0.1, database postgres) or <host>:<port>/<database>[?ssl]
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readEnvValue } from '../../connectors/dotenv/dotenv-file.ts';

const [mode, envFile, variable, port, role, appName, pidFile] = process.argv.slice(2);
if (mode === undefined || envFile === undefined || variable === undefined || port === undefined || role === undefined || appName === undefined || pidFile === undefined) {
  process.stderr.write('usage: lab-consumer.ts run|restart <env-file> <variable> <port> <role> <application-name> <pid-file>\n');
  process.exit(2);
}

if (mode === 'run') {
  const password = readEnvValue(readFileSync(envFile, 'utf8'), variable);
  const t = /^(?:(.+):)?(\d+)(?:\/([^?]+))?(\?ssl)?$/.exec(port);
  const client = new pg.Client({ host: t?.[1] ?? '127.0.0.1', port: Number(t?.[2]), user: role, password, database: t?.[3] ?? 'postgres', application_name: appName, ...(t?.[4] === undefined ? {} : { ssl: { rejectUnauthorized: false } }) });
  client.on('error', () => { process.exit(3); });
  try {
    await client.connect();
  } catch (err) {
    process.stderr.write(`${appName}: cannot connect as ${role}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  writeFileSync(pidFile, String(process.pid));
  setInterval(() => { client.query('SELECT 1').catch(() => process.exit(3)); }, 1000);
  process.on('SIGTERM', () => { void client.end().finally(() => process.exit(0)); });
} else if (mode === 'restart') {
  if (existsSync(pidFile)) {
    const old = Number(readFileSync(pidFile, 'utf8'));
    try { process.kill(old, 'SIGTERM'); } catch { /* already gone */ }
  }
  writeFileSync(pidFile, '');
  const log = openSync(`${pidFile}.log`, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'run', envFile, variable, port, role, appName, pidFile], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (readFileSync(pidFile, 'utf8') === String(child.pid)) process.exit(0);
    if (child.exitCode !== null || Date.now() > deadline) {
      process.stderr.write(`${appName} did not come back: ${existsSync(`${pidFile}.log`) ? readFileSync(`${pidFile}.log`, 'utf8').trim().split('\n').at(-1) ?? '' : ''}\n`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
