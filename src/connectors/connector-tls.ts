import { readFileSync } from 'node:fs';
import { FirebreakError } from '../lib/errors.ts';
import type { TlsOptions } from '../lib/http-client.ts';

/** The TLS keys an endpoint may carry in firebreak.yaml. */
export interface EndpointTls {
  readonly insecure?: boolean | undefined;
  readonly caFile?: string | undefined;
  readonly rootCertFile?: string | undefined;
}

/**
 * The one place an endpoint's TLS trust is read: its caFile / rootCertFile, or
 * relaxed when `insecure`; as an object to spread into a client's config
 * (`{}` when the defaults apply, so `exactOptionalPropertyTypes` holds).
 */
export function tlsOption(e: EndpointTls, where: string): { tls?: TlsOptions } {
  const file = e.caFile ?? e.rootCertFile;
  if (file === undefined) return e.insecure === true ? { tls: { insecure: true } } : {};
  return { tls: { ca: readPem(file, `${where} CA file`), ...(e.insecure === true ? { insecure: true } : {}) } };
}

/** Reads a PEM file named in the configuration; a failure names the file and the key, never its content. */
export function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new FirebreakError('CONFIG_INVALID', `cannot read ${what} ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
}
