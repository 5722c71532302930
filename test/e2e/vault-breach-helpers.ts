import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decrypt, readMessage, readPrivateKey } from 'openpgp';
import { Agent, fetch } from 'undici';
import type { Lab } from '../../src/lab/lab.ts';
import type { DrillLab } from '../../src/playbooks/playbook-descriptor.ts';
import { authoriseRekeyWithLabQuorum, unsealWithLabQuorum, verifyRekeyAsNewHolders } from '../../src/playbooks/vault-breach/vault-drill.ts';
import { run, until, type CliResult } from './cli-helpers.ts';
import { vaultOfLab } from '../../src/cli/drill-run.ts';
import type { ShareStep } from '../../src/playbooks/vault-breach/vault-share.ts';

/** A call to the lab Vault as a client would make it (the root token unless given another), over HTTPS trusting the lab Vault's CA only. */
export async function vaultCall(lab: Lab, method: string, path: string, body?: unknown, token: string = lab.vault.sim.rootToken): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const dispatcher = new Agent({ connect: { ca: lab.vault.caPem } });
  try {
    const res = await fetch(`${lab.vault.url}/v1/${path}`, { method, dispatcher, headers: { 'x-vault-token': token, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) as Record<string, unknown> };
  } finally {
    await dispatcher.close();
  }
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
  await unsealWithLabQuorum({ vault: vaultOfLab(lab) }, AbortSignal.timeout(60_000));
  assert.equal(lab.vault.sim.sealed, false, 'the quorum unsealed the lab Vault');
}

/** The run a detached `firebreak run` started ("Run run-…" in its output). */
export const runIdOf = (r: CliResult): string => /Run (run-\S+)/.exec(r.stdout)?.[1] ?? '';

/** The calls that change the lab Vault's auth, tokens or seal, in the order it received them: `DELETE /v1/sys/auth/approle`… */
export function changingCalls(lab: Lab, since = 0): string[] {
  return lab.vault.sim.calls().slice(since).filter((c) => c.method !== 'GET' && c.status < 400 && /^\/v1\/(sys\/(seal|unseal|auth\/|leases\/revoke-prefix\/|rekey\/init|rotate)|auth\/[^/]+\/(role\/|config))/.test(c.path)).map((c) => `${c.method} ${c.path.split('?')[0] ?? ''}`);
}

/** The audit device's request entries (Vault's JSON lines), as `operation path`. */
export function auditedRequests(lab: Lab, since = 0): string[] {
  return readFileSync(lab.vault.auditFile, 'utf8').split('\n').filter((l) => l !== '').slice(since)
    .map((l) => JSON.parse(l) as { type: string; request: { operation: string; path: string } })
    .filter((e) => e.type === 'request').map((e) => `${e.request.operation} ${e.request.path}`);
}

/** Lines of the audit log so far (to read only what follows). */
export const auditLines = (lab: Lab): number => readFileSync(lab.vault.auditFile, 'utf8').split('\n').filter((l) => l !== '').length;

/** One key holder's `firebreak vault share`, the share on standard input (never on the command line). */
export async function shareAs(lab: Lab, runId: string, holder: string, share: string): Promise<CliResult> {
  return run(['--config', lab.configPath, 'vault', 'share', runId, '--as', holder, '--share-fd', '0'], { input: `${share}\n` });
}

