import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { labFor, run, type CliResult } from './cli-helpers.ts';
import { loginsBefore, newShareOf, runIdOf, shareAs, vaultCall } from './vault-breach-helpers.ts';
import type { Lab } from '../../src/lab/lab.ts';

/**
 * vault-breach against a Vault that answers what a real cluster answers when it cannot take a request: a rate
 * limit (429), a DR secondary (472), a performance standby (473), a standby's redirect (307, never followed), an
 * ACL refusal (403); a second run for the same Vault; a rekey cancelled by someone else during the ceremony.
 */

/** The calls that took effect on the lab Vault (an injected answer or a refusal is none), as `DELETE /v1/sys/auth/jwt`. */
const applied = (lab: Lab, since: number): string[] => lab.vault.sim.calls().slice(since)
  .filter((c) => !c.injected && c.status < 300 && c.method !== 'GET' && /^\/v1\/sys\/(seal|unseal|auth\/|leases\/revoke-prefix\/|rekey\/(init|update)|rotate)/.test(c.path))
  .map((c) => `${c.method} ${c.path.split('?')[0] ?? ''}`);
const count = (calls: readonly string[], call: string): number => calls.filter((c) => c === call).length;
const CONTAINMENT = ['PUT /v1/sys/leases/revoke-prefix/auth/approle/', 'PUT /v1/sys/leases/revoke-prefix/auth/jwt/', 'PUT /v1/sys/leases/revoke-prefix/auth/userpass/', 'DELETE /v1/sys/auth/approle', 'DELETE /v1/sys/auth/jwt', 'POST /v1/sys/seal'];

