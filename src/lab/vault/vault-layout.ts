import { Agent, fetch } from 'undici';
import { str } from './vault-http.ts';
import { startVaultSim, type VaultSim, type VaultSimOptions } from './vault-sim.ts';

/**
 * The lab's standard Vault layout, shared by the vault-breach playbook's
 * tests and the drill: AppRole and JWT auth mounts with a role per tenant
 * service, userpass with an operator, KV v2 `secret/` holding
 * `secret/data/tenants/<tenant>/…` and KV v1 `api_keys/<tenant>/…`, a policy
 * per tenant. Built through Vault's own API with the root token, so it is
 * what a real Vault would hold after the same calls.
 */

export const LAB_TENANTS = ['acme', 'globex', 'initech'] as const;

export interface LabVaultLayout {
  readonly tenants: readonly string[];
  /** AppRole role name → its role_id (the recovery phase must keep these). */
  readonly roleIds: Readonly<Record<string, string>>;
  /** The userpass operator's login. */
  readonly operator: { readonly username: string; readonly password: string };
}

/** One call with the root token; undici's fetch, whose dispatcher option takes this undici's Agent (the global fetch's types are another copy's). */
async function callAs(sim: VaultSim, dispatcher: Agent | undefined, method: string, path: string, body?: unknown): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${sim.url}/v1/${path}`, { method, headers: { 'x-vault-token': sim.rootToken, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(dispatcher === undefined ? {} : { dispatcher }) });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`lab Vault layout: ${method} ${path} answered ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text) as Record<string, unknown>;
}

/** A call to the lab Vault with its root token: the parsed body, undefined when empty; an error status throws. */
export type LabVaultCall = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown> | undefined>;

/** Runs `fn` with calls to the lab Vault as root; `ca` (PEM) is the only CA trusted when it serves HTTPS. */
export async function withLabVaultCalls<T>(sim: VaultSim, ca: string | undefined, fn: (call: LabVaultCall) => Promise<T>): Promise<T> {
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  try {
    return await fn((method, path, body) => callAs(sim, dispatcher, method, path, body));
  } finally {
    await dispatcher?.close();
  }
}

/** Creates the standard layout on a running, unsealed lab Vault; `ca` (PEM) is the only CA trusted when it serves HTTPS. */
export async function createLabVaultLayout(sim: VaultSim, tenants: readonly string[] = LAB_TENANTS, operator: LabVaultLayout['operator'] = { username: 'operator', password: 'operator-lab-password' }, ca?: string): Promise<LabVaultLayout> {
  return withLabVaultCalls(sim, ca, (call) => layOut(call, tenants, operator));
}

async function layOut(call: LabVaultCall, tenants: readonly string[], operator: LabVaultLayout['operator']): Promise<LabVaultLayout> {
  await call('POST', 'sys/auth/approle', { type: 'approle', description: 'tenant services' });
  await call('POST', 'sys/auth/jwt', { type: 'jwt', description: 'CI pipelines' });
  await call('POST', 'sys/auth/userpass', { type: 'userpass', description: 'operators' });
  await call('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
  await call('POST', 'sys/mounts/api_keys', { type: 'kv', options: { version: '1' } });
  await call('POST', 'auth/jwt/config', { jwt_validation_pubkeys: ['-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAElab-lab-key\n-----END PUBLIC KEY-----'], bound_issuer: 'https://ci.lab.example' });
  const roleIds: Record<string, string> = {};
  for (const t of tenants) {
    await call('PUT', `sys/policies/acl/tenant-${t}`, { policy: `path "secret/data/tenants/${t}/*" {\n  capabilities = ["read"]\n}\n\npath "api_keys/${t}/*" {\n  capabilities = ["read"]\n}\n` });
    await call('POST', `auth/approle/role/${t}-app`, { token_policies: [`tenant-${t}`], token_ttl: '1h', token_max_ttl: '4h', secret_id_ttl: '24h' });
    const rid = await call('GET', `auth/approle/role/${t}-app/role-id`);
    roleIds[`${t}-app`] = str((rid?.['data'] as Record<string, unknown> | undefined)?.['role_id']);
    await call('POST', `auth/jwt/role/${t}-ci`, { role_type: 'jwt', user_claim: 'sub', bound_audiences: [`vault.${t}.lab`], token_policies: [`tenant-${t}`], token_ttl: '20m' });
    await call('POST', `secret/data/tenants/${t}/database`, { data: { username: `${t}_app`, password: `${t}-db-lab-password` } });
    await call('POST', `secret/data/tenants/${t}/smtp`, { data: { host: `smtp.${t}.lab`, password: `${t}-smtp-lab-password` } });
    await call('POST', `api_keys/${t}/payments`, { key: `${t}-payments-lab-key` });
  }
  await call('POST', `auth/userpass/users/${operator.username}`, { password: operator.password, token_policies: ['default'] });
  return { tenants: [...tenants], roleIds, operator };
}

/** A lab Vault started with the standard layout. */
export async function startLabVault(o: VaultSimOptions = {}): Promise<{ sim: VaultSim; layout: LabVaultLayout }> {
  const sim = await startVaultSim(o);
  try {
    return { sim, layout: await createLabVaultLayout(sim) };
  } catch (e) {
    await sim.close();
    throw e;
  }
}
