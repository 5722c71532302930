// Audit entries written for the assessment's tests, in the shape Vault 1.x's
// file device writes them (struct key order; FORMAT.md beside the real
// samples): a request entry, and its response entry with the same id.
import { randomUUID } from 'node:crypto';
import type { AssessOptions } from '../../src/assess/vault-audit-types.ts';

export const HMAC = (n: number): string => `hmac-sha256:${n.toString(16).padStart(64, '0')}`;

export interface EntrySpec {
  readonly time?: string;
  readonly path: string;
  readonly operation?: string;
  readonly id?: string | null;
  readonly error?: string;
  readonly remote?: string;
  readonly policies?: readonly string[];
  readonly accessor?: string;
  readonly mountType?: string;
  readonly mountPoint?: string;
  readonly responseAuth?: boolean;
  readonly data?: Record<string, unknown>;
}

function entry(type: 'request' | 'response', s: EntrySpec, id: string | null): Record<string, unknown> {
  const request: Record<string, unknown> = {
    ...(id === null ? {} : { id }), operation: s.operation ?? 'read', ...(s.mountType === undefined ? {} : { mount_type: s.mountType }),
    ...(s.mountPoint === undefined ? {} : { mount_point: s.mountPoint }), client_token: HMAC(1), client_token_accessor: s.accessor ?? HMAC(2),
    namespace: { id: 'root' }, path: s.path, remote_address: s.remote ?? '10.1.2.3',
  };
  return {
    time: s.time ?? '2026-12-01T10:00:00.123456Z', type,
    auth: { client_token: HMAC(1), accessor: s.accessor ?? HMAC(2), display_name: 'approle', policies: s.policies ?? ['default', 'app'], token_type: 'service' },
    request,
    ...(type === 'response' ? { response: { mount_type: s.mountType ?? 'kv', ...(s.responseAuth === true ? { auth: { client_token: HMAC(3), accessor: HMAC(4) } } : {}), data: s.data ?? { value: HMAC(5) } } } : {}),
    ...(s.error === undefined ? {} : { error: s.error }),
  };
}

/** The request line and the response line of one operation. */
export function pair(s: EntrySpec): [string, string] {
  const id = s.id === undefined ? randomUUID() : s.id;
  return [JSON.stringify(entry('request', s, id)), JSON.stringify(entry('response', s, id))];
}

export const requestOnly = (s: EntrySpec): string => JSON.stringify(entry('request', s, s.id === undefined ? randomUUID() : s.id));
export const responseOnly = (s: EntrySpec): string => JSON.stringify(entry('response', s, s.id === undefined ? randomUUID() : s.id));

/** The defaults of docs/assess.md, every entry in the window. */
export const ALL: AssessOptions = {
  since: undefined, until: undefined, tenantPaths: ['secret/data/tenants/{tenant}/*', 'secret/metadata/tenants/{tenant}/*', 'api_keys/{tenant}/*'],
  testTenants: [], widespreadAbove: 10, allowedNetworks: [], kvMounts: [],
};
