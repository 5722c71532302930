import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterPerFile, serverLog } from '../helpers/postgres.ts';
import { dbStackFor, type DbStack } from '../helpers/db-stack.ts';
import { readEnvValue } from '../../src/connectors/dotenv/dotenv-file.ts';
import { filesBelow, run, type CliResult } from './cli-helpers.ts';

// One throwaway cluster (initdb, random port, log_statement=all) for this file.
const useCluster = clusterPerFile();

interface RunJson { runId: string; incidentId: string; status: string; error: { code: string; message: string } | null; failed: unknown[] }

function rotate(s: DbStack, extra: string[] = []): Promise<CliResult> {
  return run(['--config', s.configPath, 'run', 'db-credential-leak', '--stack', 'provider', '--role', s.role, '--yes', '--json', ...extra], { env: s.env });
}
const parsed = (r: CliResult) => JSON.parse(r.stdout) as RunJson;
function envPassword(text: string): string {
  const v = readEnvValue(text, 'TSDB_TELEGRAF_PASSWORD');
  assert.ok(v !== undefined, `TSDB_TELEGRAF_PASSWORD is in the .env:\n${text}`);
  return v;
}

test('db-credential-leak: one run rotates the role, rewrites only its .env line, restarts the consumer, ends the leaked sessions; the new password is in no log, output, journal, audit entry or report', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const s = await dbStackFor(t, c);
  const before = s.envText();
  const leakedSessions = await s.sessions();
  assert.equal(leakedSessions.length, 1, 'the consumer is connected with the leaked password');
  const startedAt = new Date();

  const r = await rotate(s);
  assert.equal(r.code, 0, r.stderr);
  const out = parsed(r);
  assert.equal(out.status, 'completed');

  const after = s.envText();
  const fresh = envPassword(after);
  assert.notEqual(fresh, s.leaked.reveal());
  assert.match(fresh, /^[A-Za-z0-9_-]{40}$/, 'a 40-character ASCII password from the CSPRNG');
  assert.equal(after, before.replace(s.leaked.reveal(), fresh), 'every other byte of the .env is kept');
  const backups = readdirSync(s.dir).filter((f) => f.startsWith('provider.env.') && f.endsWith('.bak'));
  assert.equal(backups.length, 1, `one backup of the previous .env: ${readdirSync(s.dir).join(', ')}`);
  const backup = join(s.dir, backups[0] ?? '');
  assert.equal(readFileSync(backup, 'utf8'), before);
  assert.equal(statSync(backup).mode & 0o777, 0o600);
  assert.equal(statSync(s.envFile).mode & 0o777, 0o640, 'the .env keeps its mode');

  assert.equal(await s.logsIn(fresh), true, 'the new password logs in');
  assert.equal(await s.logsIn(s.leaked.reveal()), false, 'the leaked one is refused');
  assert.equal(s.passwordChanges(), 1, 'exactly one ALTER ROLE … PASSWORD');
  const sessions = await s.sessions();
  assert.ok(sessions.length >= 1 && sessions.every((x) => x.backend_start > startedAt), `only sessions opened after the rotation remain: ${JSON.stringify(sessions)}`);
  assert.ok(!sessions.some((x) => x.pid === leakedSessions[0]?.pid), 'the leaked session was terminated');

  // Reports and the audit export, then grep everything Firebreak wrote, the CLI printed and the server logged.
  const c2 = ['--config', s.configPath];
  for (const format of ['md', 'html', 'json']) {
    const rep = await run([...c2, 'report', out.incidentId, '--format', format, '--out', join(s.dir, `report.${format}`)], { env: s.env });
    assert.equal(rep.code, 0, rep.stderr);
  }
  const exp = await run([...c2, 'audit', 'export', '--out', join(s.dir, 'audit.jsonl')], { env: s.env });
  assert.equal(exp.code, 0, exp.stderr);
  const shown = await run([...c2, 'runs', 'show', out.runId, '--json'], { env: s.env });
  assert.equal(shown.code, 0, shown.stderr);
  const report = readFileSync(join(s.dir, 'report.md'), 'utf8');
  assert.match(report, /Set the new database password at the source \| containment \| timescaledb \| irreversible \| applied/);
  assert.match(report, /Verify: consumers use the new database password, nothing uses the old one \| recovery \| timescaledb \| mutate \| applied/);
  const audit = readFileSync(join(s.dir, 'audit.jsonl'), 'utf8');
  assert.match(audit, /sha256:[0-9a-f]{16}/, 'the audit trail names the new value by fingerprint only');

  const outputs: [string, string][] = [
    ['server log', serverLog(c)], ['run stdout', r.stdout], ['run stderr', r.stderr], ['runs show', shown.stdout + shown.stderr],
    ...filesBelow(s.dir, [s.envFile]).map((f): [string, string] => [f, readFileSync(f).toString('latin1')]),
  ];
  assert.ok(outputs.length >= 8, `grepped ${outputs.length} outputs`);
  for (const [what, text] of outputs) assert.equal(text.split(fresh).length - 1, 0, `the new password appears in ${what}`);
  assert.ok(existsSync(join(s.dir, 'state')), 'the journal lives in the state dir that was grepped');
});

