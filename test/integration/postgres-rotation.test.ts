import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { clusterPerFile, serverLog, type Cluster } from '../helpers/postgres.ts';
import { createPostgresClient, type PostgresClient } from '../../src/connectors/postgres/postgres-client.ts';
import { parseScramVerifier, scramVerifier } from '../../src/connectors/postgres/scram.ts';
import { readEnvVariable, rewriteEnvVariable } from '../../src/connectors/dotenv/dotenv-file.ts';
import { restartService, type RestartSpec } from '../../src/connectors/restart/restart-service.ts';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { consumerRestartArgv } from '../../src/lab/postgres/lab-consumer.ts';
import type { FirebreakError } from '../../src/lib/errors.ts';
import { Secret } from '../../src/lib/secret.ts';


const useCluster = clusterPerFile();

function adminOf(t: TestContext, c: Cluster): PostgresClient {
  const admin = createPostgresClient({ host: c.host, port: c.port, database: 'postgres', adminUser: c.adminUser, adminPassword: new Secret(c.adminPassword) });
  t.after(() => admin.close());
  return admin;
}

const freshPassword = () => new Secret(randomBytes(30).toString('base64url'));
const isCode = (code: string, re: RegExp = /./) => (e: unknown) => (e as FirebreakError).code === code && re.test((e as Error).message);

test('postgres: the client-side SCRAM verifier equals the one PostgreSQL computes itself (same salt and iterations), ASCII and SASLprep cases', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const admin = adminOf(t, c);
  // Probe passwords only: PostgreSQL hashes them itself, so they appear in its statement log by design.
  const probes = ['probe-Password-1', 'pässwörd\u00AD \u2163\u00A0x', '\uFF21\uFF22c-\u00E9', 'ctl\u0007-é'];
  for (const [i, plain] of probes.entries()) {
    await c.query(`SET password_encryption = 'scram-sha-256'; CREATE ROLE probe${i} LOGIN PASSWORD ${pg.escapeLiteral(plain)}`);
    const row = (await c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [`probe${i}`])).rows[0] as { rolpassword: string } | undefined;
    const stored = row?.rolpassword ?? '';
    const parts = parseScramVerifier(stored);
    assert.ok(parts !== undefined, `PostgreSQL stored a SCRAM verifier: ${stored.slice(0, 14)}`);
    assert.equal(scramVerifier(new Secret(plain), { iterations: parts.iterations, salt: parts.salt }), stored, `verifier of probe ${i}`);
  }
  // The other way round: a verifier made here lets exactly that password in (pg logs in with SCRAM, normalising non-ASCII).
  await c.createRole('probe_login');
  for (const plain of ['Zx9-ascii-only', 'Ⅳ-ünïcode\u00A0pw']) {
    await admin.setRolePassword('probe_login', new Secret(plain));
    assert.deepEqual(await admin.testLogin('probe_login', new Secret(plain)), { ok: true }, plain);
    assert.equal((await admin.testLogin('probe_login', new Secret(`${plain}x`))).ok, false);
  }
  assert.equal(parseScramVerifier('md5abcdef'), undefined);
  assert.match(scramVerifier(new Secret('p'), { iterations: 10_000 }), /^SCRAM-SHA-256\$10000:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
});

