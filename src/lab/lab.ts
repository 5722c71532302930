import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import type { Executor } from '../connectors/executor/executor-types.ts';
import { startLabDatabase, type ExternalPostgres, type LabDatabase } from './postgres/lab-database.ts';
import type { FaultSettings } from './lab-faults.ts';
import type { Simulator } from './lab-server.ts';
import { startThingsboardSim, type ThingsboardSim } from './thingsboard/thingsboard-sim.ts';
import { enrollmentAgent } from './device-agent.ts';
import { startHawkbitSim } from './hawkbit/hawkbit-sim.ts';
import { startStepCaSim, type StepCaSim } from './step-ca/step-ca-sim.ts';
import { createLabPki, exportKeyPem, issueDeviceCert, issueServerCert, selfSigned } from './step-ca/step-ca-pki.ts';
import { createWireguardStandin, wgKeyPair, type StandinPeer } from './wireguard/wireguard-standin.ts';
import { labWireguardFiles } from './lab-executors.ts';
import { startVaultSim, type VaultSim } from './vault/vault-sim.ts';
import { createLabVaultLayout, LAB_TENANTS, withLabVaultCalls, type LabVaultLayout } from './vault/vault-layout.ts';
import { createLabAppRoleServices, type LabAppRoleService, type LabAppRoleServiceConfig } from './vault/lab-approle-services.ts';
import type { configSchema, LabExecutorName } from '../config/index.ts';

type LabConfigInput = z.input<typeof configSchema>;

export interface LabOptions {
  /** Directory for the lab's files (config, PKI, cdm_peers.json, wg0.conf, state). */
  readonly dir: string;
  readonly tenant?: string;
  readonly devices?: number;
  readonly faults?: FaultSettings;
  readonly seed?: number;
  /** Also provide a real PostgreSQL with a role, its .env and a consuming service (db-credential-leak): a local throwaway cluster, or a configured server. */
  readonly postgres?: boolean | ExternalPostgres;
  /** Devices that do not answer a re-enrollment (subca-compromise), by name; read at each delivery, so a test can bring them back. */
  readonly offlineDevices?: ReadonlySet<string>;
  /** PEM the devices trust for an https tenant CA (a real step-ca in tests). */
  readonly deviceCaTrust?: string;
  /** How long a device has to re-enroll (default 10s). */
  readonly reenrollTimeout?: string;
  /** The provider CA is kept offline (no API): its steps become manual. */
  readonly providerOffline?: boolean;
  /**
   * `fixed`: the documented lab credentials ({@link FIXED_LAB_CREDENTIALS}),
   * for `firebreak lab up`, where a person points their own tools at the lab.
   * Default `random`: new passwords each start, as drills and tests use.
   */
  readonly credentials?: 'random' | 'fixed';
  /** First line of the generated firebreak.yaml: who wrote it. */
  readonly generatedBy?: string;
}

/** A simulator's login: a user name (or provisioner) and its password. */
export interface LabLogin { readonly username: string; readonly password: string }

export interface LabCredentials {
  readonly thingsboard: LabLogin;
  readonly hawkbit: LabLogin;
  /** The tenant Sub-CA's JWK provisioner. */
  readonly stepCa: LabLogin;
  /** The provider CA's provisioner that signs Sub-CAs. */
  readonly providerCa: LabLogin;
  /**
   * The lab Vault's userpass operator. Vault's root token and unseal shares
   * are not among these: the lab Vault is initialised at each start, as
   * `vault operator init` does, so they are new every time in both modes
   * (written to the lab directory, see {@link LabVault}).
   */
  readonly vault: LabLogin;
}

/**
 * The lab's fixed credentials (docs/lab.md): the vendors' own demo logins
 * where they have one (ThingsBoard's demo tenant administrator, hawkBit's
 * default admin), so tutorials and tools work unchanged. Lab only: nothing
 * outside a lab accepts them.
 */
export const FIXED_LAB_CREDENTIALS: LabCredentials = {
  thingsboard: { username: 'tenant@thingsboard.org', password: 'tenant' },
  hawkbit: { username: 'admin', password: 'admin' },
  stepCa: { username: 'firebreak', password: 'firebreak-lab' },
  providerCa: { username: 'sub-ca-signer', password: 'firebreak-lab' },
  vault: { username: 'operator', password: 'operator-lab-password' },
};

function randomCredentials(tenant: string): LabCredentials {
  const pw = () => randomBytes(18).toString('base64url');
  return {
    thingsboard: { username: `tenant@${tenant}.lab`, password: pw() },
    hawkbit: { username: 'firebreak', password: pw() },
    stepCa: { username: 'firebreak', password: pw() },
    providerCa: { username: 'sub-ca-signer', password: pw() },
    vault: { username: 'operator', password: pw() },
  };
}

