import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type LoadedConfig } from '../../src/config/index.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createPlatform } from '../../src/playbooks/platform.ts';
import { executorResolver, probeSystems } from '../../src/app/app-systems.ts';
import { freePort } from '../../src/lib/free-port.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHttp } from '../helpers/fake-http.ts';

function problems(text: string, path = 'x.yaml'): string[] {
  try {
    parseConfig(text, path);
  } catch (err) {
    assert.ok(err instanceof FirebreakError && err.code === 'CONFIG_INVALID', String(err));
    return (err.details?.['problems'] as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
  }
  return assert.fail('expected CONFIG_INVALID');
}

const tb = (password: string) => `tenants:\n  acme:\n    thingsboard: { url: "https://tb.example.net", username: u, password: ${password} }\n`;

test('a vault: reference without provider.vault is refused when the configuration is loaded, naming its path', () => {
  const found = problems(`version: 1\n${tb('vault:secret/tb#password')}`);
  assert.deepEqual(found, ['tenants.acme.thingsboard.password: is a vault: reference, but no Vault is configured (provider.vault): configure provider.vault, or use env:NAME or file:/path']);
  const ssh = problems('version: 1\nexecutors:\n  gw: { kind: ssh, host: h, user: u, privateKey: "vault:ssh/gw#key", hostKey: "SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ" }\n');
  assert.match(ssh.join('\n'), /^executors\.gw\.privateKey: is a vault: reference, but no Vault is configured/);
  const own = problems('version: 1\nprovider:\n  vault: { url: "https://vault.example.net", token: "vault:auth/x#token" }\n');
  assert.deepEqual(own, ['provider.vault.token: Vault\'s own token cannot be read from Vault: use env:NAME or file:/path']);
});

test('with provider.vault configured, check and the platform resolve a vault: reference through Vault (KV v2), with Vault\'s own token from its reference', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ref-'));
  const tokenFile = join(dir, 'vault-token');
  writeFileSync(tokenFile, 'hvs.REFtestTOKEN0123456789\n', { mode: 0o600 });
  const vault = await startFakeHttp((r) => {
    if (r.headers['x-vault-token'] !== 'hvs.REFtestTOKEN0123456789') return { status: 403, json: { errors: ['permission denied'] } };
    if (r.url === '/v1/sys/internal/ui/mounts/secret/tb') return { status: 200, json: { data: { path: 'secret/', type: 'kv', options: { version: '2' } } } };
    if (r.url === '/v1/secret/data/tb') return { status: 200, json: { data: { data: { password: 'tb-password-from-vault' }, metadata: { version: 1, deletion_time: '', destroyed: false } } } };
    return { status: 404, json: { errors: [] } };
  });
  try {
    const loaded = parseConfig(`version: 1\nprovider:\n  vault: { url: "${vault.url}", insecure: true, token: "file:${tokenFile}" }\n${tb('vault:secret/tb#password')}`, 'x.yaml');
    const rows = await probeSystems(loaded, silentLogger, 2000);
    const cred = rows.find((r) => r.system === 'thingsboard credential');
    assert.deepEqual([cred?.ok, cred?.endpoint, cred?.detail], [true, 'vault:secret/tb#password', 'resolves']);
    const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
    assert.equal((await platform.credential('vault:secret/tb#password', 'tenants.acme.thingsboard.password')).reveal(), 'tb-password-from-vault');
    // Nothing is cached: a second resolution reads Vault again.
    const before = vault.requests.length;
    await platform.credential('vault:secret/tb#password', 'tenants.acme.thingsboard.password');
    assert.equal(vault.requests.length, before + 2);
    await assert.rejects(platform.credential('vault:secret/tb#user', 'tenants.acme.thingsboard.password'),
      (err: unknown) => err instanceof FirebreakError && err.code === 'SECRET_UNAVAILABLE'
        && err.message === 'tenants.acme.thingsboard.password: vault:secret/tb#user: tb in secret/ has no key "user" (its keys: password)');
  } finally { await vault.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('with provider.vault configured but unreachable, check fails the vault: reference naming it and Vault\'s address', async () => {
  const port = await freePort();
  const loaded = parseConfig(`version: 1\nprovider:\n  vault: { url: "https://127.0.0.1:${port}", token: env:FB_REF_VAULT_TOKEN }\n${tb('vault:secret/tb#password')}`, 'x.yaml');
  const rows = await probeSystems(loaded, silentLogger, 2000);
  const cred = rows.find((r) => r.system === 'thingsboard credential');
  assert.equal(cred?.ok, false, 'not a pass');
  assert.equal(cred?.endpoint, 'vault:secret/tb#password');
  // Vault's own token is resolved first: its reference is named when it is missing.
  assert.equal(cred?.detail, 'tenants.acme.thingsboard.password: provider.vault.token: environment variable FB_REF_VAULT_TOKEN is not set (referenced as env:FB_REF_VAULT_TOKEN)');
  const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
  const withToken = parseConfig(`version: 1\nprovider:\n  vault: { url: "https://127.0.0.1:${port}", token: { value: "hvs.inline" } }\nlab: true\nlabConfigFile: /lab/x.yaml\n${tb('vault:secret/tb#password')}`, '/lab/x.yaml');
  const labPlatform = createPlatform(withToken, silentLogger, executorResolver(withToken));
  await assert.rejects(labPlatform.credential('vault:secret/tb#password', 'tenants.acme.thingsboard.password'),
    new RegExp(`: tenants\\.acme\\.thingsboard\\.password: vault:secret/tb#password: vault at https://127\\.0\\.0\\.1:${port} is unreachable`));
  await assert.rejects(platform.connect('thingsboard', loaded.config.tenants['acme']?.thingsboard ?? assert.fail(), 'tenants.acme.thingsboard'), /tenants\.acme\.thingsboard\.password: provider\.vault\.token: environment variable FB_REF_VAULT_TOKEN is not set/);
});

test('check refuses a vault: reference of a configuration that skipped loading\'s rules, naming provider.vault', async () => {
  const loaded = parseConfig(`version: 1\n${tb('env:FB_REF_UNUSED')}`, 'x.yaml');
  const acme = loaded.config.tenants['acme'];
  assert.ok(acme?.thingsboard !== undefined);
  const crafted: LoadedConfig = { ...loaded, config: { ...loaded.config, tenants: { acme: { ...acme, thingsboard: { ...acme.thingsboard, password: 'vault:secret/tb#password' } } } } };
  const rows = await probeSystems(crafted, silentLogger, 2000);
  assert.match(rows.find((r) => r.system === 'thingsboard credential')?.detail ?? '', /tenants\.acme\.thingsboard\.password: vault:secret\/tb#password needs Vault, but no Vault is configured \(provider\.vault\)/);
});

test('the lab\'s executors: only a lab configuration may name them; an unknown executor is refused elsewhere; the schema has no lab executor kind', () => {
  const wg = (executor: string) => `tenants:\n  acme:\n    wireguard: { interface: wg0, executor: ${executor} }\n`;
  const outside = problems(`version: 1\n${wg('lab-wireguard')}`);
  assert.deepEqual(outside, ['tenants.acme.wireguard.executor: refers to executor "lab-wireguard", which is not defined under executors (known: local); "lab-wireguard" is provided by the lab only, in the configurations `firebreak drill` and `firebreak lab up` generate']);
  assert.deepEqual(problems(`version: 1\n${wg('gateway')}`), ['tenants.acme.wireguard.executor: refers to executor "gateway", which is not defined under executors (known: local)']);
  const kind = problems('version: 1\nexecutors:\n  x: { kind: lab-wireguard, stateFile: /s, confDir: /c }\n');
  assert.match(kind.join('\n'), /^executors\.x\.kind: /m, 'lab-wireguard is no executor kind of firebreak.yaml');
  const lab = parseConfig(`version: 1\nlab: true\nlabConfigFile: /lab/firebreak.yaml\n${wg('lab-wireguard')}`, '/lab/firebreak.yaml');
  assert.equal(lab.config.tenants['acme']?.wireguard?.executor, 'lab-wireguard');
  assert.deepEqual(lab.warnings, []);
  const labOther = problems(`version: 1\nlab: true\nlabConfigFile: /lab/firebreak.yaml\n${wg('gateway')}`, '/lab/firebreak.yaml');
  assert.deepEqual(labOther, ['tenants.acme.wireguard.executor: refers to executor "gateway", which is not defined under executors (known: local, lab-wireguard)']);
});
