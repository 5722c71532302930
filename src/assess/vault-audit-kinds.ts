/**
 * The assessment's kinds and options, without the schema (docs/assess.md):
 * what a worker thread scanning a range loads.
 */

export const ASSESS_SCHEMA = 'firebreak.assess.vault-audit/1';

/**
 * The kinds of suspicious operation. Their names are keys of `byKind`: none may look like a secret's key (`…token`,
 * `…password`), or the output's redaction by key would hide its count.
 */
export const SUSPICIOUS_KINDS = [
  'permission-denied', 'token-missing', 'token-invalid', 'unsupported-path', 'error-other',
  'failed-login', 'remote-not-allowed', 'root-policy', 'policy-change', 'audit-change', 'auth-change',
] as const;
export type SuspiciousKind = typeof SUSPICIOUS_KINDS[number];

export interface AssessOptions {
  /** Inclusive start and exclusive end of the window (ms since the epoch); undefined: unbounded. */
  readonly since: number | undefined;
  readonly until: number | undefined;
  /** Tenant patterns on the full path: `{tenant}` one segment, a trailing `*` any rest. */
  readonly tenantPaths: readonly string[];
  readonly testTenants: readonly string[];
  /** More affected tenants than this: widespread. */
  readonly widespreadAbove: number;
  /** CIDRs remote addresses must be in; empty: not checked. */
  readonly allowedNetworks: readonly string[];
  /** KV mounts, as `secret/`; empty: from the entries and the paths. */
  readonly kvMounts: readonly string[];
  /** HMACs (`hmac-sha256:…`) or raw values to find, by label; every line using one is listed. */
  readonly find?: readonly { readonly label: string; readonly hashes: readonly string[] }[];
}

