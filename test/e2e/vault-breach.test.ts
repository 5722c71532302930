import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filesBelow, labFor, run } from './cli-helpers.ts';
import type { AssessmentSummary } from '../../src/playbooks/vault-breach/vault-assess.ts';
import { auditLines, auditedRequests, changingCalls, keyCeremony, labSecretIds, loginsBefore, runIdOf, unsealAsKeyHolders, vaultCall } from './vault-breach-helpers.ts';


test('vault-breach: containment revokes, disables and seals in that order (seal last); recovery restores the mounts and roles with the same role_ids', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const tokens = await loginsBefore(lab);
  const auth = lab.vault.sim.state.auth;
  const rolesBefore = { approle: [...(auth.mounts.get('approle/')?.roles.keys() ?? [])].sort(), jwt: [...(auth.mounts.get('jwt/')?.roles.keys() ?? [])].sort() };
  assert.equal(rolesBefore.approle.length, 3);
  const calls0 = lab.vault.sim.calls().length;
  const audit0 = auditLines(lab);
  const serviceIds0 = labSecretIds(lab);

  // --detach: the run stops where people must act (the quorum unsealing), after containment.
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  const runId = runIdOf(first);
  assert.match(first.stdout, /Manual step approve-unseal-vault: Vault at https:\/\/127\.0\.0\.1:\d+ was sealed by containment\. The rekey and recovery need it unsealed: 3 of the 5 current key holders each run `firebreak vault share run-\S+ --as <name>`/);
  assert.match(first.stdout, new RegExp(`firebreak approve ${runId} --step unseal-vault`));

  // Assessed after containment, from the lab Vault's audit log (the same code as `firebreak assess vault-audit`), stored as evidence.
  const shown = JSON.parse((await run([...c, 'runs', 'show', runId, '--json'])).stdout) as { steps: { stepId: string; status: string; output: { output?: AssessmentSummary } | null }[] };
  const assessed = shown.steps.find((s) => s.stepId === 'assess-audit-log');
  assert.equal(assessed?.status, 'completed');
  const summary = assessed?.output?.output;
  assert.equal(summary?.byKind['auth-change'], 5, 'the log shows the lab enabling approle, jwt and userpass, then containment disabling approle and jwt');
  assert.equal(summary?.problems, 0);
  assert.ok((summary?.operations ?? 0) > 20, 'the logins before and containment\'s calls');
  assert.deepEqual([summary?.tenants, summary?.scope], [[], 'none'], 'the lab\'s paths are nobody\'s tenant');
  assert.match(summary?.evidence.sha256 ?? '', /^[0-9a-f]{64}$/);

  // The order Vault saw: every revoke-prefix, then the disables, then the seal, last.
  assert.deepEqual(changingCalls(lab, calls0), [
    'PUT /v1/sys/leases/revoke-prefix/auth/approle/', 'PUT /v1/sys/leases/revoke-prefix/auth/jwt/', 'PUT /v1/sys/leases/revoke-prefix/auth/userpass/',
    'DELETE /v1/sys/auth/approle', 'DELETE /v1/sys/auth/jwt', 'POST /v1/sys/seal',
  ]);
  // The audit device saw the same (sys/seal is never audited: CONTRACTS.md §2.0); the auth methods were read before anything changed.
  const audited = auditedRequests(lab, audit0);
  const at = (what: string) => audited.indexOf(what);
  assert.ok(at('read sys/auth') >= 0 && at('read sys/auth') < at('update sys/leases/revoke-prefix/auth/approle/'), audited.join('\n'));
  assert.ok(at('update sys/leases/revoke-prefix/auth/userpass/') < at('delete sys/auth/approle'), audited.join('\n'));
  assert.ok(at('delete sys/auth/approle') < at('delete sys/auth/jwt'));
  assert.ok(audited.includes('read auth/approle/role/acme-app/role-id'), 'the role_ids were recorded before the disable');
  assert.equal(lab.vault.sim.sealed, true, 'sealed at the end of containment');
  assert.deepEqual([...auth.mounts.keys()].sort(), ['token/', 'userpass/'], 'approle and jwt disabled; userpass (not configured) kept');
  for (const tok of [...tokens.approle, tokens.userpass]) assert.equal(lab.vault.sim.state.tokens.lookup(tok), undefined, 'every token issued through an auth method is revoked');
  assert.notEqual(lab.vault.sim.state.tokens.lookup(lab.vault.sim.rootToken), undefined, 'the root token (auth/token/) survives: revoke-prefix auth/ would have revoked it');

  // The key holders' ceremony, each from their own terminal: unseal, authorise the rekey, verify the new shares.
  const term0 = lab.vault.sim.state.seal.term;
  const { newShares, armored, last, old } = await keyCeremony(lab, runId);
  assert.equal(last.code, 0, last.stdout + last.stderr);
  assert.match(last.stdout, /verify: verified: the rekey took effect, Vault now unseals with 3 of the 5 new shares only/);
  const done = await run([...c, 'runs', 'show', runId, '--json']);
  assert.equal((JSON.parse(done.stdout) as { run: { status: string } }).run.status, 'completed', done.stdout);
  assert.equal(new Set(Object.values(newShares)).size, 5, 'five distinct new shares');
  assert.ok(lab.vault.sim.state.seal.term > term0, 'the encryption key was rotated after the rekey');
  assert.equal((await vaultCall(lab, 'GET', 'sys/rekey/backup')).status, 400, 'Vault keeps no backup of the encrypted shares');
  // Only the new shares unseal now: an old one does not combine.
  assert.equal((await vaultCall(lab, 'POST', 'sys/seal')).status, 204);
  for (const k of old) await vaultCall(lab, 'POST', 'sys/unseal', { key: k }, '');
  assert.equal(lab.vault.sim.sealed, true, 'the old shares no longer unseal');
  await vaultCall(lab, 'POST', 'sys/unseal', { reset: true }, '');
  for (const h of ['dave', 'erin', 'alice']) await vaultCall(lab, 'POST', 'sys/unseal', { key: newShares[h] }, '');
  assert.equal(lab.vault.sim.sealed, false, 'three new shares unseal');
  // No share, old or new, anywhere in the state directory (journal, audit trail, evidence), nor in what the CLI printed:
  // the journal holds the new shares encrypted to their holders only.
  const stateFiles = filesBelow(join(lab.dir, 'state'));
  for (const f of stateFiles) {
    const bytes = readFileSync(f).toString('latin1');
    for (const s of [...old, ...Object.values(newShares)]) {
      const raw = /^[0-9a-f]+$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
      assert.equal(raw.length, 33, 'a share is 32 bytes and its x-coordinate');
      assert.ok(!bytes.includes(raw.toString('hex')) && !bytes.includes(raw.toString('base64')), `no share in ${f}`);
    }
  }
  assert.ok(stateFiles.some((f) => readFileSync(f).toString('latin1').includes(armored['erin']?.split('\n')[3] ?? '-')), 'the journal keeps the encrypted shares for their holders');
  assert.equal(auth.mounts.get('approle/')?.type, 'approle');
  assert.equal(auth.mounts.get('approle/')?.description, 'tenant services');
  assert.equal(auth.mounts.get('jwt/')?.description, 'CI pipelines');
  assert.deepEqual([...(auth.mounts.get('approle/')?.roles.keys() ?? [])].sort(), rolesBefore.approle);
  assert.deepEqual([...(auth.mounts.get('jwt/')?.roles.keys() ?? [])].sort(), rolesBefore.jwt);
  for (const [role, roleId] of Object.entries(lab.vault.layout.roleIds)) {
    const r = await vaultCall(lab, 'GET', `auth/approle/role/${role}/role-id`);
    assert.equal((r.json?.['data'] as { role_id?: string } | undefined)?.role_id, roleId, `${role} keeps its role_id`);
    const policies = await vaultCall(lab, 'GET', `auth/approle/role/${role}`);
    assert.deepEqual((policies.json?.['data'] as { token_policies?: string[] } | undefined)?.token_policies, [`tenant-${role.replace(/-app$/, '')}`]);
    // The secret_ids died with the mount: every old one is refused, the service's new one logs in.
    for (const old of [tokens.secretIds[role], serviceIds0[role]]) {
      assert.equal((await vaultCall(lab, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: old }, '')).status, 400, 'an old secret_id no longer logs in');
    }
  }
  // Each service got its own new secret_id (.env, and Vault KV for the one configured so), was restarted and logged in with it.
  const serviceIds = labSecretIds(lab);
  assert.equal(new Set(Object.values(serviceIds)).size, 3, 'three distinct new secret_ids');
  for (const svc of lab.vault.services) {
    const sid = serviceIds[svc.name] ?? '';
    assert.match(sid, /^[0-9a-f-]{36}$/, `${svc.name}: a secret_id in Vault's form`);
    assert.notEqual(sid, serviceIds0[svc.name]);
    assert.equal(changingCalls(lab, calls0).filter((x) => x === `POST /v1/auth/approle/role/${svc.role}/custom-secret-id`).length, 1, `${svc.name}: registered once`);
    const own = await vaultCall(lab, 'GET', 'auth/token/lookup-self', undefined, readFileSync(svc.tokenFile, 'utf8').trim());
    assert.equal(own.status, 200, `${svc.name} holds a live token from its own login`);
    assert.equal((own.json?.['data'] as { meta?: { role_name?: string } } | undefined)?.meta?.role_name, svc.role);
    if (svc.vaultPath !== undefined) {
      const kv = await vaultCall(lab, 'GET', `secret/data/services/${svc.role}`);
      assert.equal(((kv.json?.['data'] as { data?: Record<string, string> } | undefined)?.data ?? {})['secret_id'], sid, `${svc.name}: the Vault copy is the new secret_id`);
      assert.equal(((kv.json?.['data'] as { data?: Record<string, string> } | undefined)?.data ?? {})['role_id'], lab.vault.layout.roleIds[svc.role], 'the copy\'s other keys are kept');
    }
    for (const f of filesBelow(join(lab.dir, 'state'))) assert.ok(!readFileSync(f).toString('latin1').includes(sid), `${svc.name}'s secret_id is in no state file (${f}): sealed in the journal`);
  }
  const jwtConfig = await vaultCall(lab, 'GET', 'auth/jwt/config');
  assert.equal((jwtConfig.json?.['data'] as { bound_issuer?: string } | undefined)?.bound_issuer, 'https://ci.lab.example');
  for (const tok of tokens.approle) assert.equal((await vaultCall(lab, 'GET', 'auth/token/lookup-self', undefined, tok)).status, 403, 'old tokens stay revoked');
  const enables = changingCalls(lab, calls0).filter((x) => x.startsWith('POST /v1/sys/auth/'));
  assert.deepEqual(enables, ['POST /v1/sys/auth/approle', 'POST /v1/sys/auth/jwt'], 'each mount re-enabled once');

  // The report says what was not built (never as done).
  const runs = JSON.parse((await run([...c, 'runs', 'list', '--json'])).stdout) as { id: string; incidentId: string }[];
  const incident = runs.find((r) => r.id === runId)?.incidentId ?? '';
  const report = await run([...c, 'report', incident]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /## Not built yet \(not done by this response\)/);
  assert.match(report.stdout, new RegExp(`- vault-audit-assessment from assess-audit-log at \\S+: \`[^\`]+\` \\(sha256 \`${summary?.evidence.sha256 ?? ''}\`\\)`));
  assert.match(report.stdout, /\| assessment \| 15 min 0 s \| [^|]+ \| \S+ \| met \|/, 'the assessment phase against its RTO');
  assert.match(report.stdout, /\| Assess the breach from Vault's audit log: suspicious events, secrets read, affected tenants \| assessment \| vault-audit \| read \| applied: \d+ suspicious operation\(s\) \([^)]*auth-change 5[^)]*\); \d+ secret read\(s\) and \d+ list\(s\) on \d+ path\(s\); 0 tenant\(s\) affected: scope none; 0 line\(s\) not read \|/, 'what the assessment found, in the report');
  assert.doesNotMatch(report.stdout, /vault-breach: \*\*rekey\*\*/);
  assert.doesNotMatch(report.stdout, /\*\*new AppRole secret-ids\*\*/);
  for (const svc of lab.vault.services) assert.match(report.stdout, new RegExp(`\\| Verify: consumers use the new AppRole secret_id, nothing uses the old one \\(${svc.name}\\) \\| recovery \\| vault \\| mutate \\| applied \\|`));
  assert.doesNotMatch(readFileSync(lab.configPath, 'utf8'), new RegExp(lab.vault.sim.rootToken), 'firebreak.yaml references the token file, never the token');
  assert.equal((await run([...c, 'audit', 'verify'])).code, 0);
});

