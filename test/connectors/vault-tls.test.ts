import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyObject, webcrypto } from 'node:crypto';
import tls from 'node:tls';
import { createVaultClient } from '../../src/connectors/vault/vault-client.ts';
import { parseConfig } from '../../src/config/index.ts';
import { executorResolver, probeSystems } from '../../src/app/app-systems.ts';
import { createPlatform } from '../../src/playbooks/platform.ts';
import { exportKeyPem, issueServerCert, selfSigned, type LabCa } from '../../src/lab/step-ca/step-ca-pki.ts';
import { startVaultSim, type VaultSim } from '../../src/lab/vault/vault-sim.ts';
import { createLabVaultLayout } from '../../src/lab/vault/vault-layout.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import * as x509 from '../../src/lib/x509.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { Secret } from '../../src/lib/secret.ts';

// The Vault connector over HTTPS with a pinned CA: the lab Vault serving a certificate from a fresh CA, as the lab does (src/lab/lab.ts).

/** A lab Vault serving HTTPS with a certificate for `hosts` from `ca`. */
async function httpsVault(ca: LabCa, hosts: readonly string[] = ['127.0.0.1', 'localhost']): Promise<VaultSim> {
  return startVaultSim({ https: await issueServerCert(ca, hosts) });
}

async function caught(p: Promise<unknown>): Promise<FirebreakError> {
  try { await p; } catch (err) {
    assert.ok(err instanceof FirebreakError, `a FirebreakError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected a rejection');
}

/** A self-signed server certificate for 127.0.0.1 (no CA behind it), as one made by hand would be. */
async function selfSignedServer(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', keys, signingAlgorithm: alg, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000),
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  return { cert: cert.toString('pem'), key: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** What reached the simulator: a refused handshake sends nothing. */
const calls = (sim: VaultSim): string[] => sim.calls().map((c) => `${c.method} ${c.path}`);

test('a client pinned to the lab CA reads sys/health over https; provider.vault.caFile does the same for the connector, vault: references and check', async () => {
  const ca = await selfSigned('CN=Vault TLS test CA');
  const sim = await httpsVault(ca);
  const dir = mkdtempSync(join(tmpdir(), 'fb-vault-tls-'));
  try {
    assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const client = createVaultClient({ url: sim.url, token: new Secret(sim.rootToken), tls: { ca: ca.pem } });
    try {
      const h = await client.sys.health();
      assert.deepEqual([h.state, h.initialized, h.sealed], ['active', true, false]);
    } finally { await client.close(); }

    await createLabVaultLayout(sim, ['acme'], undefined, ca.pem);
    const caFile = join(dir, 'vault-ca.pem');
    writeFileSync(caFile, `${ca.pem.trim()}\n`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${sim.rootToken}\n`, { mode: 0o600 });
    const loaded = parseConfig(`version: 1
provider:
  vault: { url: "${sim.url}", caFile: "${caFile}", token: "file:${tokenFile}" }
tenants:
  acme:
    thingsboard: { url: "https://tb.example.net", username: u, password: "vault:secret/tenants/acme/database#password" }
`, join(dir, 'firebreak.yaml'));
    const platform = createPlatform(loaded, silentLogger, executorResolver(loaded));
    const vault = await platform.connect('vault', loaded.config.provider?.vault ?? assert.fail(), 'provider.vault');
    try { assert.equal((await vault.sys.health()).state, 'active'); } finally { await vault.close(); }
    assert.equal((await platform.credential('vault:secret/tenants/acme/database#password', 'tenants.acme.thingsboard.password')).reveal(), 'acme-db-lab-password');
    const rows = await probeSystems(loaded, silentLogger, 5000);
    assert.deepEqual(rows.filter((r) => r.system === 'vault').map((r) => [r.ok, r.detail]), [[true, 'HTTP 200']]);
  } finally { await sim.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('no CA configured: the system store does not trust the lab CA; AUTH_FAILED names the origin and the store, and nothing reaches Vault', async () => {
  const ca = await selfSigned('CN=Vault TLS test CA');
  const sim = await httpsVault(ca);
  const client = createVaultClient({ url: sim.url, token: new Secret(sim.rootToken) });
  try {
    const err = await caught(client.sys.health());
    assert.equal(err.code, 'AUTH_FAILED');
    assert.equal(err.retryable, false, 'the same certificate meets the same trust next time');
    assert.deepEqual([err.details?.['tls'], err.details?.['errno']], ['untrusted', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    assert.equal(err.message, `vault at ${sim.url}: the TLS certificate is not trusted by the system's CA store (no CA file is configured for this endpoint), so GET /v1/sys/health was not sent: set caFile to the CA that signed this server's certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
    const seal = await caught(client.sys.seal());
    assert.match(seal.message, /^vault at https:\/\/127\.0\.0\.1:\d+: the TLS certificate is not trusted by the system's CA store .*, so POST \/v1\/sys\/seal was not sent: /);
    assert.equal(sim.sealed, false);
    assert.deepEqual(calls(sim), [], 'the handshake failed before any request');
    for (const m of [err.message, seal.message, JSON.stringify(err.details)]) assert.ok(!m.includes(sim.rootToken), `token in ${m}`);
  } finally { await client.close(); await sim.close(); }

  // A self-signed server certificate is said to be one; a CA's certificate served as a server's is said not to be a server's.
  for (const [https, said] of [
    [await selfSignedServer(), 'the TLS certificate is self-signed and is not trusted by the system\'s CA store (no CA file is configured for this endpoint), so GET /v1/sys/health was not sent: set caFile to the CA that signed this server\'s certificate (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    [{ cert: ca.pem, key: exportKeyPem(ca) }, 'the TLS certificate is not one for a TLS server (its key usage or extended key usage), so GET /v1/sys/health was not sent: serve a certificate issued for TLS servers (serverAuth) (INVALID_PURPOSE)'],
  ] as const) {
    const other = await startVaultSim({ https });
    const plain = createVaultClient({ url: other.url });
    try {
      const err = await caught(plain.sys.health());
      assert.equal(err.code, 'AUTH_FAILED', err.message);
      assert.equal(err.message, `vault at ${other.url}: ${said}`);
    } finally { await plain.close(); await other.close(); }
  }
});

test('pinned to another CA: refused even while the process-wide store trusts the lab CA (the configured CA replaces the store, it does not add to it)', async () => {
  const ca = await selfSigned('CN=Vault TLS test CA');
  const other = await selfSigned('CN=Some other CA');
  const sim = await httpsVault(ca);
  const dir = mkdtempSync(join(tmpdir(), 'fb-vault-tls-'));
  const store = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...store, ca.pem]);
  try {
    const unpinned = createVaultClient({ url: sim.url });
    try { assert.equal((await unpinned.sys.health()).state, 'active', 'control: the store now trusts the lab CA'); } finally { await unpinned.close(); }

    const pinned = createVaultClient({ url: sim.url, token: new Secret(sim.rootToken), tls: { ca: other.pem } });
    try {
      const err = await caught(pinned.sys.health());
      assert.equal(err.code, 'AUTH_FAILED');
      assert.equal(err.details?.['tls'], 'untrusted');
      assert.equal(err.message, `vault at ${sim.url}: the TLS certificate is not trusted by the configured CA, so GET /v1/sys/health was not sent: the CA file must hold the CA that signed this server's certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`);
      assert.ok(!err.message.includes(sim.rootToken));
    } finally { await pinned.close(); }

    // The same through firebreak.yaml: `firebreak check` reports it for provider.vault.
    const caFile = join(dir, 'other-ca.pem');
    writeFileSync(caFile, `${other.pem.trim()}\n`);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${sim.rootToken}\n`, { mode: 0o600 });
    const loaded = parseConfig(`version: 1\nprovider:\n  vault: { url: "${sim.url}", caFile: "${caFile}", token: "file:${tokenFile}" }\n`, join(dir, 'firebreak.yaml'));
    const rows = await probeSystems(loaded, silentLogger, 5000);
    assert.deepEqual(rows.filter((r) => r.system === 'vault').map((r) => [r.ok, r.detail]), [[false, `vault at ${sim.url}: the TLS certificate is not trusted by the configured CA, so GET /v1/sys/health was not sent: the CA file must hold the CA that signed this server's certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)`]]);
    assert.deepEqual(calls(sim).filter((c) => c !== 'GET /v1/sys/health'), [], 'only the control call reached Vault');
    assert.equal(calls(sim).length, 1);
  } finally {
    tls.setDefaultCACertificates(store);
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a certificate that does not name the host: AUTH_FAILED naming the host and the names the certificate carries', async () => {
  const ca = await selfSigned('CN=Vault TLS test CA');
  for (const [hosts, names] of [[['vault.other.example'], 'DNS:vault.other.example'], [['localhost'], 'DNS:localhost']] as const) {
    const sim = await httpsVault(ca, hosts);
    const client = createVaultClient({ url: sim.url, tls: { ca: ca.pem } });
    try {
      const err = await caught(client.sys.health());
      assert.equal(err.code, 'AUTH_FAILED');
      assert.deepEqual([err.details?.['tls'], err.details?.['errno']], ['host-mismatch', 'ERR_TLS_CERT_ALTNAME_INVALID']);
      assert.equal(err.message, `vault at ${sim.url}: the TLS certificate does not match the host 127.0.0.1 (it names ${names}), so GET /v1/sys/health was not sent: use a URL whose host the certificate names, or reissue the certificate for 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)`);
      assert.deepEqual(calls(sim), []);
    } finally { await client.close(); await sim.close(); }
  }
});
