import { FirebreakError } from '../../lib/errors.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import type { Executor } from '../../connectors/executor/executor-types.ts';
import type { StepCaClient } from '../../connectors/step-ca/step-ca-client.ts';
import { certificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import type { SubCaFiles } from '../../connectors/step-ca/subca-host.ts';
import type { ThingsboardClient } from '../../connectors/thingsboard/thingsboard-client.ts';
import { readPem } from '../../connectors/connector-tls.ts';
import type { RestartSpec } from '../../connectors/restart/restart-service.ts';
import { platformOf, tenantOf, type PlatformEnv } from '../platform.ts';
import type { SubcaCompromiseInput } from './subca-inputs.ts';

// Beside the deps it goes with, for the benchmark that builds them.
export type { SubcaCompromiseInput } from './subca-inputs.ts';

export interface SubcaDeps {
  readonly tenant: string;
  /** The provider CA's API, or undefined when it is kept offline. */
  readonly provider: StepCaClient | undefined;
  readonly providerName: string;
  /** The provider CA's certificate, to check what it signs (provider.stepCa.caCertFile). */
  readonly providerCert: X509Certificate | undefined;
  readonly tenantCa: StepCaClient;
  readonly tenantCaUrl: string;
  readonly host: Executor;
  readonly files: SubCaFiles;
  readonly restart: RestartSpec;
  readonly restartExecutor: Executor;
  readonly tb: ThingsboardClient;
  readonly reenroll: { readonly concurrency: number; readonly timeoutMs: number; readonly pollMs: number };
}

export async function connectSubca(env: PlatformEnv, input: SubcaCompromiseInput): Promise<SubcaDeps> {
  const p = platformOf(env);
  const t = tenantOf(p, input.tenant);
  const where = `tenants.${input.tenant}`;
  const missing = (what: string) => new FirebreakError('CONFIG_INVALID', `${what} is not configured in firebreak.yaml; subca-compromise needs it`);
  const pca = p.loaded.config.provider?.stepCa;
  if (pca === undefined) throw missing('provider.stepCa (the provider CA that signs tenant Sub-CAs)');
  if (t.stepCa === undefined) throw missing(`${where}.stepCa (the tenant's CA)`);
  if (t.subCa === undefined) throw missing(`${where}.subCa (the tenant CA's certificate and key files, and its restart)`);
  if (t.thingsboard === undefined) throw missing(`${where}.thingsboard (the device inventory and the channel to the devices)`);
  const log = p.log.child({ connector: input.tenant });
  const provider = pca.offline === true ? undefined : await p.connect('step-ca', pca, 'provider.stepCa', { label: 'the provider CA', log });
  const tenantCa = await p.connect('step-ca', t.stepCa, `${where}.stepCa`, { label: `${input.tenant} Sub-CA`, log });
  const tb = await p.connect('thingsboard', t.thingsboard, `${where}.thingsboard`, { log });
  const { host, files } = await p.connect('sub-ca', t.subCa, `${where}.subCa`, { log });
  const { executor: restartExecutorName, ...restart } = t.subCa.restart;
  const r = t.subCa.reenroll;
  return {
    tenant: input.tenant, provider, providerName: `the provider CA${pca.offline === true ? ' (offline)' : ` at ${new URL(pca.url).origin}`}`,
    providerCert: pca.caCertFile === undefined ? undefined : (await certificateFacts(readPem(pca.caCertFile, 'provider.stepCa.caCertFile'), 'provider.stepCa.caCertFile')).cert,
    tenantCa, tenantCaUrl: t.stepCa.url, host, files,
    restart: restart as RestartSpec, restartExecutor: await p.executor(restartExecutorName ?? t.subCa.executor), tb,
    reenroll: { concurrency: r.concurrency, timeoutMs: parseDuration(r.timeout) ?? 120_000, pollMs: parseDuration(r.pollInterval) ?? 2_000 },
  };
}

export async function disconnectSubca(d: SubcaDeps): Promise<void> {
  await Promise.all([d.provider?.close(), d.tenantCa.close(), d.tb.close()]);
}