/** The provider's lab Vault: what a drill or a test needs beyond the generated firebreak.yaml. */
export interface LabKeyHolder {
  readonly name: string;
  readonly publicKeyFile: string;
  readonly privateKeyFile: string;
}

export interface LabVault {
  readonly sim: VaultSim;
  readonly url: string;
  /** The standard layout (vault-layout.ts): tenants, each AppRole role's role_id, the userpass operator. */
  readonly layout: LabVaultLayout;
  /**
   * The unseal shares of the lab's init (5 shares, threshold 3), base64: what
   * the key holders would hold. Lab only: the drill plays the quorum with
   * them; a real Vault's shares never pass through Firebreak.
   */
  readonly unsealKeys: string[];
  readonly threshold: number;
  /**
   * The key holders of the rekey ceremony (provider.vault.rekey): an OpenPGP
   * key pair each, the public key in a file the configuration names, the
   * private one in a 0600 file beside it (lab only: real holders keep theirs).
   */
  readonly holders: readonly LabKeyHolder[];
  /** The file audit device's log (Vault's JSON lines). */
  readonly auditFile: string;
  /** The root token's file (0600), which firebreak.yaml references as `file:`. */
  readonly tokenFile: string;
  /**
   * The lab Vault serves HTTPS with a certificate from a CA of its own: the
   * CA's certificate (0644, provider.vault.caFile) and its PEM, which every
   * client of the lab Vault pins. Neither key is written anywhere.
   */
  readonly caFile: string;
  readonly caPem: string;
  /** The services that log in with AppRole (lab-approle-services.ts): recovery gives each a new secret_id. */
  readonly services: readonly LabAppRoleService[];
  /** What provider.vault.services says about them. */
  readonly servicesConfig: Readonly<Record<string, LabAppRoleServiceConfig>>;
}

export interface Lab {
  readonly dir: string;
  readonly configPath: string;
  readonly tenant: string;
  readonly devices: readonly string[];
  readonly simulators: Readonly<Record<'step-ca' | 'provider-ca' | 'thingsboard' | 'hawkbit' | 'vault', Simulator>> & { readonly thingsboard: ThingsboardSim; readonly 'provider-ca': StepCaSim; readonly vault: VaultSim };
  /** The provider's Vault (vault-breach). */
  readonly vault: LabVault;
  /** The tenant CA's certificate and key files (as its host holds them). */
  readonly subCaFiles: { readonly certFile: string; readonly keyFile: string };
  /** The tenant's WireGuard host stand-in (no root needed). */
  readonly wireguard: Executor;
  /** The lab database, when started. */
  readonly postgres: LabDatabase | undefined;
  /** The simulators' logins (also in the generated firebreak.yaml). */
  readonly credentials: LabCredentials;
  stop(): Promise<void>;
}

/**
 * Starts the lab platform for one tenant: a Sub-CA (step-ca simulator over a
 * lab PKI), ThingsBoard and hawkBit simulators holding N devices, a WireGuard
 * gateway stand-in with one peer per device, and the tenant's cdm_peers.json;
 * then writes a `lab: true` firebreak.yaml pointing at all of it.
 */
