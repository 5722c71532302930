// `assess vault-audit` against the lab Vault's own file audit device: the HMAC
// of a leaked token computed by Vault itself (sys/audit-hash), every line that
// used it; an intruder's reads of tenants' secrets found and scoped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, run } from './cli-helpers.ts';
import { loginsBefore, vaultCall } from './vault-breach-helpers.ts';
import type { Assessment } from '../../src/assess/vault-audit-types.ts';

test('assess vault-audit on the lab Vault\'s log: a leaked token found by the HMAC Vault computes, and the tenants its holder read', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const { approle } = await loginsBefore(lab);
  const leaked = approle[0] ?? '';
  // The intruder writes (as root) and then reads with the leaked token: tenants' secrets, one denied.
  for (const tenant of ['acme', 'globex']) assert.equal((await vaultCall(lab, 'POST', `secret/data/tenants/${tenant}/smtp`, { data: { password: `pw-${tenant}` } })).status, 200);
  const reads = await Promise.all(['acme', 'globex'].map(async (tenant) => (await vaultCall(lab, 'GET', `secret/data/tenants/${tenant}/smtp`, undefined, leaked)).status));
  const denied = (await vaultCall(lab, 'GET', 'sys/policies/acl', undefined, leaked)).status;
  assert.deepEqual([...reads, denied], [200, 403, 403], 'acme-app\'s token may read acme\'s secrets only');

  const r = await run([...c, 'assess', 'vault-audit', '--all', '--find-token', '--find-fd', '0', '--json'], { input: `${leaked}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(leaked) && !r.stderr.includes(leaked), 'the token is never printed');
  const a = JSON.parse(r.stdout) as Assessment;
  assert.equal(a.input.problems.total, 0, 'the lab writes the real format');
  const matches = a.matches ?? [];
  assert.ok(matches.some((m) => m.path === 'auth/approle/login' && m.type === 'response' && m.field === '/response/auth/client_token'), 'the login that issued it');
  const used = matches.filter((m) => m.field === '/request/client_token');
  const expected = [...reads.map((s, i) => [s, `secret/data/tenants/${['acme', 'globex'][i] ?? ''}/smtp`] as const), [denied, 'sys/policies/acl'] as const];
  for (const [, path] of expected) assert.ok(used.some((m) => m.path === path), `the use on ${path} is found`);
  // What it read is acme's (once: request and response are one operation); the two refusals are suspicious.
  assert.deepEqual(a.tenants.affected, [{ tenant: 'acme', reads: 1, lists: 0, paths: 1 }]);
  assert.equal(a.tenants.scope, 'limited');
  const refused = a.suspicious.events.filter((e) => e.kinds.includes('permission-denied')).map((e) => e.path);
  assert.deepEqual(refused, ['secret/data/tenants/globex/smtp', 'sys/policies/acl']);
});