/** A new holder's part: `firebreak vault new-share`, decrypted with their private key as `gpg --decrypt` would. */
export async function newShareOf(lab: Lab, runId: string, holder: string): Promise<{ armored: string; share: string }> {
  const r = await run(['--config', lab.configPath, 'vault', 'new-share', runId, '--as', holder]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const h = lab.vault.holders.find((x) => x.name === holder);
  assert.ok(h !== undefined, `${holder} is a lab key holder`);
  const key = await readPrivateKey({ armoredKey: readFileSync(h.privateKeyFile, 'utf8') });
  const { data } = await decrypt({ message: await readMessage({ armoredMessage: r.stdout }), decryptionKeys: key }) as unknown as { data: string };
  return { armored: r.stdout, share: data };
}

/**
 * The whole ceremony of a run waiting at unseal-vault, by the key holders through the CLI:
 * three current shares unseal, three authorise the rekey, three new holders verify theirs.
 * The share completing each round confirms its step and continues the run, up to the next round.
 * Returns the new shares (by holder) and the last command's result.
 */
export async function keyCeremony(lab: Lab, runId: string): Promise<{ newShares: Record<string, string>; armored: Record<string, string>; last: CliResult; old: string[] }> {
  const old = lab.vault.unsealKeys.slice(0, lab.vault.threshold);
  const current = ['kh1', 'kh2', 'kh3'];
  for (const round of ['unseal', 'rekey'] as const) {
    for (const [i, share] of old.entries()) {
      const r = await shareAs(lab, runId, current[i] ?? 'kh', share);
      const last = i === old.length - 1;
      assert.equal(r.code, last ? 9 : 0, `${round} share ${i + 1}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, last ? new RegExp(`Approved ${round === 'unseal' ? 'unseal-vault' : 'rekey-update'} of run`) : new RegExp(`accepted: ${i + 1} of 3`));
    }
  }
  const newShares: Record<string, string> = {};
  const armored: Record<string, string> = {};
  for (const h of lab.vault.holders) {
    const n = await newShareOf(lab, runId, h.name);
    newShares[h.name] = n.share;
    armored[h.name] = n.armored;
  }
  let last: CliResult | undefined;
  for (const name of ['alice', 'bob', 'carol']) last = await shareAs(lab, runId, name, newShares[name] ?? '');
  assert.ok(last !== undefined);
  return { newShares, armored, last, old };
}

/**
 * The key holders of a run waiting at `gate` (in another process, e.g. a run that may be killed):
 * once the vault-breach run (the given one, else the only one) waits there, they play the round
 * straight to Vault as the drill does, and someone else confirms the step without resuming.
 * Returns the run's id.
 */
export async function playGate(lab: Lab, gate: ShareStep, runId?: string): Promise<string> {
  const c = ['--config', lab.configPath];
  let id = runId;
  await until(`a vault-breach run waiting at ${gate}`, async () => {
    id ??= (JSON.parse((await run([...c, 'runs', 'list', '--json'])).stdout) as { id: string; workflow: string }[]).find((x) => x.workflow === 'vault-breach')?.id;
    if (id === undefined) return false;
    const d = JSON.parse((await run([...c, 'runs', 'show', id, '--json'])).stdout) as { steps: { stepId: string; kind: string; status: string }[] };
    return d.steps.some((s) => s.kind === 'signal' && s.stepId === `approve-${gate}` && s.status !== 'completed');
  }, 120_000);
  const drill: DrillLab = { vault: vaultOfLab(lab) };
  const signal = AbortSignal.timeout(60_000);
  if (gate === 'unseal-vault') await unsealWithLabQuorum(drill, signal);
  else if (gate === 'rekey-update') await authoriseRekeyWithLabQuorum(drill, signal);
  else {
    // Verified straight to Vault, which shows no trace of it afterwards: the incident lead records it with its nonce.
    const nonce = String((await vaultCall(lab, 'GET', 'sys/rekey/verify')).json?.['nonce']);
    await verifyRekeyAsNewHolders(drill, signal);
    const recorded = await run([...c, 'vault', 'verified', id ?? '', '--nonce', nonce, '--no-resume', '--as', 'carol']);
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    return id ?? '';
  }
  const approved = await run([...c, 'approve', id ?? '', '--step', gate, '--no-resume', '--as', 'carol']);
  assert.equal(approved.code, 0, approved.stdout + approved.stderr);
  return id ?? '';
}

/** Each lab service's secret_id as its .env holds it now (provider.vault.services). */
export function labSecretIds(lab: Lab): Record<string, string> {
  return Object.fromEntries(lab.vault.services.map((s) => [s.name, /^VAULT_SECRET_ID=(.*)$/m.exec(readFileSync(s.envFile, 'utf8'))?.[1] ?? '']));
}