test('db-credential-leak: role names with quotes, semicolons and unicode are rotated as identifiers; .env with CRLF, export and quotes keeps its form', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const role = `app"; DROP ROLE postgres; --ü${process.pid}`;
  const s = await dbStackFor(t, c, {
    role,
    envText: (leaked) => `# windows-edited\r\nexport TSDB_HOST="db"\r\nexport TSDB_TELEGRAF_PASSWORD="${leaked}"\r\nOTHER='x y'\r\n`,
  });
  const r = await rotate(s);
  assert.equal(r.code, 0, r.stderr);
  const text = s.envText();
  const fresh = envPassword(text);
  assert.match(text, new RegExp(`^# windows-edited\\r\\nexport TSDB_HOST="db"\\r\\nexport TSDB_TELEGRAF_PASSWORD=("?)${fresh}\\1\\r\\nOTHER='x y'\\r\\n$`));
  assert.equal(await s.logsIn(fresh), true);
  assert.equal(s.passwordChanges(), 1);
  assert.equal(((await c.query('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', ['postgres'])).rows[0] as { n: number } | undefined)?.n, 1, 'nothing was injected');
});

async function assertNothingChanged(s: DbStack, before: string): Promise<void> {
  assert.equal(s.envText(), before, 'the .env is byte-for-byte unchanged');
  assert.equal(s.passwordChanges(), 0, 'the password was not changed');
  assert.equal(await s.logsIn(s.leaked.reveal()), true, 'the old password still works (nothing was applied)');
}

test('db-credential-leak: bad input before any change — unknown role, unconfigured role, .env missing, unreadable or without the variable, database unreachable, admin credential wrong', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const cases: { name: string; setup: (s: DbStack) => void | Promise<void>; args?: (s: DbStack) => string[]; env?: Record<string, string>; port?: number; code: number; message: RegExp }[] = [
    { name: 'role configured but absent from the database', setup: async (s) => { await c.query(`DROP ROLE IF EXISTS "${s.role}"`); }, code: 4, message: /role "telegraf_\d+_\d+" does not exist in the provider database/ },
    { name: 'role not configured', setup: () => undefined, args: () => ['--role', 'grafana'], code: 4, message: /role "grafana" is not configured under provider\.timescaledb\.roles/ },
    { name: 'tenant stack unknown', setup: () => undefined, args: () => ['--stack', 'tenant:nope'], code: 4, message: /unknown tenant "nope"/ },
    { name: '.env missing', setup: (s) => { rmSync(s.envFile); }, code: 4, message: /provider\.env/ },
    { name: '.env unreadable (a directory)', setup: (s) => { rmSync(s.envFile); mkdirSync(s.envFile); }, code: 7, message: /provider\.env/ },
    { name: '.env without the variable', setup: (s) => { writeFileSync(s.envFile, 'TSDB_HOST=db\n'); }, code: 4, message: /TSDB_TELEGRAF_PASSWORD/ },
    { name: 'database unreachable', setup: () => undefined, port: 1, code: 7, message: /127\.0\.0\.1:1/ },
    { name: 'admin credential wrong', setup: () => undefined, env: { FB_TEST_PG_ADMIN: 'wrong-admin-password' }, code: 6, message: /postgres.*127\.0\.0\.1|authentication/i },
  ];
  for (const k of cases) {
    await t.test(k.name, async (tt) => {
      const s = await dbStackFor(tt, c, k.port === undefined ? {} : { port: k.port, startConsumer: false });
      await k.setup(s);
      const before = existsSync(s.envFile) && statSync(s.envFile).isFile() ? s.envText() : '';
      const argv = ['--config', s.configPath, 'run', 'db-credential-leak', '--stack', 'provider', '--role', s.role, ...(k.args?.(s) ?? []), '--yes'];
      const r = await run(argv, { env: { ...s.env, ...k.env } });
      assert.equal(r.code, k.code, `${k.name}: exit code\n${r.stderr}`);
      const said = r.stdout + r.stderr;
      assert.match(said, k.message, said);
      assert.doesNotMatch(said, /\n\s+at /, 'no stack trace');
      assert.ok(!said.includes(c.adminPassword), 'the admin password is not printed');
      if (before !== '' && k.name !== 'role configured but absent from the database') await assertNothingChanged(s, before);
    });
  }
});

