import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { parse } from 'yaml';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './cli-helpers.ts';
import { requireComponent } from '../helpers/shared.ts';
import { postgresProblem, startCluster } from '../helpers/postgres.ts';

interface DrillJson { labDir: string; config: string; drills: { playbook: string; status: string; report: string; phases: { phase: string; met: boolean | null }[] }[] }

test('drill runs every playbook against a fresh lab, writes the report and measures the RTO targets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-drill-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  // db-credential-leak drills on a real PostgreSQL that the drill starts; without one it is skipped (and CI fails here).
  const withPostgres = requireComponent(t, 'PostgreSQL', postgresProblem());
  const r = await run(['drill', '--json', '--dir', join(dir, 'lab')]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as DrillJson;
  assert.deepEqual(out.drills.map((d) => [d.playbook, d.status]), [['device-compromise', 'completed'], ['subca-compromise', 'completed'], ...(withPostgres ? [['db-credential-leak', 'completed']] : []), ['vault-breach', 'completed']]);
  // vault-breach: the drill played the key holders' quorum at the manual unseal step; the report lists what is not built.
  const vault = readFileSync(out.drills.find((d) => d.playbook === 'vault-breach')?.report ?? '', 'utf8');
  assert.match(vault, /Seal Vault \(last: a sealed Vault refuses revocation and auth changes\) \| containment \| vault \| irreversible \| applied/);
  assert.match(vault, /unseal-vault: approved by drill-operator/);
  assert.match(vault, /Re-create the roles from their recorded definitions \(AppRole role_ids kept\) \| recovery \| vault \| mutate \| applied/);
  assert.match(vault, /## Not built yet \(not done by this response\)/);
  if (withPostgres) {
    const db = readFileSync(out.drills[2]?.report ?? '', 'utf8');
    assert.match(db, /Verify: consumers use the new database password, nothing uses the old one \| recovery \| timescaledb \| mutate \| applied/);
    assert.match(db, /Nothing remains: every step completed/);
    assert.equal(spawnSync('pgrep', ['-f', join(dir, 'lab')]).status, 1, 'the drill stopped the consumer it started');
    const port = (parse(readFileSync(out.config, 'utf8')) as { provider: { timescaledb: { port: number } } }).provider.timescaledb.port;
    const refused = await new Promise<boolean>((resolve) => { const s = connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); resolve(false); }); s.on('error', () => { resolve(true); }); });
    assert.ok(refused, `the drill stopped its PostgreSQL (port ${port})`);
  }
  assert.ok(out.drills[0]?.phases.some((p) => p.phase === 'containment' && p.met === true));
  assert.ok(existsSync(out.drills[0]?.report ?? ''));
  assert.match(readFileSync(out.drills[0]?.report ?? '', 'utf8'), /Nothing remains: every step completed/);
  const verify = await run(['--config', out.config, 'audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout);
});

test('drill with injected faults still completes through retries, and prints its timeline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-drill-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const r = await run(['drill', 'device-compromise', '--dir', join(dir, 'lab'), '--error-rate', '0.15', '--latency', '5', '--seed', '4', '--devices', '5']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Timeline against RTO targets/);
  assert.match(r.stdout, /containment +[\d.]+ (ms|s) of 5m00s {2}met/);
  assert.match(r.stdout, /Drill passed/);
  assert.match(r.stdout, /\(attempt 2\)/, 'some step needed a retry (seed 4 injects faults into the run)');
  const bad = await run(['drill', 'device-compromise', '--error-rate', '2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--error-rate must be a number from 0 to 1/);
});

test('drill db-credential-leak --postgres: rehearses on a configured server with a throwaway role, dropped afterwards; the admin password stays in $PGPASSWORD', async (t) => {
  if (!requireComponent(t, 'PostgreSQL', postgresProblem())) return;
  const server = await startCluster();
  t.after(() => server.stop());
  const dir = mkdtempSync(join(tmpdir(), 'fb-drill-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const url = `postgres://${server.adminUser}@${server.host}:${server.port}/postgres?sslmode=disable`;
  const r = await run(['drill', 'db-credential-leak', '--dir', join(dir, 'lab'), '--postgres', url], { env: { PGPASSWORD: server.adminPassword } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Drill: db-credential-leak \{"stack":"provider","role":"firebreak_drill_[0-9a-f]{8}"\}/);
  assert.match(r.stdout, /Drill passed/);
  const left = await server.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'firebreak_drill_%'");
  assert.equal(left.rowCount, 0, 'the drill role was dropped');
  assert.ok(!readFileSync(join(dir, 'lab', 'firebreak.yaml'), 'utf8').includes(server.adminPassword), 'the configuration refers to $PGPASSWORD instead of holding it');

  const withPassword = await run(['drill', 'db-credential-leak', '--postgres', `postgres://admin:hunter2@${server.host}:${server.port}/postgres`]);
  assert.equal(withPassword.code, 2);
  assert.match(withPassword.stderr, /--postgres must not contain a password \(it would be on the command line\): set \$PGPASSWORD instead/);
  const noPassword = await run(['drill', 'db-credential-leak', '--postgres', url], { env: { PGPASSWORD: '' } });
  assert.equal(noPassword.code, 6);
  assert.match(noPassword.stderr, /--postgres needs the admin password in \$PGPASSWORD/);
});
