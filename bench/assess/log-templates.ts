// Entry templates for the synthetic Vault audit log (generate-log.ts), in the
// shapes of the real lines: the key order each era writes and the bodies of
// its responses are taken from ../shared/data/vault-audit/real-samples.jsonl,
// read in place (FORMAT.md cites its lines as L<n>; nothing is copied here).
//
// Three eras: `v0` is Vault ≤ 0.11 (struct order, `error: ""` always, `data:
// null`, `wrap_ttl: 0`, `headers: {}`); `v1` is 1.13–1.15 (struct order,
// `mount_*`, `remote_port`, `policy_results`, `error` only when set); `v2` is
// 1.16+ (keys alphabetical at every level, `time` and `type` last). A line is
// built by concatenating a compiled template's parts with its slots' values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Hashes } from './log-random.ts';

export type Era = 'v0' | 'v1' | 'v2';
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export const DEFAULT_SAMPLES = fileURLToPath(new URL('../../../shared/data/vault-audit/real-samples.jsonl', import.meta.url));

export interface Mount {
  readonly type: string;
  readonly point: string;
  readonly accessor: string;
  /** A mount built into Vault (`sys/`, `auth/token/`, `cubbyhole/`) rather than a builtin plugin. */
  readonly core: boolean;
  readonly cls: 'secret' | 'auth';
}
const VERSION: Record<'v1' | 'v2', { core: string; plugin: string }> = {
  v1: { core: 'v1.15.6+builtin.vault', plugin: 'v0.16.1+builtin' },
  v2: { core: 'v1.21.0+builtin.vault', plugin: 'v0.21.0+builtin' },
};

type Level = 'top' | 'auth' | 'request' | 'response';

/** The real lines, by number, and what is checked of each (so that another file is refused). */
const USED: Readonly<Record<number, string>> = {
  1: 'request secret/hello', 3: 'request auth/token/lookup-self', 4: 'response auth/token/lookup-self', 6: 'response secrets/foo', 7: 'request secret/password',
  8: 'response secret/password', 11: 'response auth/approle/login', 14: 'response sys/capabilities-self',
  16: 'response internal-ca/issue/internal-server', 21: 'request ca/roles/example', 22: 'kmip-request', 23: 'kmip-response',
  24: 'kmip-response', 25: 'kmip-response', 26: 'response kv/retail/app1', 29: 'response sys/audit/file',
  31: 'request secret/data/vault-demo-app,dev', 32: 'response kv/data/app/config', 47: 'response secret/data/mysimplesecret',
  50: 'response transit/keys/ipe-cpf', 59: 'response auth/token/create/admins', 537: 'response sys/internal/ui/mounts/kv/my-secret-1',
  581: 'response kv-v2/data/lab-admin-1', 625: 'response pki_int/issue/example-dot-com', 725: 'response transit/encrypt/my-key-1',
  975: 'response kv-v2/metadata/',
};

export class Samples {
  private readonly lines = new Map<number, Obj>();

  constructor(file: string) {
    const text = readFileSync(file, 'utf8').split('\n');
    for (const [n, what] of Object.entries(USED)) {
      const e = JSON.parse(text[Number(n) - 1] ?? 'null') as Obj | null;
      const req = e?.request as Obj | undefined;
      const got = `${typeof e?.type === 'string' ? e.type : JSON.stringify(e?.type)}${typeof req?.path === 'string' ? ` ${req.path}` : ''}`;
      if (got !== what) throw new Error(`${file} is not the file FORMAT.md describes: L${n} is "${got}", not "${what}"`);
      this.lines.set(Number(n), e as Obj);
    }
  }

  /** A deep copy of a part of line n (`request.data`, `response`, …). */
  get(n: number, ...path: string[]): Obj {
    let v: Json = this.lines.get(n) ?? null;
    for (const k of path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v[k] ?? null) : null;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`L${n}: no object at ${path.join('.')}`);
    return structuredClone(v);
  }

  keys(n: number, ...path: string[]): string[] {
    return Object.keys(this.get(n, ...path));
  }
}

/** The orders of several key sequences merged into one (each key before the keys that follow it in a sequence). */
function mergeOrder(seqs: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const seq of seqs) {
    seq.forEach((k, i) => {
      if (out.includes(k)) return;
      const next = seq.slice(i + 1).find((n) => out.includes(n));
      if (next !== undefined) out.splice(out.indexOf(next), 0, k);
      else out.splice(i === 0 ? 0 : out.indexOf(seq[i - 1] ?? '') + 1, 0, k);
    });
  }
  return out;
}

/** Recursively sorted keys (Go's encoding of a map; and every level of a 1.16+ entry). */
export function sortKeys(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortKeys);
  const o: Obj = {};
  for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k] ?? null);
  return o;
}

/** Every hashed string replaced by another from the pool (a body's shape, new values). */
export function rehash(v: Json, h: Hashes): Json {
  if (typeof v === 'string') return v.startsWith('hmac-sha256:') ? h.any() : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => rehash(x, h));
  const o: Obj = {};
  for (const [k, x] of Object.entries(v)) o[k] = rehash(x, h);
  return o;
}

const MARK = '\u0007';
/** A placeholder for a raw JSON value in a template. */
export const slot = (name: string): string => `${MARK}${name}${MARK}`;

export interface Template { readonly parts: readonly string[]; readonly slots: readonly string[] }

function compile(o: Obj): Template {
  const parts = JSON.stringify(o).split(/"\\u0007(\w+)\\u0007"/);
  return { parts: parts.filter((_, i) => i % 2 === 0), slots: parts.filter((_, i) => i % 2 === 1) };
}

