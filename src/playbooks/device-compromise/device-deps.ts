import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirebreakError } from '../../lib/errors.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import type { StepCaClient } from '../../connectors/step-ca/step-ca-client.ts';
import { certificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import type { WireguardClient } from '../../connectors/wireguard/wireguard-client.ts';
import type { ThingsboardClient } from '../../connectors/thingsboard/thingsboard-client.ts';
import type { HawkbitClient } from '../../connectors/hawkbit/hawkbit-client.ts';
import type { Executor } from '../../connectors/executor/executor-types.ts';
import { readPem } from '../../connectors/connector-tls.ts';
import type { TenantConfig } from '../../config/index.ts';
import { platformOf, tenantOf, type PlatformEnv } from '../platform.ts';
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
  /** The Firebreak host's own files (the replacement certificate is written through it, like every other effect). */
  readonly files: Executor;
  /** Local files given on the command line (--cert, --csr). */
  readonly readLocal: (path: string, what: string) => string;
}

export async function connectDevice(env: PlatformEnv, input: DeviceCompromiseInput): Promise<DeviceDeps> {
  const p = platformOf(env);
  const t = tenantOf(p, input.tenant);
  const where = `tenants.${input.tenant}`;
  const log = p.log.child({ connector: input.tenant });
  const ca = t.stepCa === undefined ? undefined : await p.connect('step-ca', t.stepCa, `${where}.stepCa`, { label: `${input.tenant} Sub-CA`, log });
  const subCaCert = t.stepCa?.caCertFile === undefined ? undefined : (await certificateFacts(readPem(t.stepCa.caCertFile, `${where}.stepCa.caCertFile`), `${where}.stepCa.caCertFile`)).cert;
  const wireguard = t.wireguard === undefined ? undefined : await p.connect('wireguard', t.wireguard, `${where}.wireguard`, { log });
  const tb = t.thingsboard === undefined ? undefined : await p.connect('thingsboard', t.thingsboard, `${where}.thingsboard`, { log });
  const hawkbit = t.hawkbit === undefined ? undefined : await p.connect('hawkbit', t.hawkbit, `${where}.hawkbit`, { log });
  return {
    tenantId: input.tenant, tenant: t, stateDir: p.loaded.stateDir, ca, subCaCert, wg: wireguard?.wg, peers: wireguard?.peers, tb, hawkbit,
    files: await p.executor('local'),
    readLocal: (path, what) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (cause) {
        throw new FirebreakError('INVALID_INPUT', `cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
      }
    },
  };
}

export function defaultCertOut(deps: DeviceDeps, replacement: string): string {
  return join(deps.stateDir, 'certificates', deps.tenantId, `${replacement.replace(/[^A-Za-z0-9._-]/g, '_')}.crt`);
}
