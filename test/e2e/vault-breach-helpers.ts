import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Lab } from '../../src/lab/lab.ts';
import { run, until } from './cli-helpers.ts';

/** A call to the lab Vault as a client would make it (the root token unless given another). */
export async function vaultCall(lab: Lab, method: string, path: string, body?: unknown, token: string = lab.vault.sim.rootToken): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(`${lab.vault.url}/v1/${path}`, { method, headers: { 'x-vault-token': token, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) as Record<string, unknown> };
}

const data = (r: { json: Record<string, unknown> | undefined }) => (r.json?.['data'] ?? {}) as Record<string, unknown>;
const auth = (r: { json: Record<string, unknown> | undefined }) => (r.json?.['auth'] ?? {}) as Record<string, unknown>;

/** Tokens the services and the operator hold before the breach is contained: an AppRole login per tenant, a userpass login. */
export async function loginsBefore(lab: Lab): Promise<{ approle: string[]; userpass: string; secretIds: Record<string, string> }> {
  const approle: string[] = [];
  const secretIds: Record<string, string> = {};
  for (const [role, roleId] of Object.entries(lab.vault.layout.roleIds)) {
    const sid = await vaultCall(lab, 'POST', `auth/approle/role/${role}/secret-id`, {});
    assert.equal(sid.status, 200);
    secretIds[role] = String(data(sid)['secret_id']);
    const login = await vaultCall(lab, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: secretIds[role] }, '');
    assert.equal(login.status, 200, JSON.stringify(login.json));
    approle.push(String(auth(login)['client_token']));
  }
  const op = lab.vault.layout.operator;
  const up = await vaultCall(lab, 'POST', `auth/userpass/login/${op.username}`, { password: op.password }, '');
  assert.equal(up.status, 200, JSON.stringify(up.json));
  return { approle, userpass: String(auth(up)['client_token']), secretIds };
}

/** The key holders' part, played by the test: the threshold of the lab's shares, submitted straight to Vault. */
export async function unsealAsKeyHolders(lab: Lab): Promise<void> {
  for (const key of lab.vault.unsealKeys.slice(0, lab.vault.threshold)) {
    const r = await vaultCall(lab, 'POST', 'sys/unseal', { key }, '');
    assert.equal(r.status, 200);
  }
  assert.equal(lab.vault.sim.sealed, false, 'the quorum unsealed the lab Vault');
}

/**
 * The operator of a run waiting at the manual unseal step (in another process): once Vault is
 * sealed and the run waits, the key holders unseal it and someone else confirms the step.
 */
export async function confirmUnseal(lab: Lab, runId?: string): Promise<string> {
  let waiting = runId ?? '';
  await until('a vault-breach run waiting at unseal-vault with Vault sealed', async () => {
    if (!lab.vault.sim.sealed) return false;
    const r = await run(['--config', lab.configPath, 'runs', 'list', '--status', 'waiting', '--json']);
    const runs = JSON.parse(r.stdout) as { id: string; workflow: string }[];
    const found = runs.find((x) => x.workflow === 'vault-breach' && (runId === undefined || x.id === runId));
    if (found !== undefined) waiting = found.id;
    return found !== undefined;
  }, 60_000);
  await unsealAsKeyHolders(lab);
  const approved = await run(['--config', lab.configPath, 'approve', waiting, '--step', 'unseal-vault', '--no-resume', '--as', 'carol']);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  return waiting;
}

/** The calls that change the lab Vault's auth, tokens or seal, in the order it received them: `DELETE /v1/sys/auth/approle`… */
export function changingCalls(lab: Lab, since = 0): string[] {
  return lab.vault.sim.calls().slice(since).filter((c) => c.method !== 'GET' && c.status < 400 && /^\/v1\/(sys\/(seal|unseal|auth\/|leases\/revoke-prefix\/)|auth\/[^/]+\/(role\/|config))/.test(c.path)).map((c) => `${c.method} ${c.path.split('?')[0] ?? ''}`);
}

/** The audit device's request entries (Vault's JSON lines), as `operation path`. */
export function auditedRequests(lab: Lab, since = 0): string[] {
  return readFileSync(lab.vault.auditFile, 'utf8').split('\n').filter((l) => l !== '').slice(since)
    .map((l) => JSON.parse(l) as { type: string; request: { operation: string; path: string } })
    .filter((e) => e.type === 'request').map((e) => `${e.request.operation} ${e.request.path}`);
}

/** Lines of the audit log so far (to read only what follows). */
export const auditLines = (lab: Lab): number => readFileSync(lab.vault.auditFile, 'utf8').split('\n').filter((l) => l !== '').length;