/** Another origin, where a standby's redirect points: it must never see a request (the token and the shares would go with it). */
async function otherNode(t: TestContext): Promise<{ origin: string; requests: () => number }> {
  let n = 0;
  const server = createServer((_req, res) => { n++; res.end(); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  t.after(() => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

/** Neither the token nor a key share in what a command printed. */
function clean(lab: Lab, r: CliResult): void {
  const out = r.stdout + r.stderr;
  assert.ok(!out.includes(lab.vault.sim.rootToken), 'the token is never printed');
  for (const k of lab.vault.unsealKeys) assert.ok(!out.includes(k), 'no share is printed');
}

/** A lab with live tokens under every auth mount (containment has something to revoke) and another node a redirect can name. */
async function breachLab(t: TestContext): Promise<{ lab: Lab; c: string[]; other: Awaited<ReturnType<typeof otherNode>>; calls0: number }> {
  const lab = await labFor(t);
  await loginsBefore(lab);
  const other = await otherNode(t);
  return { lab, c: ['--config', lab.configPath], other, calls0: lab.vault.sim.calls().length };
}

const statusOf = async (lab: Lab, runId: string): Promise<string> => (JSON.parse((await run(['--config', lab.configPath, 'runs', 'show', runId, '--json'])).stdout) as { run: { status: string } }).run.status;
const rekeyStatus = async (lab: Lab) => (await vaultCall(lab, 'GET', 'sys/rekey/init')).json ?? {};

test('vault-breach: a 403, 429, 472, 473 or a standby\'s redirect on a containment call fails the run naming the status and what it means, applies nothing after it; resume then contains with each effect once', async (t) => {
  const { lab, c, other, calls0 } = await breachLab(t);

  // 403 on the second revoke-prefix: not retried; no mount disabled, no seal.
  lab.vault.sim.faults.add({ method: 'PUT', path: '^/v1/sys/leases/revoke-prefix/auth/jwt/$', status: 403 });
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  const runId = runIdOf(first);
  assert.equal(first.code, 6, first.stdout + first.stderr);
  assert.match(first.stdout, /AUTH_FAILED: step revoke-tokens failed: vault at https:\/\/127\.0\.0\.1:\d+ answered 403 to PUT \/v1\/sys\/leases\/revoke-prefix\/auth\/jwt\/: permission denied\n/);
  assert.match(first.stdout, new RegExp(`Continue with: firebreak resume ${runId}`));
  clean(lab, first);
  assert.equal(lab.vault.sim.calls().slice(calls0).filter((x) => x.injected).length, 1, 'a permission denied is not retried');
  assert.ok(!applied(lab, calls0).some((x) => x.startsWith('DELETE') || x.includes('seal')), applied(lab, calls0).join('\n'));
  assert.equal(count(applied(lab, calls0), 'PUT /v1/sys/leases/revoke-prefix/auth/jwt/'), 0);
  assert.equal(lab.vault.sim.sealed, false, 'no seal after the refused revoke');
  assert.ok(lab.vault.sim.state.auth.mounts.has('approle/') && lab.vault.sim.state.auth.mounts.has('jwt/'), 'no mount disabled');
  assert.equal(await statusOf(lab, runId), 'failed');

  // The same run, resumed against a Vault that cannot take the disable of jwt/: each answer retried with backoff, then named.
  const answers: [number, Record<string, string> | undefined, RegExp][] = [
    [429, undefined, /answered 429 to DELETE \/v1\/sys\/auth\/jwt: request path "sys\/auth\/jwt": rate limit quota exceeded — Vault rate limited the request/],
    [472, undefined, /answered 472 to DELETE \/v1\/sys\/auth\/jwt: this node is a DR secondary: send the request to the primary cluster/],
    [473, undefined, /answered 473 to DELETE \/v1\/sys\/auth\/jwt: this node is a performance standby: send the request to the active node/],
    [307, { location: `${other.origin}/v1/sys/auth/jwt` }, new RegExp(`answered 307 to DELETE /v1/sys/auth/jwt \\(redirected to ${other.origin}\\): this node is a standby: send the request to the active node`)],
  ];
  for (const [status, headers, said] of answers) {
    const before = lab.vault.sim.calls().length;
    lab.vault.sim.faults.set({ rules: [{ method: 'DELETE', path: '^/v1/sys/auth/jwt$', status, ...(headers === undefined ? {} : { headers }) }] });
    const r = await run([...c, 'resume', runId, '--detach']);
    assert.equal(r.code, 7, `${status}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`UNAVAILABLE: step disable-auth failed: vault at https://127\\.0\\.0\\.1:\\d+ ${said.source}`), String(status));
    assert.match(r.stdout, /\(attempt \d+\)/, `${status} was retried`);
    clean(lab, r);
    assert.ok(lab.vault.sim.calls().slice(before).filter((x) => x.injected).length > 1, `${status}: retried with backoff before failing`);
    assert.equal(lab.vault.sim.sealed, false, `${status}: no seal while jwt/ is still enabled`);
    assert.ok(lab.vault.sim.state.auth.mounts.has('jwt/'));
    assert.equal(await statusOf(lab, runId), 'failed');
  }
  assert.equal(other.requests(), 0, 'the redirect was not followed: the other node saw no request (nor the token)');

  // The fault clears: resume completes containment, each effect once, the seal last.
  lab.vault.sim.faults.clear();
  const done = await run([...c, 'resume', runId, '--detach']);
  assert.equal(done.code, 9, done.stdout + done.stderr);
  assert.match(done.stdout, /Manual step approve-unseal-vault/);
  const calls = applied(lab, calls0);
  // revoke-tokens re-sends every revoke-prefix when tokens are left under one (approle/ again after the 403 on jwt/): a no-op in Vault.
  for (const call of CONTAINMENT) assert.ok(call.startsWith('PUT') ? count(calls, call) >= 1 : count(calls, call) === 1, `${call} ${call.startsWith('PUT') ? 'sent' : 'once'}: ${calls.join(', ')}`);
  assert.equal(count(calls, 'PUT /v1/sys/leases/revoke-prefix/auth/jwt/'), 1, 'the refused revoke, once it passed');
  assert.equal(calls.at(-1), 'POST /v1/sys/seal', 'sealed last');
  assert.deepEqual([...lab.vault.sim.state.auth.mounts.keys()].sort(), ['token/', 'userpass/']);
  assert.equal(lab.vault.sim.sealed, true);
});

test('vault-breach: a one-off 429, 473 or redirect is retried transparently; on the ceremony a 429 on rekey/init fails the run and resume starts one rekey; `vault share` answered 429, 473 or a redirect says the share was not taken, and given again it counts once', async (t) => {
  const { lab, c, other, calls0 } = await breachLab(t);
  const old = lab.vault.unsealKeys.slice(0, lab.vault.threshold);

  // Containment: one fault on each of three calls, each answered once.
  lab.vault.sim.faults.set({ rules: [
    { method: 'PUT', path: '^/v1/sys/leases/revoke-prefix/auth/approle/$', status: 307, headers: { location: `${other.origin}/v1/sys/leases/revoke-prefix/auth/approle/` }, times: 1 },
    { method: 'DELETE', path: '^/v1/sys/auth/jwt$', status: 429, times: 1 },
    { method: 'POST', path: '^/v1/sys/seal$', status: 473, times: 1 },
  ] });
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  const runId = runIdOf(first);
  assert.equal(first.code, 9, first.stdout + first.stderr);
  assert.match(first.stdout, /✖ containment {2}Disable the configured auth methods[^\n]*\n {4}UNAVAILABLE: [^\n]*answered 429 to DELETE \/v1\/sys\/auth\/jwt/, 'the failed attempt is shown');
  assert.equal(lab.vault.sim.calls().slice(calls0).filter((x) => x.injected).length, 3);
  assert.deepEqual(applied(lab, calls0), CONTAINMENT, 'each effect once, in order, the seal last');
  clean(lab, first);

  // A holder's share answered 429: not taken, and the same share given again counts once.
  lab.vault.sim.faults.set({ rules: [{ method: 'POST', path: '^/v1/sys/unseal$', status: 429, times: 1 }] });
  const limited = await shareAs(lab, runId, 'kh1', old[0] ?? '');
  assert.equal(limited.code, 7, limited.stdout + limited.stderr);
  assert.match(limited.stderr, /Vault did not take the share for the unseal round \(nothing was counted\): vault at https:\/\/127\.0\.0\.1:\d+ answered 429 to POST \/v1\/sys\/unseal: .*rate limit.*\. Submit the same share again in a moment/);
  clean(lab, limited);
  assert.equal((await vaultCall(lab, 'GET', 'sys/seal-status')).json?.['progress'], 0);
  const again = await shareAs(lab, runId, 'kh1', old[0] ?? '');
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /unseal: accepted: 1 of 3 shares/);
  assert.equal((await shareAs(lab, runId, 'kh2', old[1] ?? '')).code, 0);
  assert.equal((await vaultCall(lab, 'GET', 'sys/seal-status')).json?.['progress'], 2, 'the share given twice counted once');

  // The unseal completes; the run goes on to rekey-init, which Vault keeps rate limiting: the run fails, no rekey started.
  lab.vault.sim.faults.set({ rules: [{ method: 'POST', path: '^/v1/sys/rekey/init$', status: 429 }] });
  const unsealed = await shareAs(lab, runId, 'kh3', old[2] ?? '');
  assert.equal(unsealed.code, 7, unsealed.stdout + unsealed.stderr);
  assert.match(unsealed.stdout, /Approved unseal-vault of run/);
  assert.match(unsealed.stdout, /UNAVAILABLE: step rekey-init failed: vault at https:\/\/127\.0\.0\.1:\d+ answered 429 to POST \/v1\/sys\/rekey\/init: .*Vault rate limited the request/);
  clean(lab, unsealed);
  assert.equal(lab.vault.sim.sealed, false);
  assert.equal((await rekeyStatus(lab))['started'], false, 'no rekey half-started');
  lab.vault.sim.faults.clear();
  const resumed = await run([...c, 'resume', runId, '--detach']);
  assert.equal(resumed.code, 9, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /Manual step approve-rekey-update/);
  assert.equal(count(applied(lab, calls0), 'POST /v1/sys/rekey/init'), 1, 'one rekey');

  // Authorising the rekey: a standby's redirect, then a performance standby; neither takes the share, the other node sees nothing.
  lab.vault.sim.faults.set({ rules: [
    { method: 'POST', path: '^/v1/sys/rekey/update$', status: 307, headers: { location: `${other.origin}/v1/sys/rekey/update` }, times: 1 },
    { method: 'POST', path: '^/v1/sys/rekey/update$', status: 473, times: 1 },
  ] });
  const redirected = await shareAs(lab, runId, 'kh1', old[0] ?? '');
  assert.equal(redirected.code, 7, redirected.stdout + redirected.stderr);
  assert.match(redirected.stderr, new RegExp(`Vault did not take the share for the rekey round \\(nothing was counted\\): vault at https://127\\.0\\.0\\.1:\\d+ answered 307 to POST /v1/sys/rekey/update \\(redirected to ${other.origin}\\): this node is a standby: .*provider\\.vault\\.url must name the active node`));
  const standby = await shareAs(lab, runId, 'kh1', old[0] ?? '');
  assert.equal(standby.code, 7, standby.stdout + standby.stderr);
  assert.match(standby.stderr, /the rekey round \(nothing was counted\): .*answered 473 to POST \/v1\/sys\/rekey\/update: this node is a performance standby/);
  for (const r of [redirected, standby]) clean(lab, r);
  assert.equal(other.requests(), 0, 'neither the token nor the share went to the node the redirect names');
  assert.equal((await rekeyStatus(lab))['progress'], 0, 'no share counted');
  for (const [i, s] of old.entries()) {
    const r = await shareAs(lab, runId, `kh${i + 1}`, s);
    assert.equal(r.code, i === 2 ? 9 : 0, r.stdout + r.stderr);
    if (i < 2) assert.match(r.stdout, new RegExp(`rekey: accepted: ${i + 1} of 3 current shares`), 'the share refused by the standby counts once');
  }
  let last: CliResult | undefined;
  for (const h of ['alice', 'bob', 'carol']) last = await shareAs(lab, runId, h, (await newShareOf(lab, runId, h)).share);
  assert.equal(last?.code, 0, `${last?.stdout ?? ''}${last?.stderr ?? ''}`);
  assert.equal(await statusOf(lab, runId), 'completed');
  const calls = applied(lab, calls0);
  for (const call of [...CONTAINMENT, 'POST /v1/sys/rekey/init', 'POST /v1/sys/rotate']) assert.equal(count(calls, call), 1, `${call} once`);
});

test('vault-breach: a second run while one waits is refused naming it; a rekey cancelled outside Firebreak gets no share, and on the operator\'s confirmation the run starts a new one and completes', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  await loginsBefore(lab); // live tokens under every auth mount: containment has something to revoke
  const calls0 = lab.vault.sim.calls().length;
  const old = lab.vault.unsealKeys.slice(0, lab.vault.threshold);
  const first = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  const runId = runIdOf(first);
  assert.equal(first.code, 9, first.stdout + first.stderr);

  // A second run for the same Vault: refused before anything is planned or changed.
  const calls1 = lab.vault.sim.calls().length;
  const second = await run([...c, 'run', 'vault-breach', '--yes', '--detach']);
  assert.equal(second.code, 5, second.stdout + second.stderr);
  assert.match(second.stderr, new RegExp(`vault-cluster:provider is the target of run ${runId} \\(waiting\\): one active run per target`));
  assert.equal(lab.vault.sim.calls().length, calls1, 'the second run did not even call Vault');
  const runs = JSON.parse((await run([...c, 'runs', 'list', '--json'])).stdout) as { id: string }[];
  assert.deepEqual(runs.map((r) => r.id), [runId], 'no second run was recorded');

  // Unsealed by the holders; the run started its rekey and waits for the current holders; someone cancels the rekey.
  for (const [i, s] of old.entries()) assert.equal((await shareAs(lab, runId, `kh${i + 1}`, s)).code, i === 2 ? 9 : 0);
  const nonce1 = String((await rekeyStatus(lab))['nonce']);
  assert.equal((await vaultCall(lab, 'DELETE', 'sys/rekey/init')).status, 204);
  const calls2 = lab.vault.sim.calls().length;
  const refused = await shareAs(lab, runId, 'kh1', old[0] ?? '');
  assert.equal(refused.code, 5, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`Vault has no rekey in progress: the rekey this run started \\(nonce ${nonce1}\\) was cancelled outside Firebreak .*Your share was NOT sent, and the old shares are still the valid ones\\. To start a new rekey to the run's plan \\(the same new holders\\), the incident lead confirms with \`firebreak approve ${runId} --step rekey-update\``));
  assert.ok(!lab.vault.sim.calls().slice(calls2).some((x) => x.path.startsWith('/v1/sys/rekey/update')), 'no share was sent');
  assert.equal((await rekeyStatus(lab))['started'], false, 'nobody restarted a rekey behind the operator\'s back');

  // The incident lead confirms: the run starts a new rekey to the same plan and says what the holders do.
  const confirmed = await run([...c, 'approve', runId, '--step', 'rekey-update', '--as', 'carol']);
  assert.equal(confirmed.code, 8, confirmed.stdout + confirmed.stderr);
  const nonce2 = /Firebreak started a new rekey \(nonce (\S+)\) to the same plan/.exec(confirmed.stdout)?.[1];
  assert.ok(nonce2 !== undefined && nonce2 !== nonce1, confirmed.stdout);
  assert.match(confirmed.stdout, new RegExp(`the rekey this run started \\(nonce ${nonce1}\\) is no longer in progress: it was cancelled outside Firebreak.*3 of the 5 CURRENT key holders authorise it with \`firebreak vault share ${runId} --as <name>\``));
  const s2 = await rekeyStatus(lab);
  assert.deepEqual([s2['started'], s2['nonce'], s2['n'], s2['t'], s2['verification_required'], s2['backup'], (s2['pgp_fingerprints'] as string[]).length], [true, nonce2, 5, 3, true, true, 5]);
  // The holders authorise the new rekey; the share completing the quorum continues the run to the verification.
  for (const [i, s] of old.entries()) {
    const r = await shareAs(lab, runId, `kh${i + 1}`, s);
    assert.equal(r.code, i === 2 ? 9 : 0, r.stdout + r.stderr);
    if (i === 2) assert.match(r.stdout, /Manual step approve-rekey-verify/);
  }
  let last: CliResult | undefined;
  for (const h of ['alice', 'bob', 'carol']) last = await shareAs(lab, runId, h, (await newShareOf(lab, runId, h)).share);
  assert.equal(last?.code, 0, `${last?.stdout ?? ''}${last?.stderr ?? ''}`);
  assert.match(last?.stdout ?? '', /verify: verified: the rekey took effect/);
  assert.equal(await statusOf(lab, runId), 'completed');
  const calls = applied(lab, calls0);
  assert.equal(count(calls, 'POST /v1/sys/rekey/init'), 2, 'the run\'s rekey and, once confirmed, its new one');
  assert.equal(count(calls, 'DELETE /v1/sys/rekey/init'), 1, 'the cancel from outside only');
  for (const call of [...CONTAINMENT, 'POST /v1/sys/rotate']) assert.equal(count(calls, call), 1, `${call} once`);
  assert.equal((await rekeyStatus(lab))['started'], false);
  assert.equal((await run([...c, 'audit', 'verify'])).code, 0);
});
