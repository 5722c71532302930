import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, labFor, run } from './cli-helpers.ts';
import { crashRun } from '../helpers/crash-run.ts';
import { changingCalls, confirmUnseal, loginsBefore, vaultCall } from './vault-breach-helpers.ts';

/** Every boundary of the run: after the plan and after each step. */
const BOUNDARIES = ['plan', 'record-auth', 'revoke-tokens', 'disable-auth', 'seal-vault', 'unseal-vault', 'restore-auth', 'restore-roles', 'health-check'];
const AFTER_SEAL = new Set(['unseal-vault', 'restore-auth', 'restore-roles', 'health-check']);

test('vault-breach: SIGKILL after every step, then `firebreak resume`: each token prefix revoked once, each mount disabled once, one seal, each mount re-enabled once, role_ids kept', async (t) => {
  for (const stepId of BOUNDARIES) {
    await t.test(`killed after ${stepId}`, async (tt) => {
      const lab = await labFor(tt);
      const tokens = await loginsBefore(lab);
      const calls0 = lab.vault.sim.calls().length;
      // The child waits at the manual unseal step like `firebreak run` does: the key holders (this test) answer it there.
      const crashing = crashRun(lab.configPath, stepId, 'vault-breach', {});
      const runId = AFTER_SEAL.has(stepId) ? await confirmUnseal(lab) : undefined;
      const crashed = await crashing;
      assert.equal(crashed.signal, 'SIGKILL', `the process died at the boundary: ${crashed.stdout}${crashed.stderr}`);
      assert.match(crashed.runId, /^run-/);
      if (runId !== undefined) assert.equal(runId, crashed.runId);

      // Resumed in block mode; when it still has the unseal ahead, the key holders answer it again.
      const resumed = cli(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
      if (runId === undefined) await confirmUnseal(lab, crashed.runId);
      const done = await resumed.done;
      assert.equal(done.code, 0, done.stdout + done.stderr);
      assert.equal((JSON.parse(done.stdout) as { status: string }).status, 'completed');

      const calls = changingCalls(lab, calls0);
      const count = (call: string) => calls.filter((x) => x === call).length;
      for (const m of ['approle', 'jwt', 'userpass']) assert.equal(count(`PUT /v1/sys/leases/revoke-prefix/auth/${m}/`), 1, `auth/${m}/ revoked once`);
      assert.equal(count('DELETE /v1/sys/auth/approle'), 1, 'approle disabled once');
      assert.equal(count('DELETE /v1/sys/auth/jwt'), 1, 'jwt disabled once');
      assert.equal(count('POST /v1/sys/seal'), 1, 'one seal');
      assert.equal(count('POST /v1/sys/auth/approle'), 1, 'approle re-enabled once');
      assert.equal(count('POST /v1/sys/auth/jwt'), 1, 'jwt re-enabled once');
      assert.ok(calls.indexOf('POST /v1/sys/seal') > calls.indexOf('DELETE /v1/sys/auth/jwt'), 'seal after the disables');
      assert.equal(lab.vault.sim.sealed, false);
      for (const tok of tokens.approle) assert.equal(lab.vault.sim.state.tokens.lookup(tok), undefined);
      for (const [role, roleId] of Object.entries(lab.vault.layout.roleIds)) {
        const r = await vaultCall(lab, 'GET', `auth/approle/role/${role}/role-id`);
        assert.equal((r.json?.['data'] as { role_id?: string } | undefined)?.role_id, roleId, `${role} keeps its role_id`);
      }
      assert.equal((await run(['--config', lab.configPath, 'audit', 'verify'])).code, 0);
    });
  }
});
