// The naive Node baseline of the Vault audit assessment: `readline` and
// `JSON.parse` per line, the aggregates of docs/assess.md (for `--all`, the
// default tenant patterns, no allow-list), in one pass. Prints the answer's
// shape (log-answer.ts) as JSON.
//
//   node bench/assess/naive-baseline.ts FILE…
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SuspiciousKind } from '../../src/assess/vault-audit-types.ts';
import { DEFAULT_TENANT_PATHS, Tally } from './log-answer.ts';

/** The last 65,536 response ids (a response seen again is counted once). */
const WINDOW = 65536;

interface Entry {
  readonly type?: unknown;
  readonly error?: unknown;
  readonly auth?: { readonly policies?: unknown; readonly token_policies?: unknown; readonly policy_results?: { readonly allowed?: unknown } | null } | null;
  readonly request?: {
    readonly id?: unknown; readonly operation?: unknown; readonly path?: unknown; readonly namespace?: { readonly path?: unknown } | null;
    readonly mount_type?: unknown; readonly mount_point?: unknown; readonly remote_address?: unknown;
  } | null;
  readonly response?: { readonly auth?: unknown } | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const hasRoot = (v: unknown): boolean => Array.isArray(v) && v.includes('root');
const usable = (id: unknown): id is string => typeof id === 'string' && id !== '' && !/^\*+$/.test(id);
const LOGIN = /^auth\/[^/]+\/login(\/[^/]+)?$/;
const POLICY = /^sys\/(policy\/|policies\/(acl|rgp|egp)\/)/;
const AUDIT = /^sys\/(audit\/|config\/auditing\/)/;
const V2 = /^([^/]+\/)(data|metadata)\//;
const TENANT = DEFAULT_TENANT_PATHS.map((p) => new RegExp(`^${p.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace('{tenant}', '([^/]+)').replace(/\*$/, '.*')}$`));

const fullPath = (e: Entry): string => str(e.request?.namespace?.path) + str(e.request?.path);

/** The kinds of suspicious event of the operation this entry stands for (docs/assess.md, "Suspicious events"). */
function kinds(e: Entry, type: 'request' | 'response', path: string): SuspiciousKind[] {
  const err = str(e.error);
  const k: SuspiciousKind[] = [];
  const pd = err.includes('permission denied');
  const mt = err.includes('missing client token');
  const it = err.includes('invalid token');
  const up = err.includes('unsupported path');
  if (pd || e.auth?.policy_results?.allowed === false) k.push('permission-denied');
  if (mt) k.push('token-missing');
  if (it) k.push('token-invalid');
  if (up) k.push('unsupported-path');
  if (err !== '' && !pd && !mt && !it && !up) k.push('error-other');
  if (LOGIN.test(path) && (type === 'response' ? e.response?.auth == null : err !== '')) k.push('failed-login');
  if (hasRoot(e.auth?.policies) || hasRoot(e.auth?.token_policies)) k.push('root-policy');
  const op = str(e.request?.operation);
  if (op === 'create' || op === 'update' || op === 'delete') {
    if (POLICY.test(path)) k.push('policy-change');
    // Not the probe Vault writes to a device it enables (a request, never answered, no remote address).
    if (AUDIT.test(path) && !(type === 'request' && path === 'sys/audit/test' && str(e.request?.remote_address) === '')) k.push('audit-change');
    if (path.startsWith('sys/auth/')) k.push('auth-change');
  }
  return k;
}

/**
 * The KV mount of the path: with `request.mount_type` (≥ 1.5) only a `kv` one, its `mount_point` (≥ 1.13) or the
 * path's first segment; without (older logs), a first segment followed by `data/` or `metadata/` (v2), or `secret/`.
 */
function kvMount(e: Entry, path: string): string | undefined {
  const type = e.request?.mount_type;
  if (typeof type === 'string') {
    if (type !== 'kv') return undefined;
    const point = str(e.request?.mount_point);
    return point !== '' ? point : `${path.split('/')[0] ?? ''}/`;
  }
  return V2.exec(path)?.[1] ?? (path.startsWith('secret/') ? 'secret/' : undefined);
}

/** A successful read or list on a KV mount: `read` of a value, `list` of keys, or null (docs/assess.md, "Secrets read"). */
function secretAction(e: Entry, path: string): 'read' | 'list' | null {
  const op = str(e.request?.operation);
  if (str(e.error) !== '' || (op !== 'read' && op !== 'list')) return null;
  if (path.startsWith('sys/') || path.startsWith('auth/') || path.startsWith('cubbyhole/')) return null;
  const mount = kvMount(e, path);
  if (mount === undefined || !path.startsWith(mount)) return null;
  const rest = path.slice(mount.length);
  if (rest.startsWith('data/')) return op === 'read' ? 'read' : null;
  if (rest.startsWith('metadata/')) return op === 'list' ? 'list' : null;
  return op;
}

function tenantOf(path: string): string | undefined {
  for (const re of TENANT) {
    const m = re.exec(path);
    if (m !== null) return m[1];
  }
  return undefined;
}

export async function naiveAssess(files: readonly string[]): Promise<Tally> {
  const t = new Tally();
  const pending = new Map<string, SuspiciousKind[]>();
  const seen = new Set<string>();
  const ring: (string | undefined)[] = new Array<string | undefined>(WINDOW);
  let ri = 0;
  const operation = (e: Entry, type: 'request' | 'response'): void => {
    const path = fullPath(e);
    t.operation(kinds(e, type, path));
    const action = type === 'response' ? secretAction(e, path) : null;
    if (action !== null) t.secret(path, action, tenantOf(path));
  };
  for (const file of files) {
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      t.lines++;
      const brace = line.indexOf('{');
      if (brace === -1 && line.trim() === '') continue;
      let e: unknown;
      try {
        e = brace === -1 ? undefined : JSON.parse(brace === 0 ? line : line.slice(brace));
      } catch {
        e = undefined;
      }
      if (e === null || typeof e !== 'object' || Array.isArray(e)) { t.problems++; continue; }
      const entry = e as Entry;
      const type = String(entry.type);
      t.entry(type);
      if (type !== 'request' && type !== 'response') continue;
      const id = entry.request?.id;
      if (!usable(id)) { t.withoutId++; operation(entry, type); continue; }
      if (type === 'request') {
        if (!pending.has(id) && !seen.has(id)) pending.set(id, kinds(entry, 'request', fullPath(entry)));
        continue;
      }
      if (seen.has(id)) continue;
      const old = ring[ri];
      if (old !== undefined) seen.delete(old);
      ring[ri] = id;
      ri = (ri + 1) % WINDOW;
      seen.add(id);
      pending.delete(id);
      operation(entry, 'response');
    }
  }
  // The requests whose response never came: operations of their own, at the end.
  for (const k of pending.values()) { t.operation(k); t.requestOnly++; }
  return t;
}

if (import.meta.main) {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: node bench/assess/naive-baseline.ts FILE…');
  process.stdout.write(`${JSON.stringify((await naiveAssess(files)).answer())}\n`);
}