test('vault-breach: the plan lists what containment would change and the phases that are not built; firebreak check probes the lab Vault', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const plan = await run([...c, 'plan', 'vault-breach']);
  assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  assert.match(plan.stdout, /disable approle\/ \(3 role\(s\), recorded\), jwt\/ \(3 role\(s\), recorded\)/);
  assert.match(plan.stdout, /seal Vault at https:\/\/127\.0\.0\.1:\d+ \(unsealing it again takes 3 of 5 key holders\)/);
  assert.match(plan.stdout, /Not built yet: vault-breach does not do these/);
  assert.doesNotMatch(plan.stdout, /- assessment: /);
  assert.match(plan.stdout, /\nvault-audit\n {2}· Assess the breach from Vault's audit log: suspicious events, secrets read, affected tenants\n/);
  const json = JSON.parse((await run([...c, 'plan', 'vault-breach', '--json'])).stdout) as { absent: { name: string }[]; entries: { stepId: string; item?: string }[] };
  assert.deepEqual(json.absent.map((a) => a.name), ['rotation'], 'plan --json lists the phases not built');
  assert.deepEqual(json.entries.filter((e) => e.stepId === 'secret-id-set').map((e) => e.item), ['acme-app', 'globex-app', 'initech-app'], 'a new secret_id for each service');
  const check = await run([...c, 'check', '--json']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const systems = (JSON.parse(check.stdout) as { systems: { scope: string; system: string; ok: boolean; detail: string }[] }).systems;
  assert.deepEqual(systems.filter((x) => x.system.startsWith('vault')).map((x) => [x.scope, x.system, x.ok, x.detail]), [['provider', 'vault', true, 'HTTP 200'], ['provider', 'vault credential', true, 'resolves']]);
  assert.equal(lab.vault.sim.sealed, false, 'planning changed nothing');
});

test('vault-breach: a configured auth mount that Vault does not have is a clear error at plan time, and nothing changes', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const calls0 = lab.vault.sim.calls().length;
  const plan = await run([...c, 'plan', 'vault-breach', '--auth-mounts', 'approle,github', '--json']);
  assert.equal(plan.code, 4, plan.stdout + plan.stderr);
  assert.match(plan.stderr, /--auth-mounts names auth mount\(s\) that Vault does not have: github\/ \(sys\/auth lists: approle\/, jwt\/, token\/, userpass\/\); nothing was changed/);
  const started = await run([...c, 'run', 'vault-breach', '--auth-mounts', 'github', '--yes', '--json']);
  assert.notEqual(started.code, 0, started.stdout);
  assert.match(started.stdout + started.stderr, /github\//);
  assert.deepEqual(changingCalls(lab, calls0), [], 'nothing was revoked, disabled or sealed');
  assert.equal(lab.vault.sim.sealed, false);
  assert.ok(lab.vault.sim.state.auth.mounts.has('approle/'));
  const token = await run([...c, 'plan', 'vault-breach', '--auth-mounts', 'token']);
  assert.equal(token.code, 2, token.stdout + token.stderr);
  assert.match(token.stderr, /the token auth method cannot be disabled/);
  // Sealed before the run: refused with the reason, not a 503 from the first step that writes.
  await vaultCall(lab, 'POST', 'sys/seal');
  const sealed = await run([...c, 'plan', 'vault-breach']);
  assert.equal(sealed.code, 8, sealed.stdout + sealed.stderr);
  assert.match(sealed.stderr, /is sealed: containment needs it unsealed \(a sealed Vault answers 503 to token revocation and auth disable, so sealing comes last\)/);
  await unsealAsKeyHolders(lab);
});