test('postgres: full manual rotation — verifier set, new logs in, old refused, .env rewritten, client restarted and reconnected, the leaked session terminated, plaintext never in the server log', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const admin = adminOf(t, c);
  const dir = mkdtempSync(join(tmpdir(), 'fb-rot-'));
  const pidFile = join(dir, 'client.pid');
  t.after(() => {
    try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM'); } catch { /* not running */ }
    rmSync(dir, { recursive: true, force: true });
  });
  const oldPw = freshPassword();
  await c.createRole('telegraf', oldPw);
  const envFile = join(dir, '.env');
  const original = `# provider stack\r\nTSDB_HOST=${c.host}\r\nexport TSDB_TELEGRAF_PASSWORD="${oldPw.reveal()}" # leaked in CI logs\r\nTSDB_GRAFANA_PASSWORD=unchanged-grafana\r\n`;
  writeFileSync(envFile, original, { mode: 0o640 });
  const restart: RestartSpec = { kind: 'command', argv: consumerRestartArgv({ envFile, variable: 'TSDB_TELEGRAF_PASSWORD', port: c.port, role: 'telegraf', app: 'telegraf-standin', pidFile }) };
  const ex = createLocalExecutor();

  // Before the incident: the consumer runs with the (soon leaked) password, and so does an attacker.
  const t0 = new Date();
  await restartService(restart, ex);
  const first = await admin.waitForReconnect('telegraf', { after: t0, applicationName: 'telegraf-standin', timeoutMs: 10_000 });
  const attacker = new pg.Client({ host: c.host, port: c.port, user: 'telegraf', password: oldPw.reveal(), database: 'postgres', application_name: 'attacker' });
  attacker.on('error', () => undefined); // the server ends this session on purpose below
  await attacker.connect();
  t.after(() => attacker.end().catch(() => undefined));

  // Rotation.
  const started = performance.now();
  const rotationStart = new Date();
  const newPw = freshPassword();
  await admin.setRolePassword('telegraf', newPw);
  assert.deepEqual(await admin.testLogin('telegraf', newPw), { ok: true });
  assert.deepEqual(await admin.testLogin('telegraf', oldPw), { ok: false, reason: 'auth', message: 'password authentication failed for telegraf' });

  // ALTER ROLE does not end sessions: the leaked password's session still works.
  assert.deepEqual((await attacker.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the attacker\'s session survived ALTER ROLE');
  assert.ok((await admin.sessionsOf('telegraf')).some((s) => s.applicationName === 'attacker' && s.clientAddr === '127.0.0.1/32'));

  const { backup } = await rewriteEnvVariable(ex, envFile, 'TSDB_TELEGRAF_PASSWORD', newPw);
  assert.equal(readFileSync(envFile, 'utf8'), original.replace(oldPw.reveal(), newPw.reveal()), 'only the value changed: CRLF, export, quotes and comment kept');
  assert.ok((await readEnvVariable(ex, envFile, 'TSDB_TELEGRAF_PASSWORD')).equals(newPw));
  assert.ok(backup !== undefined && statSync(backup).mode % 0o1000 === 0o600);

  const restartAt = new Date();
  await restartService(restart, ex);
  const fresh = await admin.waitForReconnect('telegraf', { after: restartAt, applicationName: 'telegraf-standin', timeoutMs: 10_000 });
  assert.notEqual(fresh.pid, first.pid, 'a new backend: the consumer logged in again, with the new password');

  const terminated = await admin.terminateSessions('telegraf', rotationStart);
  assert.ok(terminated.some((s) => s.applicationName === 'attacker'), 'the attacker\'s session is terminated');
  assert.ok(terminated.every((s) => s.backendStart < rotationStart));
  await assert.rejects(attacker.query('SELECT 1'), /terminat|Connection/i, 'and it is really gone');
  t.diagnostic(`rotation to reconnect and termination: ${Math.round(performance.now() - started)} ms`);

  // The consumer's new session survives the termination sweep.
  await new Promise((r) => setTimeout(r, 300));
  const left = await admin.sessionsOf('telegraf');
  assert.deepEqual(left.map((s) => s.pid), [fresh.pid], 'only the restarted consumer remains');

  const log = serverLog(c);
  assert.match(log, /ALTER ROLE "telegraf" PASSWORD 'SCRAM-SHA-256\$4096:/, 'statements are logged (log_statement=all)…');
  assert.equal(log.split(newPw.reveal()).length - 1, 0, '…but the new password never is');
  assert.equal(log.split(oldPw.reveal()).length - 1, 0);
});

test('postgres: role names with quotes, semicolons, backslashes and unicode are quoted, never injected; unknown and over-long roles are refused', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const admin = adminOf(t, c);
  const pw = freshPassword();
  const names = [`te"le;gráf'); DROP ROLE postgres; --`, 'Робот ü', 'back\\slash', '"', "'; ALTER ROLE postgres PASSWORD 'x"];
  for (const name of names) {
    // Created through the server's own quote_ident, so the test does not trust our quoting to set itself up.
    const ident = ((await c.query('SELECT quote_ident($1) AS q', [name])).rows[0] as { q: string }).q;
    await c.query(`CREATE ROLE ${ident} LOGIN`);
    assert.equal(await admin.roleExists(name), true, name);
    await admin.setRolePassword(name, pw);
    assert.deepEqual(await admin.testLogin(name, pw), { ok: true }, `${name} logs in with its new password`);
  }
  assert.deepEqual(await admin.testLogin('postgres', new Secret(c.adminPassword)), { ok: true }, 'the superuser was not touched');
  const superusers = (await c.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'postgres'")).rows[0] as { n: number } | undefined;
  assert.equal(superusers?.n, 1);

  await assert.rejects(admin.setRolePassword('nobody', pw), isCode('NOT_FOUND', /role "nobody" does not exist at PostgreSQL at 127\.0\.0\.1:\d+\/postgres; no password was set/));
  assert.doesNotMatch(serverLog(c), /ALTER ROLE "nobody"/, 'nothing was sent for the unknown role');
  await assert.rejects(admin.setRolePassword('x'.repeat(64), pw), isCode('INVALID_INPUT', /longer than PostgreSQL's 63 bytes/));
  await assert.rejects(admin.setRolePassword('é'.repeat(32), pw), isCode('INVALID_INPUT', /63 bytes/), '64 bytes in 32 characters');
  await assert.rejects(admin.setRolePassword('a\0b', pw), isCode('INVALID_INPUT'));
  await assert.rejects(admin.waitForReconnect('nobody', { after: new Date(), timeoutMs: 300, intervalMs: 50 }), isCode('TIMEOUT', /no session of role "nobody" started after/));
});

test('postgres: wrong admin credential is AUTH_FAILED naming user and host, never the password; an unreachable server is UNAVAILABLE', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  const wrong = createPostgresClient({ host: c.host, port: c.port, database: 'postgres', adminUser: c.adminUser, adminPassword: new Secret('not-the-admin-pw') });
  t.after(() => wrong.close());
  await assert.rejects(wrong.roleExists('telegraf'), (e: unknown) => {
    const err = e as FirebreakError;
    assert.equal(err.code, 'AUTH_FAILED');
    assert.match(err.message, /^PostgreSQL at 127\.0\.0\.1:\d+\/postgres refused the admin credential of postgres \(28P01\)/);
    assert.ok(!err.message.includes('not-the-admin-pw') && !JSON.stringify(err.details ?? {}).includes('not-the-admin-pw'));
    return true;
  });
  await assert.rejects(wrong.setRolePassword('telegraf', freshPassword()), isCode('AUTH_FAILED'));

  // A port nothing listens on: taken from the OS, then released.
  const port = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0); }); }); });
  const down = createPostgresClient({ host: '127.0.0.1', port, database: 'postgres', adminUser: 'postgres', adminPassword: new Secret('x-1234567'), connectTimeoutMs: 2000 });
  t.after(() => down.close());
  await assert.rejects(down.roleExists('telegraf'), isCode('UNAVAILABLE', /is unreachable \(ECONNREFUSED\); looking up role "telegraf" was not done/));
  await assert.rejects(down.terminateSessions('telegraf', new Date()), isCode('UNAVAILABLE'));
  const admin = adminOf(t, c);
  const r = await admin.testLogin('telegraf', freshPassword(), { port });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'unreachable');
});
