import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { clusterPerFile } from '../helpers/postgres.ts';
import { dbStackFor } from '../helpers/db-stack.ts';
import { readEnvValue } from '../../src/connectors/dotenv/dotenv-file.ts';
import { run } from './cli-helpers.ts';
import { crashInside, crashRun } from '../helpers/crash-run.ts';

// One throwaway cluster (initdb, random port, log_statement=all) for this file.
const useCluster = clusterPerFile();

/** Every boundary of the run: after the plan, each assessment step, and each phase of the staged rotation. */
const BOUNDARIES = ['plan', 'resolve-role', 'capture-sessions', 'password-create', 'password-set', 'password-test', 'password-propagate', 'password-restart', 'password-verify', 'password-finish'];

test('db-credential-leak: SIGKILL after every phase boundary, then `firebreak resume`: exactly one password change, a consistent .env, the consumer on the new password', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  for (const stepId of BOUNDARIES) {
    await t.test(`killed after ${stepId}`, async (tt) => {
      const s = await dbStackFor(tt, c);
      const before = s.envText();
      const crashed = await crashRun(s.configPath, stepId, 'db-credential-leak', { stack: 'provider', role: s.role }, s.env);
      assert.equal(crashed.signal, 'SIGKILL', `the process died at the boundary: ${crashed.stdout}${crashed.stderr}`);
      assert.match(crashed.runId, /^run-/);

      const resumed = await run(['--config', s.configPath, 'resume', crashed.runId, '--json'], { env: s.env });
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      assert.equal((JSON.parse(resumed.stdout) as { status: string }).status, 'completed');

      const text = s.envText();
      const fresh = readEnvValue(text, 'TSDB_TELEGRAF_PASSWORD') ?? '';
      assert.notEqual(fresh, s.leaked.reveal(), 'the .env holds a new password');
      assert.equal(text, before.replace(s.leaked.reveal(), fresh), 'the .env differs only in that value');
      assert.equal(s.passwordChanges(), 1, 'exactly one ALTER ROLE … PASSWORD across the crash and the resume');
      assert.equal(await s.logsIn(fresh), true, 'the .env\'s password is the database\'s');
      assert.equal(await s.logsIn(s.leaked.reveal()), false);
      assert.equal(readdirSync(s.dir).filter((f) => f.endsWith('.bak')).length, 1, 'the .env was rewritten once');
      const sessions = await s.sessions();
      assert.ok(sessions.some((x) => x.application_name === 'telegraf'), 'the consumer is connected');
    });
  }
});

test('db-credential-leak: SIGKILL inside each step that changes something (its effect applied, not journaled), then resume: one password change, one .env rewrite', async (t) => {
  const c = await useCluster(t);
  if (c === undefined) return;
  for (const stepId of ['password-set', 'password-propagate', 'password-restart']) {
    await t.test(`killed inside ${stepId}`, async (tt) => {
      const s = await dbStackFor(tt, c);
      const crashed = await crashInside(s.configPath, stepId, 'db-credential-leak', { stack: 'provider', role: s.role }, s.env);
      assert.equal(crashed.signal, 'SIGKILL', `the process died inside the step: ${crashed.stdout}${crashed.stderr}`);
      assert.equal(s.passwordChanges(), 1, 'the password was changed before the kill');
      const resumed = await run(['--config', s.configPath, 'resume', crashed.runId, '--json'], { env: s.env });
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      assert.equal((JSON.parse(resumed.stdout) as { status: string }).status, 'completed');
      const fresh = readEnvValue(s.envText(), 'TSDB_TELEGRAF_PASSWORD') ?? '';
      assert.equal(s.passwordChanges(), 1, 'exactly one ALTER ROLE … PASSWORD across the crash and the resume');
      assert.equal(await s.logsIn(fresh), true, 'the .env\'s password is the database\'s');
      assert.equal(readdirSync(s.dir).filter((f) => f.endsWith('.bak')).length, 1, 'the .env was rewritten once');
    });
  }
});
