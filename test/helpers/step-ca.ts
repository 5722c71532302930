import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { repoRoot } from './shared.ts';
import { freePort } from '../../src/lib/free-port.ts';

export { freePort };

export const LAUNCHER = join(repoRoot, '.cache', 'step-ca', 'bin', 'step-ca-launcher');

export function stepCaProblem(): string | undefined {
  if (!existsSync(LAUNCHER)) return `${LAUNCHER} is not built (scripts/setup.d/20-step-ca.sh builds it from Debian's golang-github-smallstep-certificates-dev)`;
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is not installed';
  return undefined;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** An openssl-made chain: root → provider intermediate → tenant Sub-CA, and device certificates from the Sub-CA. */
export interface TestPki {
  readonly dir: string;
  readonly rootPem: string;
  readonly providerPem: string;
  readonly subCaPem: string;
  /** Root + provider + Sub-CA, to trust the CA's TLS chain. */
  readonly trustBundle: string;
  deviceCert(name: string): string;
  csr(name: string): string;
}

export function makePki(dir: string): TestPki {
  const ext = join(dir, 'ext.cnf');
  writeFileSync(ext, [
    '[ca_root]', 'basicConstraints = critical,CA:true', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
    '[ca_provider]', 'basicConstraints = critical,CA:true,pathlen:1', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid',
    '[ca_sub]', 'basicConstraints = critical,CA:true,pathlen:0', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid',
    '[leaf]', 'basicConstraints = critical,CA:false', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = clientAuth', 'subjectAltName = DNS:$ENV::LEAF_NAME',
  ].join('\n'));
  const key = (name: string) => { openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir); };
  const issue = (name: string, subject: string, issuer: string | undefined, section: string, env: Record<string, string> = {}) => {
    key(name);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    const sign = issuer === undefined
      ? ['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', '3650', '-extfile', 'ext.cnf', '-extensions', section, '-out', `${name}.crt`]
      : ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '365', '-extfile', 'ext.cnf', '-extensions', section, '-out', `${name}.crt`];
    const r = spawnSync('openssl', sign, { cwd: dir, encoding: 'utf8', env: { ...process.env, LEAF_NAME: 'none', ...env } });
    if (r.status !== 0) throw new Error(`openssl ${sign.join(' ')}: ${r.stderr}`);
  };
  issue('root_ca', '/CN=Firebreak Test Root CA', undefined, 'ca_root');
  issue('provider_ca', '/CN=Firebreak Test Provider CA', 'root_ca', 'ca_provider');
  issue('sub_ca', '/CN=acme Sub-CA', 'provider_ca', 'ca_sub');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    dir, rootPem: read('root_ca.crt'), providerPem: read('provider_ca.crt'), subCaPem: read('sub_ca.crt'),
    trustBundle: read('root_ca.crt') + read('provider_ca.crt') + read('sub_ca.crt'),
    deviceCert: (name) => { issue(`dev-${name}`, `/CN=${name}`, 'sub_ca', 'leaf', { LEAF_NAME: name }); return read(`dev-${name}.crt`); },
    csr: (name) => { key(`new-${name}`); openssl(['req', '-new', '-key', `new-${name}.key`, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-out', `new-${name}.csr`], dir); return read(`new-${name}.csr`); },
  };
}

/** A JWK provisioner as step-ca stores it: public key + the private key encrypted (PBES2) with a password. */
export async function makeProvisioner(name: string, password: string): Promise<{ name: string; key: JWK; encryptedKey: string }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub: JWK = { ...(await exportJWK(publicKey)), use: 'sig', alg: 'ES256' };
  pub.kid = await calculateJwkThumbprint(pub);
  const priv = { ...(await exportJWK(privateKey)), use: 'sig', alg: 'ES256', kid: pub.kid };
  const encryptedKey = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(priv)))
    .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', cty: 'jwk+json', p2c: 100_000 })
    .encrypt(new TextEncoder().encode(password));
  return { name, key: pub, encryptedKey };
}

export interface RealStepCa {
  readonly url: string;
  readonly pki: TestPki;
  readonly provisioner: string;
  readonly password: string;
  readonly kid: string;
  stop(): Promise<void>;
}

/** Starts the real step-ca (Debian's sources + our launcher) as the tenant Sub-CA, with a JWK provisioner, on 127.0.0.1. */
export async function startRealStepCa(): Promise<RealStepCa> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-stepca-'));
  const pki = makePki(dir);
  const password = 'provisioner-pw-7c2e9a';
  const prov = await makeProvisioner('firebreak', password);
  const port = await freePort();
  writeFileSync(join(dir, 'password.txt'), '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'ca.json'), JSON.stringify({
    root: join(dir, 'root_ca.crt'), crt: join(dir, 'sub_ca.crt'), key: join(dir, 'sub_ca.key'),
    address: `127.0.0.1:${port}`, dnsNames: ['127.0.0.1', 'localhost'],
    logger: { format: 'text' },
    db: { type: 'badgerv2', dataSource: join(dir, 'db') },
    authority: { provisioners: [{ type: 'JWK', name: prov.name, key: prov.key, encryptedKey: prov.encryptedKey }] },
    tls: { minVersion: 1.2, maxVersion: 1.3, renegotiation: false },
  }, null, 2));
  const child: ChildProcess = spawn(LAUNCHER, [join(dir, 'ca.json'), join(dir, 'password.txt')], { env: { ...process.env, STEPPATH: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!/Serving HTTPS on/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) { await stop(); throw new Error(`step-ca did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: `https://127.0.0.1:${port}`, pki, provisioner: prov.name, password, kid: prov.key.kid ?? '', stop };
}