export async function startLab(options: LabOptions): Promise<Lab> {
  // Absolute: the generated config names its own path (labConfigFile), and a relative one is refused.
  const o = { ...options, dir: resolve(options.dir) };
  const tenant = o.tenant ?? 'acme';
  const n = o.devices ?? 3;
  const seed = o.seed ?? 1;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const devices = Array.from({ length: n }, (_, i) => `device-${String(i + 1).padStart(3, '0')}`);
  const pki = await createLabPki(tenant);
  writeFileSync(join(o.dir, 'root_ca.crt'), pki.root.pem);
  writeFileSync(join(o.dir, 'sub_ca.crt'), pki.subCa.pem);
  const certs = await Promise.all(devices.map((d) => issueDeviceCert(pki.subCa, d)));
  certs.forEach((c, i) => { writeFileSync(join(o.dir, `${devices[i] ?? ''}.crt`), c.toString('pem')); });

  const credentials = o.credentials === 'fixed' ? FIXED_LAB_CREDENTIALS : randomCredentials(tenant);
  const { stepCa: ca, providerCa: provider, thingsboard: tb, hawkbit: hb } = credentials;
  const sims = { faults: o.faults ?? {}, seed };
  // The tenant CA's own files, as its host keeps them; the tenant CA (simulator) reads them like step-ca does.
  const caDir = join(o.dir, 'tenant-ca');
  mkdirSync(caDir, { recursive: true, mode: 0o700 });
  const subCaFiles = { certFile: join(caDir, 'intermediate_ca.crt'), keyFile: join(caDir, 'intermediate_ca_key') };
  writeFileSync(subCaFiles.certFile, `${pki.subCa.pem.trim()}\n${pki.provider.pem.trim()}\n`, { mode: 0o644 });
  writeFileSync(subCaFiles.keyFile, exportKeyPem(pki.subCa), { mode: 0o600 });
  writeFileSync(join(o.dir, 'provider_ca.crt'), pki.provider.pem);
  const [stepCa, providerCa, thingsboard, hawkbit] = await Promise.all([
    startStepCaSim({ ca: pki.subCa, caFiles: subCaFiles, provisioner: ca.username, password: ca.password, ...sims }),
    startStepCaSim({ ca: pki.provider, issues: 'intermediate', provisioner: provider.username, password: provider.password, ...sims, seed: seed + 3 }),
    startThingsboardSim({
      username: tb.username, password: tb.password, devices: devices.map((name, i) => ({ name, type: 'sensor', telemetry: { temperature: String(20 + (i % 7)), firmware: '1.4.2', rssi: String(-60 - (i % 20)) } })), ...sims, seed: seed + 1,
      deviceAgent: enrollmentAgent({ offline: o.offlineDevices ?? new Set(), ...(o.deviceCaTrust === undefined ? {} : { caTrust: o.deviceCaTrust }) }),
    }),
    startHawkbitSim({ username: hb.username, password: hb.password, targets: devices.map((controllerId, i) => ({ controllerId, ipAddress: `10.8.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}` })), ...sims, seed: seed + 2 }),
  ]);

  const vault = await startLabVault(o.dir, credentials.vault, sims);

  const server = wgKeyPair();
  const peers: StandinPeer[] = [];
  const peersJson: Record<string, unknown> = {};
  devices.forEach((d, i) => {
    const k = wgKeyPair();
    const ip = `10.8.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}/32`;
    peers.push({ publicKey: k.publicKey, presharedKey: null, endpoint: `192.0.2.${(i % 250) + 1}:51820`, allowedIps: [ip], latestHandshake: Math.floor(Date.now() / 1000) - 30 - i, rx: 1000 * (i + 1), tx: 2000 * (i + 1), keepalive: 25 });
    peersJson[d] = { publicKey: k.publicKey, allowedIPs: ip, certSerial: `0x${(certs[i]?.serialNumber ?? '').toLowerCase()}`, enrolledAt: new Date().toISOString(), hardware: { model: 'lab-sensor' } };
  });
  writeFileSync(join(o.dir, 'cdm_peers.json'), `${JSON.stringify({ version: 1, interface: 'wg0', peers: peersJson }, null, 2)}\n`, { mode: 0o640 });
  const wgFiles = labWireguardFiles(o.dir);
  writeFileSync(wgFiles.stateFile, JSON.stringify({ wg0: { ...server, listenPort: 51820, address: '10.8.0.1/16', peers } }), { mode: 0o600 });
  const wg = createWireguardStandin(wgFiles);
  await wg.exec({ argv: ['wg-quick', 'save', 'wg0'] });

  // Typed as the file's input schema (assembled from the connector registry): a key the registry no longer has fails to compile here.
  // The gateway's executor is the lab's own (lab-executors.ts): named, not defined under executors.
  const wgExecutor: LabExecutorName = 'lab-wireguard';
  const config: LabConfigInput = {
    version: 1, lab: true, labConfigFile: join(o.dir, 'firebreak.yaml'), stateDir: 'state',
    engine: { concurrency: 8, rateLimits: { 'step-ca': 200, thingsboard: 200, hawkbit: 200 } },
    tenants: {
      [tenant]: {
        stepCa: { url: stepCa.url, caCertFile: join(o.dir, 'sub_ca.crt'), provisioner: ca.username, provisionerPassword: { value: ca.password } },
        // The lab's tenant CA re-reads its files when they change: its "restart" has nothing left to do.
        subCa: { executor: 'local', ...subCaFiles, restart: { kind: 'command', argv: ['true'] }, reenroll: { concurrency: 16, timeout: o.reenrollTimeout ?? '10s', pollInterval: '100ms' } },
        wireguard: { interface: 'wg0', executor: wgExecutor, peersJson: { path: join(o.dir, 'cdm_peers.json'), executor: wgExecutor }, persist: 'wg-quick-save', configFile: join(o.dir, 'wg0.conf') },
        thingsboard: { url: thingsboard.url, username: tb.username, password: { value: tb.password } },
        hawkbit: { url: hawkbit.url, username: hb.username, password: { value: hb.password } },
      },
    },
  };
  const postgres = o.postgres === undefined || o.postgres === false ? undefined : await startLabDatabase(join(o.dir, 'postgres'), o.postgres === true ? undefined : o.postgres);
  config.provider = {
    stepCa: { url: providerCa.url, caCertFile: join(o.dir, 'provider_ca.crt'), provisioner: provider.username, provisionerPassword: { value: provider.password }, ...(o.providerOffline === true ? { offline: true } : {}) },
    ...(postgres === undefined ? {} : { timescaledb: postgres.config }),
    // The token is a reference to its 0600 file, never a literal, even in the lab: it is the root token.
    vault: {
      url: vault.url, token: `file:${vault.tokenFile}`, caFile: vault.caFile,
      rekey: { holders: vault.holders.map((h) => ({ name: h.name, pgpKey: h.publicKeyFile })), threshold: VAULT_THRESHOLD },
      services: { ...vault.servicesConfig },
    },
  };
  // The lab Vault's file audit device: what vault-breach's assessment reads.
  config.assess = { vaultAudit: { logs: [vault.auditFile] } };
  const configPath = join(o.dir, 'firebreak.yaml');
  writeFileSync(configPath, `# Generated by ${o.generatedBy ?? 'firebreak drill'}: a lab configuration (lab: true allows inline secrets and http).\n${stringify(config)}`, { mode: 0o600 });
  return {
    dir: o.dir, configPath, tenant, devices,
    simulators: { 'step-ca': stepCa, 'provider-ca': providerCa, thingsboard, hawkbit, vault: vault.sim },
    vault,
    subCaFiles,
    wireguard: wg,
    postgres,
    credentials,
    stop: async () => { await postgres?.stop(); await Promise.all([stepCa.stop(), providerCa.stop(), thingsboard.stop(), hawkbit.stop(), vault.sim.stop()]); },
  };
}

