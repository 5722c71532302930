/**
 * The result of `firebreak assess vault-audit` (docs/assess.md), as `--json`
 * prints it and as the vault-breach assessment stores it as evidence.
 * Published as docs/assess.schema.json.
 */

export const ASSESS_SCHEMA = 'firebreak.assess.vault-audit/1';

export const SUSPICIOUS_KINDS = [
  'permission-denied', 'missing-token', 'invalid-token', 'unsupported-path', 'error-other',
  'failed-login', 'remote-not-allowed', 'root-token', 'policy-change', 'audit-change', 'auth-change',
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

/** Where an operation is in the input. */
export interface Located { readonly file: string; readonly line: number }

export interface SuspiciousEvent extends Located {
  readonly kinds: readonly SuspiciousKind[];
  readonly time: string;
  readonly type: 'request' | 'response';
  readonly operation: string;
  readonly path: string;
  readonly remoteAddress: string | null;
  readonly accessor: string | null;
  readonly displayName: string | null;
  readonly error: string | null;
}

export interface InputProblem extends Located {
  readonly problem: 'not-utf8' | 'not-json' | 'incomplete' | 'bad-time';
  readonly detail: string;
}

export interface FileSummary {
  readonly file: string;
  readonly gzip: boolean;
  readonly bytes: number;
  readonly lines: number;
}

export interface FindMatch extends Located {
  readonly label: string;
  readonly time: string;
  readonly type: string;
  readonly path: string;
  /** JSON pointer of the field holding it (`/auth/client_token`). */
  readonly field: string;
}

export interface Assessment {
  readonly schema: typeof ASSESS_SCHEMA;
  readonly window: { readonly since: string | null; readonly until: string | null };
  readonly input: {
    readonly files: readonly FileSummary[];
    readonly lines: number;
    readonly entries: { readonly request: number; readonly response: number };
    readonly otherTypes: Readonly<Record<string, number>>;
    readonly problems: { readonly total: number; readonly byKind: Readonly<Record<string, number>>; readonly first: readonly InputProblem[] };
    /** Logical operations (a request and its response once), in the window and in all. */
    readonly operations: { readonly all: number; readonly inWindow: number; readonly requestOnly: number; readonly withoutId: number };
  };
  readonly suspicious: {
    readonly total: number;
    readonly byKind: Readonly<Record<SuspiciousKind, number>>;
    readonly allowListChecked: boolean;
    /** Suspicious operations counted but not listed (beyond the first 100,000). */
    readonly omitted: number;
    readonly events: readonly SuspiciousEvent[];
  };
  readonly secretsRead: {
    readonly reads: number;
    readonly lists: number;
    readonly distinctPaths: number;
    readonly paths: readonly { readonly path: string; readonly reads: number; readonly lists: number }[];
  };
  readonly tenants: {
    readonly patterns: readonly string[];
    readonly affected: readonly { readonly tenant: string; readonly reads: number; readonly lists: number; readonly paths: number }[];
    readonly excludedTest: readonly string[];
    readonly threshold: number;
    readonly scope: 'widespread' | 'limited' | 'none';
  };
  readonly matches?: readonly FindMatch[];
}
