import { readFileSync } from 'node:fs';
import { FirebreakError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Secret } from '../lib/secret.ts';
import type { TlsOptions } from '../lib/http-client.ts';
import type { PlaybookEnv } from '../engine/playbook-types.ts';
import { resolveCredential, type CredentialRef, type LoadedConfig, type TenantConfig } from '../config/index.ts';
import type { Executor } from '../connectors/executor/executor-types.ts';

/** What playbooks get from the application to build their connectors (PlaybookEnv.config holds it). */
export interface Platform {
  readonly loaded: LoadedConfig;
  readonly log: Logger;
  /** The executor named in config (`local` always exists); built on first use. */
  executor(name: string): Promise<Executor>;
  credential(ref: CredentialRef, where: string): Promise<Secret>;
}

export function platformOf(env: PlaybookEnv): Platform {
  return env.config as Platform;
}

export function tenantOf(p: Platform, tenantId: string): TenantConfig {
  const t = p.loaded.config.tenants[tenantId];
  if (t === undefined) {
    const known = Object.keys(p.loaded.config.tenants);
    throw new FirebreakError('NOT_FOUND', `unknown tenant "${tenantId}"; firebreak.yaml defines: ${known.join(', ') || '(no tenants)'}`);
  }
  return t;
}

/** TLS trust for an endpoint: its caFile / rootCertFile, or relaxed when `insecure`. */
export function tlsFor(e: { insecure?: boolean | undefined; caFile?: string | undefined; rootCertFile?: string | undefined }): TlsOptions | undefined {
  const file = e.caFile ?? e.rootCertFile;
  if (file === undefined) return e.insecure === true ? { insecure: true } : undefined;
  try {
    return { ca: readFileSync(file, 'utf8'), ...(e.insecure === true ? { insecure: true } : {}) };
  } catch (cause) {
    throw new FirebreakError('CONFIG_INVALID', `cannot read CA file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}

export function createPlatform(loaded: LoadedConfig, log: Logger, executors: (name: string) => Promise<Executor>): Platform {
  return {
    loaded, log, executor: executors,
    credential: (ref, where) => resolveCredential(ref, where),
  };
}

export { resolveCredential };
