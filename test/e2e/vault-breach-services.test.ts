import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { Lab } from '../../src/lab/lab.ts';
import { labFor, run } from './cli-helpers.ts';
import { changingCalls, keyCeremony, labSecretIds, runIdOf, vaultCall } from './vault-breach-helpers.ts';

/** Rewrites one lab service's entry under provider.vault.services in the lab's firebreak.yaml. */
function editService(lab: Lab, name: string, edit: (s: Record<string, unknown>) => void): void {
  const doc = parse(readFileSync(lab.configPath, 'utf8')) as { provider: { vault: { services: Record<string, Record<string, unknown>> } } };
  const s = doc.provider.vault.services[name];
  assert.ok(s !== undefined, `${name} is a lab service`);
  edit(s);
  writeFileSync(lab.configPath, stringify(doc), { mode: 0o600 });
}

test('vault-breach services: a service naming a role Vault does not have is refused at plan time, naming it, and nothing changes', async (t) => {
  const lab = await labFor(t);
  const calls0 = lab.vault.sim.calls().length;
  editService(lab, 'globex-app', (s) => { s['role'] = 'globex-api'; });
  const plan = await run(['--config', lab.configPath, 'plan', 'vault-breach']);
  assert.equal(plan.code, 3, plan.stdout + plan.stderr);
  assert.match(plan.stderr, /provider\.vault\.services\.globex-app: approle\/ has no role "globex-api" \(its roles: acme-app, globex-app, initech-app\)/);
  const started = await run(['--config', lab.configPath, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(started.code, 3, started.stdout + started.stderr);
  assert.deepEqual(changingCalls(lab, calls0), [], 'nothing was revoked, disabled or sealed');
  assert.equal(lab.vault.sim.sealed, false);
});

test('vault-breach services: a service whose restart fails is isolated (the others get their secret_ids and log in); resumed once its restart works, it completes with one registration', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const ids0 = labSecretIds(lab);
  let argv: unknown;
  editService(lab, 'globex-app', (s) => { argv = (s['restart'] as { argv: unknown }).argv; s['restart'] = { kind: 'command', argv: ['false'] }; });
  const calls0 = lab.vault.sim.calls().length;
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  const runId = runIdOf(first);
  const { last } = await keyCeremony(lab, runId);
  assert.equal(last.code, 11, `the run ends with failures: ${last.stdout}${last.stderr}`);
  const shown = JSON.parse((await run([...c, 'runs', 'show', runId, '--json'])).stdout) as { run: { status: string; result: { failures: { stepId: string; key?: string; error: { message: string } }[] } } };
  assert.equal(shown.run.status, 'completed_with_failures');
  const failed = shown.run.result.failures.map((f) => `${f.stepId}[${f.key ?? ''}]`);
  assert.deepEqual(failed, ['secret-id-restart[globex-app]', 'secret-id-verify[globex-app]', 'secret-id-finish[globex-app]'], JSON.stringify(shown.run.result));
  assert.match(shown.run.result.failures[0]?.error.message ?? '', /restarting command false on local failed \(exit 1\)/);
  assert.match(shown.run.result.failures[1]?.error.message ?? '', /not attempted, because secret-id-restart failed for globex-app/);
  const ids = labSecretIds(lab);
  for (const svc of lab.vault.services) {
    assert.notEqual(ids[svc.name], ids0[svc.name], `${svc.name}'s .env has its new secret_id (propagated before the restart)`);
    if (svc.name !== 'globex-app') assert.equal((await vaultCall(lab, 'GET', 'auth/token/lookup-self', undefined, readFileSync(svc.tokenFile, 'utf8').trim())).status, 200, `${svc.name} logged in`);
  }

  editService(lab, 'globex-app', (s) => { s['restart'] = { kind: 'command', argv }; });
  const resumed = await run([...c, 'resume', runId, '--json']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal((JSON.parse(resumed.stdout) as { status: string }).status, 'completed');
  assert.equal(labSecretIds(lab)['globex-app'], ids['globex-app'], 'the resumed run kept the secret_id it had registered');
  const globex = lab.vault.services.find((s) => s.name === 'globex-app');
  assert.equal((await vaultCall(lab, 'GET', 'auth/token/lookup-self', undefined, readFileSync(globex?.tokenFile ?? '', 'utf8').trim())).status, 200, 'globex-app logged in after its restart');
  for (const svc of lab.vault.services) {
    assert.equal(changingCalls(lab, calls0).filter((x) => x === `POST /v1/auth/approle/role/${svc.role}/custom-secret-id`).length, 1, `${svc.name}: one registration`);
  }
});
