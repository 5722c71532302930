import { BlockList, isIP } from 'node:net';
import { FirebreakError } from '../lib/errors.ts';
import type { SuspiciousKind } from './vault-audit-types.ts';

/**
 * One audit entry as an operation of the assessment (docs/assess.md): what
 * it did, whether it is suspicious and why, whether it read a secret. Pure:
 * the entry in, the operation out.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : undefined);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export interface Operation {
  readonly time: string;
  /** ms since the epoch; NaN when the time cannot be read. */
  readonly ms: number;
  readonly type: 'request' | 'response';
  /** The pairing key, when the entry has a usable request id. */
  readonly id: string | null;
  readonly operation: string;
  /** namespace.path + request.path. */
  readonly path: string;
  readonly remoteAddress: string | null;
  readonly accessor: string | null;
  readonly displayName: string | null;
  readonly error: string | null;
  readonly kinds: readonly SuspiciousKind[];
  /** A successful read or list of a KV secret. */
  readonly secret: 'read' | 'list' | null;
}

export interface ClassifyRules {
  readonly allowed: BlockList | undefined;
  /** Configured KV mounts (`secret/`), longest first; empty: from the entries and the paths. */
  readonly kvMounts: readonly string[];
}

/** `2017-07-31T04:08:36Z`, `…36.93608Z`, `…36.360893791+02:00`: to the millisecond. */
export function timeOf(t: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (m === null) return NaN;
  return Date.parse(`${m[1] ?? ''}.${(m[2] ?? '').slice(0, 3).padEnd(3, '0')}${m[3] ?? ''}`);
}

const digit = (t: string, i: number) => { const c = t.charCodeAt(i) - 48; return c >= 0 && c <= 9 ? c : NaN; };
let hourKey = '';
let hourMs = NaN;

/**
 * timeOf, faster for an entry's own time in UTC (`…T04:08:36.93608Z`, nearly every line): the hour once (the lines
 * of an hour share it), minutes, seconds and fraction read here. Anything else is timeOf's.
 */
export function entryTimeOf(t: string): number {
  const n = t.length;
  if (n < 20 || n > 30 || t.charCodeAt(n - 1) !== 0x5a /* Z */ || t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a || (n > 20 && t.charCodeAt(19) !== 0x2e)) return timeOf(t);
  const min = digit(t, 14) * 10 + digit(t, 15);
  const sec = digit(t, 17) * 10 + digit(t, 18);
  if (!(min < 60 && sec < 60 && digit(t, 11) * 10 + digit(t, 12) < 24) || n === 21) return timeOf(t);
  let ms = 0;
  for (let i = 20, scale = 100; i < n - 1; i++, scale /= 10) {
    const d = digit(t, i);
    if (Number.isNaN(d)) return timeOf(t);
    if (scale >= 1) ms += d * scale;
  }
  const key = t.slice(0, 13);
  if (key !== hourKey) { hourKey = key; hourMs = timeOf(`${key}:00:00Z`); }
  return hourMs + min * 60_000 + sec * 1000 + ms;
}