test('db-credential-leak: a failing restart stops the run after the .env is written; once the service can restart, resume finishes with one password change', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  // The restart refuses while a flag file exists (a masked unit), then works.
  const s = await dbStackFor(t, c, { restartArgv: (argv, dir) => ['/bin/sh', '-c', 'if [ -e "$0" ]; then echo "restart refused: unit masked" >&2; exit 1; fi; exec "$@"', join(dir, 'restart-fails'), ...argv] });
  const flag = join(s.dir, 'restart-fails');
  writeFileSync(flag, '');
  const r = await rotate(s);
  assert.equal(r.code, 7, r.stdout + r.stderr);
  const out = parsed(r);
  assert.equal(out.status, 'failed');
  assert.match(out.error?.message ?? '', /password-restart.*restart refused: unit masked/);
  const fresh = envPassword(s.envText());
  assert.notEqual(fresh, s.leaked.reveal(), 'the .env was propagated before the restart failed');
  assert.equal(await s.logsIn(fresh), true);

  rmSync(flag);
  const resumed = await run(['--config', s.configPath, 'resume', out.runId, '--json'], { env: s.env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(parsed(resumed).status, 'completed');
  assert.equal(envPassword(s.envText()), fresh, 'resume applied the same password');
  assert.equal(s.passwordChanges(), 1);
  assert.ok((await s.sessions()).some((x) => x.application_name === 'telegraf'), 'the consumer is back');
});

test('db-credential-leak: a service that never reconnects fails verification after the timeout; with rollback the previous .env returns and the database keeps the new password', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const s = await dbStackFor(t, c, { restartArgv: () => ['/bin/true'], reconnectTimeout: '2s', rollback: true, startConsumer: false });
  const before = s.envText();
  const r = await rotate(s);
  assert.equal(r.code, 8, r.stdout + r.stderr);
  const out = parsed(r);
  assert.match(out.error?.message ?? '', /telegraf did not reconnect within 2000 ms/);
  assert.equal(s.envText(), before, 'rollback restored the previous .env');
  assert.equal(s.passwordChanges(), 1, 'the database keeps the new password');
  assert.equal(await s.logsIn(s.leaked.reveal()), false, 'the leaked password stays burnt');
  const rep = await run(['--config', s.configPath, 'runs', 'show', out.runId, '--json'], { env: s.env });
  assert.equal(rep.code, 0, rep.stderr);
  const steps = (JSON.parse(rep.stdout) as { steps: { stepId: string; status: string }[] }).steps;
  assert.deepEqual(steps.filter((x) => x.stepId === 'compensate-password-propagate').map((x) => x.status), ['completed'], 'the rollback ran as the propagate step\'s compensation');
});

test('db-credential-leak: a service that never reconnects, without rollback, can be fixed and resumed: verify passes, nothing is rotated twice', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const s = await dbStackFor(t, c, { restartArgv: () => ['/bin/true'], reconnectTimeout: '1s', startConsumer: false });
  const r = await rotate(s);
  assert.equal(r.code, 8, r.stdout + r.stderr);
  const out = parsed(r);
  assert.match(out.error?.message ?? '', /did not reconnect/);
  // The operator starts the service by hand (it reads the new .env), then resumes.
  chmodSync(s.envFile, 0o640);
  const started = spawnSync(s.consumerRestart[0] ?? '', s.consumerRestart.slice(1), { encoding: 'utf8' });
  assert.equal(started.status, 0, started.stderr);
  const resumed = await run(['--config', s.configPath, 'resume', out.runId, '--json'], { env: s.env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(parsed(resumed).status, 'completed');
  assert.equal(s.passwordChanges(), 1);
});
