import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { requireComponent } from '../helpers/shared.ts';
import { postgresProblem, serverLog, startCluster } from '../helpers/postgres.ts';
import { createPostgresClient, quoteIdent } from '../../src/connectors/postgres/postgres-client.ts';
import { scramVerifier } from '../../src/connectors/postgres/scram.ts';
import { Secret } from '../../src/lib/secret.ts';

test('real PostgreSQL: a client-side SCRAM verifier sets the password, the plaintext never reaches the server log, old sessions survive until terminated', async (t) => {
  if (!requireComponent(t, 'PostgreSQL', postgresProblem())) return;
  const c = await startCluster();
  t.after(() => c.stop());
  const oldPw = new Secret('old-telegraf-password-1');
  const newPw = new Secret(`new-${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`);
  await c.query(`CREATE ROLE telegraf LOGIN PASSWORD '${scramVerifier(oldPw)}'`);
  const weird = `te"le;gráf'); DROP TABLE x; --`;
  await c.query(`CREATE ROLE ${quoteIdent(weird)} LOGIN`);

  // PostgreSQL's own verifier for a known salt equals ours.
  await c.query("SET password_encryption = 'scram-sha-256'");
  await c.query(`CREATE ROLE probe LOGIN PASSWORD '${scramVerifier(new Secret('probe-password'), { salt: Buffer.alloc(16, 7) })}'`);
  const stored = (await c.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'probe'")).rows[0] as { rolpassword: string };
  assert.equal(stored.rolpassword, scramVerifier(new Secret('probe-password'), { salt: Buffer.alloc(16, 7) }));

  const leaked = new pg.Client({ host: c.host, port: c.port, user: 'telegraf', password: oldPw.reveal(), database: 'postgres', application_name: 'attacker' });
  leaked.on('error', () => undefined); // the server ends this session on purpose below
  await leaked.connect();

  const admin = createPostgresClient({ host: c.host, port: c.port, database: 'postgres', adminUser: c.adminUser, adminPassword: new Secret(c.adminPassword) });
  t.after(() => admin.close());
  const before = new Date();
  await admin.setRolePassword('telegraf', newPw);
  assert.deepEqual(await admin.testLogin('telegraf', newPw), { ok: true });
  assert.deepEqual(await admin.testLogin('telegraf', oldPw), { ok: false, reason: 'auth', message: 'password authentication failed for telegraf' });

  const survivors = await admin.sessionsOf('telegraf');
  assert.ok(survivors.some((s) => s.applicationName === 'attacker'), 'the leaked password\'s session survived ALTER ROLE');
  assert.deepEqual((await leaked.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
  const killed = await admin.terminateSessions('telegraf', before);
  assert.equal(killed.length, 1);
  await assert.rejects(leaked.query('SELECT 1'), /terminat|connection error/, 'the attacker\'s session is gone');
  await leaked.end().catch(() => undefined);

  await admin.setRolePassword(weird, newPw);
  assert.deepEqual(await admin.testLogin(weird, newPw), { ok: true }, 'a role name with quotes, semicolons and unicode is quoted, not injected');
  await assert.rejects(admin.setRolePassword('nobody', newPw), /role "nobody" does not exist/);

  const log = serverLog(c);
  assert.match(log, /ALTER ROLE "telegraf" PASSWORD 'SCRAM-SHA-256\$4096:/, 'statements are logged (log_statement=all)…');
  assert.ok(!log.includes(newPw.reveal()), '…but the new password never is');
  assert.ok(!log.includes(oldPw.reveal()));

  const wrong = createPostgresClient({ host: c.host, port: c.port, database: 'postgres', adminUser: c.adminUser, adminPassword: new Secret('not-the-admin-pw') });
  await assert.rejects(wrong.roleExists('telegraf'), (e: { code?: string; message?: string }) => e.code === 'AUTH_FAILED' && /refused the admin credential of postgres/.test(e.message ?? '') && !(e.message ?? '').includes('not-the-admin-pw'));
  await wrong.close();
  const down = createPostgresClient({ host: '127.0.0.1', port: 9, database: 'postgres', adminUser: 'postgres', adminPassword: new Secret('x-1234567') });
  await assert.rejects(down.roleExists('telegraf'), (e: { code?: string }) => e.code === 'UNAVAILABLE');
  await down.close();
});
