import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvValue, rewriteEnvVariable, setEnvValue } from '../../src/connectors/dotenv/dotenv-file.ts';
import { restartCommand, restartService } from '../../src/connectors/restart/restart-service.ts';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { Secret } from '../../src/lib/secret.ts';

const FILE = [
  '# provider stack',
  'TSDB_HOST=tsdb',
  '',
  'TSDB_TELEGRAF_PASSWORD=old-secret # rotated 2026-01',
  "export TSDB_GRAFANA_PASSWORD='old grafana'",
  'OTHER="keep me"',
].join('\n') + '\n';

test('one variable changes; every other byte stays', () => {
  const out = setEnvValue(FILE, 'TSDB_TELEGRAF_PASSWORD', 'N3w-P4ss_word');
  assert.equal(out, FILE.replace('old-secret', 'N3w-P4ss_word'));
  assert.equal(readEnvValue(out, 'TSDB_TELEGRAF_PASSWORD'), 'N3w-P4ss_word');
  const grafana = setEnvValue(FILE, 'TSDB_GRAFANA_PASSWORD', 'abc def');
  assert.match(grafana, /^export TSDB_GRAFANA_PASSWORD='abc def'$/m, 'export prefix and single quotes kept');
  assert.equal(readEnvValue(FILE, 'OTHER'), 'keep me');
});

test('CRLF files stay CRLF; values needing quotes are quoted; unsafe values and missing variables are refused', () => {
  const crlf = FILE.replace(/\n/g, '\r\n');
  const out = setEnvValue(crlf, 'TSDB_HOST', 'db2');
  assert.equal(out, crlf.replace('TSDB_HOST=tsdb', 'TSDB_HOST=db2'));
  assert.match(setEnvValue(FILE, 'TSDB_HOST', 'a b#c'), /^TSDB_HOST='a b#c'$/m);
  assert.match(setEnvValue(FILE, 'OTHER', "it's"), /^OTHER="it's"$/m, 'double quotes kept when the value allows');
  assert.match(setEnvValue(FILE, 'OTHER', 'a$b'), /^OTHER='a\$b'$/m, 'no expansion: single quotes when $ appears');
  assert.throws(() => setEnvValue(FILE, 'TSDB_HOST', 'x\ny'), /line break/);
  assert.throws(() => setEnvValue(FILE, 'MISSING', 'x'), /MISSING is not set in the file \(nothing was changed\)/);
  assert.throws(() => setEnvValue(FILE, 'BAD NAME', 'x'), /not an environment variable name/);
  assert.equal(readEnvValue('A=1\nA=2\n', 'A'), '2', 'the last assignment wins, as in docker compose');
  assert.equal(setEnvValue('A=1\nA=2\n', 'A', '3'), 'A=3\nA=3\n', 'every assignment is replaced: no stale copy survives');
});

test('the rewrite is atomic, keeps mode, leaves a 0600 backup, and writes nothing when the variable is absent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-env-'));
  try {
    const ex = createLocalExecutor();
    const env = join(dir, '.env');
    writeFileSync(env, FILE);
    chmodSync(env, 0o640);
    const { backup, changed } = await rewriteEnvVariable(ex, env, 'TSDB_TELEGRAF_PASSWORD', new Secret('fresh-value-123'), new Date('2026-11-25T05:00:00Z'));
    assert.equal(changed, true);
    assert.equal(readFileSync(env, 'utf8'), FILE.replace('old-secret', 'fresh-value-123'));
    assert.equal(statSync(env).mode & 0o777, 0o640);
    assert.equal(readFileSync(backup, 'utf8'), FILE);
    assert.equal(statSync(backup).mode & 0o777, 0o600);
    const files = readdirSync(dir).sort();
    await assert.rejects(rewriteEnvVariable(ex, env, 'NOPE', new Secret('x-1234567')), /NOPE is not set/);
    assert.deepEqual(readdirSync(dir).sort(), files, 'nothing written for a missing variable');
    await assert.rejects(rewriteEnvVariable(ex, join(dir, 'missing.env'), 'A', new Secret('x-1234567')), (e: { code?: string }) => e.code === 'NOT_FOUND');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restart adapters: the exact commands, and a failing restart names the service and quotes stderr', async () => {
  assert.deepEqual(restartCommand({ kind: 'compose', projectDir: '/srv/provider', service: 'telegraf' }), { argv: ['docker', 'compose', 'restart', 'telegraf'], cwd: '/srv/provider', describe: 'compose service telegraf in /srv/provider' });
  assert.deepEqual(restartCommand({ kind: 'systemd', unit: 'telegraf.service' }).argv, ['systemctl', 'restart', 'telegraf.service']);
  const ex = createLocalExecutor();
  assert.deepEqual(await restartService({ kind: 'command', argv: [process.execPath, '-e', 'process.exit(0)'] }, ex), { describe: `command ${process.execPath}` });
  await assert.rejects(restartService({ kind: 'command', argv: [process.execPath, '-e', 'console.error("unit failed to start"); process.exit(4)'] }, ex), /restarting command .* on local failed \(exit 4\): unit failed to start/);
});
