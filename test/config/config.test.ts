import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, resolveCredential, starterConfig, configSchema } from '../../src/config/index.ts';
import { configJsonSchema } from '../../src/config/config-jsonschema.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { Secret } from '../../src/lib/secret.ts';

const BROKEN = new URL('./fixtures/broken/', import.meta.url);

function problemsOf(fn: () => unknown): { path: string; message: string; line?: number }[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FirebreakError, String(err));
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.details?.['problems'] as { path: string; message: string }[];
  }
  assert.fail('expected CONFIG_INVALID');
}

const files = readdirSync(BROKEN).filter((f) => f.endsWith('.yaml')).sort();
test('the broken corpus is large enough to mean something', () => {
  assert.ok(files.length >= 20, `${files.length} broken files`);
});

for (const file of files) {
  test(`broken config ${file}: every expected problem is reported as path: message`, () => {
    const text = readFileSync(new URL(file, BROKEN), 'utf8');
    const expects = [...text.matchAll(/^# expect: (.*)$/gm)].map((m) => m[1] ?? '');
    assert.ok(expects.length > 0, 'fixture declares what it expects');
    const problems = problemsOf(() => parseConfig(text, file));
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    for (const e of expects) assert.ok(lines.some((l) => l.startsWith(e) || l.includes(e)), `expected "${e}" among:\n${lines.join('\n')}`);
    for (const p of problems) assert.ok(p.path.length > 0 && p.message.length > 0);
  });
}

test('problems carry the YAML line they are on', () => {
  const problems = problemsOf(() => parseConfig('version: 1\ntenants:\n  acme:\n    thingsboard:\n      url: https://tb\n      username: u\n      pasword: env:X\n', 'x.yaml'));
  const typo = problems.find((p) => p.path === 'tenants.acme.thingsboard.pasword');
  assert.equal(typo?.line, 7);
  assert.ok(problems.some((p) => p.path === 'tenants.acme.thingsboard.password' && p.message === 'is required'));
});

test('a missing file says so and suggests firebreak init', () => {
  assert.throws(() => loadConfig('/nonexistent/firebreak.yaml'), /does not exist: create one with `firebreak init`/);
});

test('the starter file validates, and paths resolve against the file\'s directory', () => {
  const c = parseConfig(starterConfig(), '/etc/firebreak/firebreak.yaml');
  assert.equal(c.stateDir, '/etc/firebreak/.firebreak');
  assert.equal(c.journalKeyFile, '/etc/firebreak/.firebreak/journal.key');
  assert.equal(c.rtoMs['device-compromise']?.['containment'], 300_000);
  assert.deepEqual(c.warnings, []);
  assert.equal(c.config.tenants['acme']?.wireguard?.interface, 'wg0');
});

test('a lab configuration may inline secrets and use http; elsewhere insecure: true is a warning', () => {
  const lab = parseConfig('version: 1\nlab: true\nlabConfigFile: /lab/firebreak.yaml\ntenants:\n  acme:\n    hawkbit: {url: "http://127.0.0.1:1", username: u, password: {value: secret-value}}\n', '/lab/firebreak.yaml');
  assert.deepEqual(lab.warnings, []);
  const insecure = parseConfig('version: 1\ntenants:\n  acme:\n    hawkbit: {url: "http://hb.internal", insecure: true, username: u, password: env:HB}\n', 'x.yaml');
  assert.ok(insecure.warnings.some((w) => w.path === 'tenants.acme.hawkbit.url' && /plain http/.test(w.message)));
});

test('credential references resolve to Secrets; errors name the reference, never a value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-cred-'));
  try {
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret-from-file\n');
    chmodSync(file, 0o600);
    assert.equal((await resolveCredential(`file:${file}`, 'x', {})).reveal(), 's3cret-from-file');
    assert.equal((await resolveCredential('env:FB_TEST_PW', 'x', { env: { FB_TEST_PW: 'from-env-value' } })).reveal(), 'from-env-value');
    assert.equal(String(await resolveCredential('env:FB_TEST_PW', 'x', { env: { FB_TEST_PW: 'from-env-value' } })), '[REDACTED]');
    await assert.rejects(resolveCredential('env:FB_MISSING', 'tenants.acme.hawkbit.password', { env: {} }), /tenants.acme.hawkbit.password: environment variable FB_MISSING is not set/);
    await assert.rejects(resolveCredential(`file:${join(dir, 'nope')}`, 'p', {}), /cannot read .*nope.*ENOENT/);
    await assert.rejects(resolveCredential('vault:secret/data/x#pw', 'p', {}), /no Vault is configured/);
    const fromVault = await resolveCredential('vault:secret/data/x#pw', 'p', { vault: async (path, key) => { assert.equal(path, 'secret/data/x'); assert.equal(key, 'pw'); return new Secret('v-value'); } });
    assert.equal(fromVault.reveal(), 'v-value');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/firebreak.schema.json is generated from the same definition (node src/config/config-jsonschema.ts --write)', () => {
  assert.equal(readFileSync(new URL('../../docs/firebreak.schema.json', import.meta.url), 'utf8'), configJsonSchema());
});

test('docs/configuration.md mentions every top-level key and every system of a stack', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const keys = [...Object.keys(configSchema.shape), 'stepCa', 'keycloak', 'timescaledb', 'wireguard', 'thingsboard', 'hawkbit', 'vault', 'dns', 'smtp', 'contacts', 'ssh', 'compose', 'systemd', 'command'];
  for (const k of keys) assert.ok(doc.includes(`\`${k}\``), `docs/configuration.md does not mention \`${k}\``);
});