export function render(t: Template, v: Readonly<Record<string, string>>): string {
  let s = t.parts[0] ?? '';
  for (let i = 0; i < t.slots.length; i++) {
    const x = v[t.slots[i] ?? ''];
    if (x === undefined) throw new Error(`no value for the slot ${t.slots[i] ?? ''}`);
    s += x + (t.parts[i + 1] ?? '');
  }
  return s;
}

/** What varies between the entries of one template (the rest is in the slots). */
export interface EntrySpec {
  readonly type: 'request' | 'response';
  readonly operation: string;
  readonly mount: Mount | null;
  readonly auth: boolean;
  readonly id: boolean;
  readonly clientId: boolean;
  /** `request.client_token` (1) and `request.client_token_accessor` (2). */
  readonly tokens: 0 | 1 | 2;
  readonly ns: boolean;
  readonly data: boolean;
  readonly remote: boolean;
  readonly wrap: boolean;
  readonly error: boolean;
}

export class Templates {
  private readonly orders: Record<'v0' | 'v1', Record<Level, string[]>>;
  private readonly cache = new Map<string, Template>();
  readonly kmip: Template[];

  readonly samples: Samples;

  constructor(samples: Samples) {
    this.samples = samples;
    const k = (n: number, ...p: string[]) => samples.keys(n, ...p);
    this.orders = {
      v0: {
        top: mergeOrder([k(8), k(1)]), auth: mergeOrder([k(7, 'auth'), k(3, 'auth')]),
        request: mergeOrder([k(7, 'request'), k(3, 'request')]), response: mergeOrder([k(8, 'response'), k(6, 'response')]),
      },
      v1: {
        top: mergeOrder([k(50), k(8)]), auth: mergeOrder([k(32, 'auth'), k(50, 'auth'), k(6, 'auth')]),
        request: mergeOrder([k(32, 'request'), k(50, 'request'), k(31, 'request'), k(6, 'request')]),
        response: mergeOrder([k(32, 'response'), k(26, 'response'), k(11, 'response'), k(6, 'response')]),
      },
    };
    this.kmip = [22, 23, 24, 25].map((n) => {
      const e = samples.get(n);
      e.time = slot('time');
      return compile(e);
    });
  }

  /** An object's keys in the era's order for its level. */
  ordered(era: Era, level: Level, o: Obj): Obj {
    if (era === 'v2') return sortKeys(o) as Obj;
    const order = this.orders[era][level];
    const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
    const out: Obj = {};
    for (const key of Object.keys(o).sort((a, b) => rank(a) - rank(b))) out[key] = o[key] ?? null;
    return out;
  }

  entry(era: Era, s: EntrySpec): Template {
    const key = `${era}|${s.type}|${s.operation}|${s.mount?.point ?? ''}|${s.auth}|${s.id}|${s.clientId}|${s.tokens}|${s.ns}|${s.data}|${s.remote}|${s.wrap}|${s.error}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const req: Obj = {};
    if (s.id) req.id = slot('id');
    if (s.clientId && era !== 'v0') req.client_id = slot('cid');
    req.operation = s.operation;
    if (s.mount !== null && era !== 'v0') {
      Object.assign(req, { mount_point: s.mount.point, mount_type: s.mount.type, mount_accessor: s.mount.accessor, mount_running_version: VERSION[era][s.mount.core ? 'core' : 'plugin'], mount_class: s.mount.cls });
    }
    if (s.tokens >= 1) req.client_token = slot('ct');
    if (s.tokens >= 2) req.client_token_accessor = slot('cta');
    req.namespace = s.ns ? slot('ns') : era === 'v0' ? { id: 'root', path: '' } : { id: 'root' };
    req.path = slot('path');
    if (s.data) req.data = slot('data');
    else if (era === 'v0') req.data = null;
    if (era === 'v0') req.policy_override = false;
    if (s.remote) req.remote_address = slot('ra');
    if (s.remote && era !== 'v0') req.remote_port = slot('rp');
    if (s.wrap) req.wrap_ttl = slot('wt');
    else if (era === 'v0') req.wrap_ttl = 0;
    if (era === 'v0') req.headers = {};
    const top: Obj = { time: slot('time'), type: s.type };
    if (s.auth) top.auth = slot('auth');
    top.request = this.ordered(era, 'request', req);
    if (s.type === 'response') top.response = slot('resp');
    if (s.error) top.error = slot('err');
    else if (era === 'v0') top.error = '';
    const t = compile(this.ordered(era, 'top', top));
    this.cache.set(key, t);
    return t;
  }

  /** A response object, raw JSON: the mount's fields (1.x), then the body (maps sorted, as Go writes them). */
  response(era: Era, mount: Mount | null, body: Obj): string {
    const r: Obj = {};
    if (mount !== null && era !== 'v0') {
      Object.assign(r, { mount_point: mount.point, mount_type: mount.type, mount_accessor: mount.accessor, mount_running_plugin_version: VERSION[era][mount.core ? 'core' : 'plugin'], mount_class: mount.cls });
    }
    for (const [k, v] of Object.entries(body)) r[k] = k === 'data' ? sortKeys(v) : v;
    return JSON.stringify(this.ordered(era, 'response', r));
  }

  /** The caller's block, raw JSON (and as an object, for a login response's `response.auth`). */
  auth(era: Era, fields: Obj): Obj {
    const o: Obj = {};
    for (const [k, v] of Object.entries(fields)) o[k] = k === 'metadata' ? sortKeys(v) : v;
    return this.ordered(era, 'auth', o);
  }
}