/** The allow-list of remote networks (`10.0.0.0/8`, `2001:db8::/32`, or one address). */
export function allowList(cidrs: readonly string[], from: string): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net = '', bits] = c.trim().split('/');
    const family = isIP(net);
    const max = family === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family === 0 || !(prefix >= 0 && prefix <= max)) throw new FirebreakError('INVALID_INPUT', `${from}: ${JSON.stringify(c)} is not an IPv4 or IPv6 network (e.g. 10.0.0.0/8, 2001:db8::/32)`);
    list.addSubnet(net, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** A remote address as Vault logs it (KMIP adds the port: `[2001:db8::10]:36778`, `10.0.0.5:5696`), without the port. */
export function hostOf(addr: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (bracketed !== null) return bracketed[1] ?? addr;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(addr);
  return v4port?.[1] ?? addr;
}

const ERROR_KINDS: readonly [RegExp, SuspiciousKind][] = [
  [/permission denied/i, 'permission-denied'],
  [/missing client token/i, 'token-missing'],
  [/invalid token/i, 'token-invalid'],
  [/unsupported path/i, 'unsupported-path'],
];
const CHANGE = new Set(['create', 'update', 'delete']);
const LOGIN = /^auth\/.+\/login(\/|$)/;
const POLICY = /^sys\/(policy|policies\/(acl|rgp|egp))\//;
const AUDIT = /^sys\/(audit|config\/auditing)\//;
const AUTH = /^sys\/auth\//;
const NOT_KV = /^(sys|auth|cubbyhole|identity)\//;

/** The request id that pairs a request with its response: none when absent, empty or redacted (`****`). */
const idOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' && !/^\*+$/.test(v) ? v : null);

/** The KV mount of a full path, and whether the rest is a KV v2 path (`data/…`, `metadata/…`). */
function kvOf(path: string, req: Obj, rules: ClassifyRules): { rest: string; v2: boolean } | undefined {
  let mount: string | undefined;
  if (rules.kvMounts.length > 0) {
    mount = rules.kvMounts.find((m) => path.startsWith(m));
  } else if (typeof req['mount_type'] === 'string') {
    if (req['mount_type'] !== 'kv') return undefined;
    const point = str(req['mount_point']);
    mount = point !== null && point !== '' && path.startsWith(point) ? point : /^[^/]+\//.exec(path)?.[0];
  } else {
    // Before mount_type (≤ 1.4): a first segment followed by data/ or metadata/ (KV v2), or `secret/` (the default KV mount).
    const m = /^([^/]+\/)(data|metadata)\//.exec(path);
    mount = m !== null ? m[1] : path.startsWith('secret/') ? 'secret/' : undefined;
  }
  if (mount === undefined || NOT_KV.test(mount) || path.startsWith('sys/internal/ui/mounts/')) return undefined;
  const rest = path.slice(mount.length);
  return { rest, v2: /^(data|metadata)\//.test(rest) };
}

/** A successful read or list of a secret value on a KV mount (not metadata, not the CLI's preflight). */
function secretOf(type: string, operation: string, error: string | null, path: string, req: Obj, rules: ClassifyRules): 'read' | 'list' | null {
  if (type !== 'response' || error !== null || (operation !== 'read' && operation !== 'list')) return null;
  const kv = kvOf(path, req, rules);
  if (kv === undefined || (kv.rest === '' && operation === 'read')) return null;
  if (!kv.v2) return operation;
  if (operation === 'read') return kv.rest.startsWith('data/') && kv.rest.length > 'data/'.length ? 'read' : null;
  return kv.rest.startsWith('metadata/') ? 'list' : null;
}

/** The entry (a parsed `request` or `response` line) as an operation. */
export function classify(e: Obj, type: 'request' | 'response', rules: ClassifyRules): Operation {
  const auth = obj(e['auth']) ?? {};
  const req = obj(e['request']) ?? {};
  const res = obj(e['response']);
  const time = str(e['time']) ?? '';
  const rel = str(req['path']) ?? '';
  const ns = str(obj(req['namespace'])?.['path']) ?? '';
  const path = `${ns}${rel}`;
  const operation = str(req['operation']) ?? '';
  const err = str(e['error']);
  const error = err === null || err === '' ? null : err;
  const remote = str(req['remote_address']);
  const kinds: SuspiciousKind[] = [];
  const policyResults = obj(auth['policy_results']);
  if (error !== null) {
    const k = ERROR_KINDS.filter(([re]) => re.test(error)).map(([, kind]) => kind);
    kinds.push(...(k.length > 0 ? k : ['error-other' as const]));
  }
  if (policyResults?.['allowed'] === false && !kinds.includes('permission-denied')) kinds.push('permission-denied');
  if (LOGIN.test(rel) && (type === 'response' ? obj(res?.['auth']) === undefined : error !== null)) kinds.push('failed-login');
  if (rules.allowed !== undefined && remote !== null && remote !== '') {
    const host = hostOf(remote);
    const family = isIP(host);
    if (family === 0 || !rules.allowed.check(host, family === 6 ? 'ipv6' : 'ipv4')) kinds.push('remote-not-allowed');
  }
  const policies = [auth['policies'], auth['token_policies']].flatMap((p): unknown[] => (Array.isArray(p) ? p as unknown[] : []));
  if (policies.includes('root')) kinds.push('root-policy');
  if (CHANGE.has(operation)) {
    if (POLICY.test(rel)) kinds.push('policy-change');
    // Not `sys/audit/test` as Vault writes it to a device it is enabling (a request from nowhere, never answered): the enable is the change.
    if (AUDIT.test(rel) && !(rel === 'sys/audit/test' && type === 'request' && remote === null)) kinds.push('audit-change');
    if (AUTH.test(rel)) kinds.push('auth-change');
  }
  return {
    time, ms: entryTimeOf(time), type, id: idOf(req['id']), operation, path,
    remoteAddress: remote, accessor: str(auth['accessor']), displayName: str(auth['display_name']), error, kinds,
    secret: secretOf(type, operation, error, path, req, rules),
  };
}

/** Tenant patterns (`secret/data/tenants/{tenant}/*`) as expressions over the full path: `{tenant}` one segment, `*` the rest. */
export function tenantMatchers(patterns: readonly string[], from: string): ((path: string) => string | undefined)[] {
  return patterns.map((p) => {
    if ((p.match(/\{tenant\}/g) ?? []).length !== 1) throw new FirebreakError('INVALID_INPUT', `${from}: ${JSON.stringify(p)} must name {tenant} exactly once (e.g. secret/data/tenants/{tenant}/*)`);
    const body = p.split('{tenant}').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('([^/]+)');
    const re = new RegExp(`^${p.endsWith('*') ? `${body.slice(0, -'[^/]*'.length)}.*` : body}$`);
    return (path: string) => re.exec(path)?.[1];
  });
}