const VAULT_SHARES = 5;
const VAULT_THRESHOLD = 3;
/** The holders of the new shares after the rekey, one each (VAULT_SHARES of them). */
const LAB_KEY_HOLDERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;

/**
 * The provider's Vault: HTTPS from a lab CA (a fresh one each start, its
 * certificate in `<dir>/vault-ca.pem`, the keys in memory only), initialised
 * with 5 shares / threshold 3 and unsealed, a file audit device in the lab
 * directory, the standard layout built through Vault's API; faults apply
 * only once the layout is in place (a drill's injected 503s are for the
 * playbook, not for the lab's set-up).
 */
async function startLabVault(dir: string, operator: LabLogin, sims: { faults: FaultSettings; seed: number }): Promise<LabVault> {
  const auditFile = join(dir, 'vault-audit.log');
  const ca = await selfSigned('CN=Firebreak Lab Vault CA');
  const caFile = join(dir, 'vault-ca.pem');
  writeFileSync(caFile, `${ca.pem.trim()}\n`, { mode: 0o644 });
  // Both names a client may use for the lab's address: the simulator listens on 127.0.0.1.
  const https = await issueServerCert(ca, ['127.0.0.1', 'localhost']);
  const sim = await startVaultSim({ shares: VAULT_SHARES, threshold: VAULT_THRESHOLD, auditFile, seed: sims.seed + 4, https });
  try {
    const layout = await createLabVaultLayout(sim, LAB_TENANTS, operator, ca.pem);
    const services = await withLabVaultCalls(sim, ca.pem, (call) => createLabAppRoleServices(dir, sim.url, caFile, layout.roleIds, call));
    const tokenFile = join(dir, 'vault-token');
    writeFileSync(tokenFile, `${sim.rootToken}\n`, { mode: 0o600 });
    sim.faults.set(sims.faults);
    const holders = await labKeyHolders(join(dir, 'vault-holders'));
    return { sim, url: sim.url, layout, unsealKeys: [...sim.unsealKeys], threshold: VAULT_THRESHOLD, holders, auditFile, tokenFile, caFile, caPem: ca.pem, services: services.services, servicesConfig: services.config };
  } catch (e) {
    await sim.stop();
    throw e;
  }
}

/** The lab's key holders: a fresh OpenPGP key pair each (Curve25519), as each person would make with `gpg --gen-key`. */
async function labKeyHolders(dir: string): Promise<LabKeyHolder[]> {
  const { generateKey } = await import('openpgp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return Promise.all(LAB_KEY_HOLDERS.map(async (name) => {
    const { publicKey, privateKey } = await generateKey({ userIDs: [{ name, email: `${name}@lab.example` }], format: 'armored' });
    const publicKeyFile = join(dir, `${name}.asc`);
    const privateKeyFile = join(dir, `${name}.key.asc`);
    writeFileSync(publicKeyFile, publicKey);
    writeFileSync(privateKeyFile, privateKey, { mode: 0o600 });
    return { name, publicKeyFile, privateKeyFile };
  }));
}
