import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirebreakError } from '../../lib/errors.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import type { PlaybookEnv } from '../../engine/playbook-types.ts';
import { createStepCaClient, type StepCaClient } from '../../connectors/step-ca/step-ca-client.ts';
import { certificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import { createWireguardClient, type WireguardClient } from '../../connectors/wireguard/wireguard-client.ts';
import { createThingsboardClient, type ThingsboardClient } from '../../connectors/thingsboard/thingsboard-client.ts';
import { createHawkbitClient, type HawkbitClient } from '../../connectors/hawkbit/hawkbit-client.ts';
import type { Executor } from '../../connectors/executor/executor-types.ts';
import type { TenantConfig } from '../../config/index.ts';
import { platformOf, tenantOf, tlsFor } from '../platform.ts';
import type { DeviceCompromiseInput } from './device-inputs.ts';

/** Everything the device-compromise steps talk to, built from the tenant's config. */
export interface DeviceDeps {
  readonly tenantId: string;
  readonly tenant: TenantConfig;
  readonly stateDir: string;
  readonly ca: StepCaClient | undefined;
  readonly subCaCert: X509Certificate | undefined;
  readonly wg: WireguardClient | undefined;
  readonly peers: { readonly executor: Executor; readonly path: string } | undefined;
  readonly tb: ThingsboardClient | undefined;
  readonly hawkbit: HawkbitClient | undefined;
  /** Local files given on the command line (--cert, --csr). */
  readonly readLocal: (path: string, what: string) => string;
}

export async function connectDevice(env: PlaybookEnv, input: DeviceCompromiseInput): Promise<DeviceDeps> {
  const p = platformOf(env);
  const t = tenantOf(p, input.tenant);
  const where = `tenants.${input.tenant}`;
  const logger = p.log.child({ connector: input.tenant });
  const ca = t.stepCa === undefined ? undefined : createStepCaClient({
    url: t.stepCa.url, provisioner: t.stepCa.provisioner, provisionerPassword: await p.credential(t.stepCa.provisionerPassword, `${where}.stepCa.provisionerPassword`),
    label: `${input.tenant} Sub-CA`, ...withTls(tlsFor(t.stepCa)), ...(t.stepCa.rootCertFile === undefined ? {} : { rootPem: readFileSync(t.stepCa.rootCertFile, 'utf8') }),
  }, { logger });
  const subCaCert = t.stepCa?.caCertFile === undefined ? undefined : (await certificateFacts(readFileSync(t.stepCa.caCertFile, 'utf8'), `${where}.stepCa.caCertFile`)).cert;
  const wg = t.wireguard === undefined ? undefined : createWireguardClient({
    iface: t.wireguard.interface, persist: t.wireguard.persist, ...(t.wireguard.configFile === undefined ? {} : { configFile: t.wireguard.configFile }),
  }, { executor: await p.executor(t.wireguard.executor) });
  const peers = t.wireguard?.peersJson === undefined ? undefined : { executor: await p.executor(t.wireguard.peersJson.executor ?? t.wireguard.executor), path: t.wireguard.peersJson.path };
  const tb = t.thingsboard === undefined ? undefined : createThingsboardClient({
    url: t.thingsboard.url, username: t.thingsboard.username, password: await p.credential(t.thingsboard.password, `${where}.thingsboard.password`), ...withTls(tlsFor(t.thingsboard)),
  }, { logger });
  const hawkbit = t.hawkbit === undefined ? undefined : createHawkbitClient({
    url: t.hawkbit.url, username: t.hawkbit.username, password: await p.credential(t.hawkbit.password, `${where}.hawkbit.password`), ...withTls(tlsFor(t.hawkbit)),
  }, { logger });
  return {
    tenantId: input.tenant, tenant: t, stateDir: p.loaded.stateDir, ca, subCaCert, wg, peers, tb, hawkbit,
    readLocal: (path, what) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (cause) {
        throw new FirebreakError('INVALID_INPUT', `cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
      }
    },
  };
}

function withTls<T>(tls: T | undefined): { tls?: T } {
  return tls === undefined ? {} : { tls };
}

export function defaultCertOut(deps: DeviceDeps, replacement: string): string {
  return join(deps.stateDir, 'certificates', deps.tenantId, `${replacement.replace(/[^A-Za-z0-9._-]/g, '_')}.crt`);
}
