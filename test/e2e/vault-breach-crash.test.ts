import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, labFor, run } from './cli-helpers.ts';
import { crashRun } from '../helpers/crash-run.ts';
import { changingCalls, labSecretIds, loginsBefore, playGate, vaultCall } from './vault-breach-helpers.ts';
import type { ShareStep } from '../../src/playbooks/vault-breach/vault-share.ts';

/** Every boundary of the run: after the plan and after each step (a fan-out's: after one item's), in the order they run. */
const BOUNDARIES = ['plan', 'record-auth', 'revoke-tokens', 'disable-auth', 'seal-vault', 'assess-audit-log', 'unseal-vault', 'rekey-init', 'rekey-update', 'rekey-verify',
  'drop-rekey-backup', 'rotate-key', 'restore-auth', 'restore-roles',
  // The services' new secret_ids: every stage fans out over the three services, which run at once. Killed once one
  // service's stage is journaled, the others in flight (their effect perhaps applied, not yet journaled).
  ...['create', 'set', 'test', 'propagate', 'restart', 'verify', 'finish'].map((stage) => `secret-id-${stage}[globex-app]/apply`), 'secret-id-set[initech-app]/apply',
  'revoke-root-tokens', 'health-check'];
/** The manual steps the key holders answer, in order. */
const GATES: readonly ShareStep[] = ['unseal-vault', 'rekey-update', 'rekey-verify'];

test('vault-breach: SIGKILL after every step, then `firebreak resume`: each token prefix revoked once, each mount disabled once, one seal, one rekey, one rotation, each mount re-enabled once, role_ids kept, one new secret_id per service', async (t) => {
  for (const stepId of BOUNDARIES) {
    await t.test(`killed after ${stepId}`, async (tt) => {
      const lab = await labFor(tt);
      const tokens = await loginsBefore(lab);
      const calls0 = lab.vault.sim.calls().length;
      const oldShares = lab.vault.unsealKeys.slice();
      // The child waits at the manual steps like `firebreak run` does: the key holders (this test) answer the ones before the kill there.
      const at = BOUNDARIES.indexOf(stepId);
      const secretIds0 = labSecretIds(lab);
      const before = GATES.filter((g) => BOUNDARIES.indexOf(g) <= at);
      const crashing = crashRun(lab.configPath, stepId, 'vault-breach', {});
      let runId: string | undefined;
      for (const gate of before) runId = await playGate(lab, gate, runId);
      const crashed = await crashing;
      assert.equal(crashed.signal, 'SIGKILL', `the process died at the boundary: ${crashed.stdout}${crashed.stderr}`);
      assert.match(crashed.runId, /^run-/);
      if (runId !== undefined) assert.equal(runId, crashed.runId);

      // Resumed in block mode; the key holders answer the rounds still ahead.
      const resumed = cli(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
      for (const gate of GATES.filter((g) => !before.includes(g))) await playGate(lab, gate, crashed.runId);
      const done = await resumed.done;
      assert.equal(done.code, 0, done.stdout + done.stderr);
      assert.equal((JSON.parse(done.stdout) as { status: string }).status, 'completed');

      const calls = changingCalls(lab, calls0);
      const count = (call: string) => calls.filter((x) => x === call).length;
      for (const m of ['approle', 'jwt', 'userpass']) assert.equal(count(`PUT /v1/sys/leases/revoke-prefix/auth/${m}/`), 1, `auth/${m}/ revoked once`);
      assert.equal(count('DELETE /v1/sys/auth/approle'), 1, 'approle disabled once');
      assert.equal(count('DELETE /v1/sys/auth/jwt'), 1, 'jwt disabled once');
      assert.equal(count('POST /v1/sys/seal'), 1, 'one seal');
      assert.equal(count('POST /v1/sys/rekey/init'), 1, 'one rekey');
      assert.equal(count('POST /v1/sys/rotate'), 1, 'one rotation');
      assert.equal(count('POST /v1/sys/auth/approle'), 1, 'approle re-enabled once');
      assert.equal(count('POST /v1/sys/auth/jwt'), 1, 'jwt re-enabled once');
      assert.ok(calls.indexOf('POST /v1/sys/seal') > calls.indexOf('DELETE /v1/sys/auth/jwt'), 'seal after the disables');
      assert.ok(calls.indexOf('POST /v1/sys/rotate') > calls.indexOf('POST /v1/sys/rekey/init'), 'rotation after the rekey');
      assert.equal(lab.vault.sim.sealed, false);
      const seal = await vaultCall(lab, 'GET', 'sys/seal-status');
      assert.deepEqual([seal.json?.['n'], seal.json?.['t']], [5, 3], 'the seal takes 3 of the 5 new shares');
      assert.notDeepEqual(lab.vault.unsealKeys, oldShares, 'the new holders\' shares replaced the old ones');
      assert.equal((await vaultCall(lab, 'GET', 'sys/rekey/backup')).status, 400, 'no backup of the new shares is left');
      for (const tok of tokens.approle) assert.equal(lab.vault.sim.state.tokens.lookup(tok), undefined);
      for (const [role, roleId] of Object.entries(lab.vault.layout.roleIds)) {
        const r = await vaultCall(lab, 'GET', `auth/approle/role/${role}/role-id`);
        assert.equal((r.json?.['data'] as { role_id?: string } | undefined)?.role_id, roleId, `${role} keeps its role_id`);
        assert.equal(count(`POST /v1/auth/approle/role/${role}/custom-secret-id`), 1, `${role}: one new secret_id registered`);
        const now = labSecretIds(lab)[role] ?? '';
        assert.notEqual(now, secretIds0[role], `${role}'s .env has its new secret_id`);
        assert.equal((await vaultCall(lab, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: now }, '')).status, 200, `${role} logs in with it`);
      }
      assert.equal((await run(['--config', lab.configPath, 'audit', 'verify'])).code, 0);
    });
  }
});
