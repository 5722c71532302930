import { randomUUID } from 'node:crypto';
import { seededRandom } from '../../src/lab/lab-faults.ts';
import type { OpenApiContract } from './openapi.ts';

type Json = Record<string, unknown>;

/**
 * A small property-based API fuzzer in the manner of schemathesis: from a
 * vendor's OpenAPI document it generates requests for the operations a
 * simulator implements (valid values, wrong types, out-of-range integers,
 * bad UUIDs and enum values, missing required parameters, bad or missing
 * credentials, malformed bodies), plus wrong methods and unknown routes, and
 * checks every answer: the status is one the operation documents (or its
 * `default`), the body matches the documented schema and media type, invalid
 * input is never accepted with a 2xx, no 5xx that is not documented, and
 * what no operation covers answers with the vendor's own error shape.
 * Deterministic from a seed.
 */
export interface FuzzConfig {
  readonly spec: OpenApiContract;
  readonly baseUrl: string;
  readonly seed: number;
  readonly requests: number;
  /** The operations the simulator implements, with a body generator where the operation takes one. */
  readonly operations: readonly { readonly method: string; readonly template: string; readonly body?: (pick: Picker) => FuzzBody }[];
  /** Values that exist (device ids, entity types…), by parameter name; valid inputs are drawn from them half of the time. */
  readonly values: Readonly<Record<string, readonly string[]>>;
  /** Values the vendor must refuse (4xx), by parameter name (unparsable queries…); drawn a quarter of the time. */
  readonly invalidValues?: Readonly<Record<string, readonly string[]>>;
  /** Parameters the vendor reads as UUIDs though the document types them as plain strings. */
  readonly uuidParams?: ReadonlySet<string>;
  /** Operations open without credentials where the document declares no security at all (hawkBit's declares none, ThingsBoard's per operation). */
  readonly publicTemplates?: ReadonlySet<string>;
  readonly auth: () => Readonly<Record<string, string>>;
  readonly badAuth: Readonly<Record<string, string>>;
  /** Extra header sets tried now and then (Accept variants…), each with the statuses it may legitimately cause. */
  readonly headerVariants?: readonly { readonly headers: Readonly<Record<string, string>>; readonly expect: readonly number[] }[];
  /** The vendor's error shape for answers no operation documents (unknown routes, wrong methods). */
  readonly errorShape: (status: number, body: unknown) => string[];
  /** A path no operation has, for unknown-route requests. */
  readonly unknownPath: (n: number) => string;
  /**
   * A departure from the document that CONTRACTS.md records (the code wins over the spec):
   * the body to check instead, `status-only` (the status must still be documented), or `skip`.
   */
  readonly divergence?: (r: FuzzResult) => { readonly body: unknown } | 'status-only' | 'skip' | undefined;
  /** Methods the vendor treats as another (Vault: PUT is POST): never sent as "wrong methods" where the other is documented. */
  readonly equivalentMethods?: Readonly<Record<string, string>>;
}

export type FuzzBody = { readonly json: unknown; readonly negative?: string } | { readonly raw: string; readonly contentType: string; readonly negative?: string };

export interface Picker {
  readonly random: () => number;
  one<T>(xs: readonly T[]): T;
}

export interface FuzzResult {
  readonly method: string;
  readonly template: string | undefined;
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
}

export interface FuzzReport {
  readonly sent: number;
  readonly failures: readonly string[];
  /** "GET /api/device/{deviceId} 200" → count. */
  readonly statuses: Readonly<Record<string, number>>;
}

const INVALID_INT = ['abc', '1.5', '2147483648', '-2147483649', '1.2e17', '0x10', ' 1'];
const INVALID_LONG = ['abc', '1.5', '1e3', '9223372036854775808'];
const STRINGS = ['a', 'x y', 'ü✓', 'a/b', '%25', '\'";<>', '*', 'x'.repeat(300), '0'];
const ALL_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

interface Generated { readonly value: string | undefined; readonly negative?: string }

function scalar(pick: Picker, name: string, schema: Json, known: readonly string[] | undefined, uuid: boolean): Generated {
  const r = pick.random();
  const en = schema['enum'] as string[] | undefined;
  if (known !== undefined && known.length > 0 && r < 0.5) return { value: pick.one(known) };
  if (en !== undefined) return r < 0.85 ? { value: pick.one(en) } : { value: 'BOGUS_VALUE', negative: `${name}=BOGUS_VALUE is not in the enum` };
  if (uuid) return r < 0.75 ? { value: randomUuidFrom(pick) } : { value: pick.one(['not-a-uuid', '123', `${randomUuidFrom(pick)}x`]), negative: `${name} is not a UUID` };
  switch (schema['type']) {
    case 'integer': {
      const long = schema['format'] === 'int64';
      if (r < 0.7) return { value: String(Math.floor(pick.random() * 25) - 2) };
      const bad = pick.one(long ? INVALID_LONG : INVALID_INT);
      return { value: bad, negative: `${name}=${bad} is not an ${long ? 'int64' : 'int32'}` };
    }
    case 'boolean': return r < 0.8 ? { value: pick.one(['true', 'false']) } : { value: 'maybe', negative: `${name}=maybe is not a boolean` };
    case 'array': return { value: pick.one(['a', 'a,b', 'temperature']) };
    default: return { value: pick.one(STRINGS) };
  }
}

function randomUuidFrom(pick: Picker): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(pick.random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function send(baseUrl: string, method: string, path: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; contentType: string; body: unknown }> {
  const res = await fetch(`${baseUrl}${path}`, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text === '' ? undefined : text;
  try { if (text !== '') parsed = JSON.parse(text); } catch { /* a text body */ }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: parsed };
}

export async function fuzz(c: FuzzConfig): Promise<FuzzReport> {
  const random = seededRandom(c.seed);
  const pick: Picker = { random, one: <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T };
  const failures: string[] = [];
  const statuses: Record<string, number> = {};
  const fail = (what: string, r: FuzzResult, why: string) => { if (failures.length < 50) failures.push(`${r.method} ${r.url} → ${r.status}: ${why} [${what}]`); };

  for (let n = 0; n < c.requests; n++) {
    const op = pick.one(c.operations);
    const kind = random();
    if (kind < 0.1) {
      // A method the document does not define for this path, on a path that exists.
      const documented = c.spec.methods(op.template);
      const wrong = ALL_METHODS.filter((m) => !documented.includes(m) && !documented.includes(c.equivalentMethods?.[m] ?? m));
      if (wrong.length === 0) continue;
      const method = pick.one(wrong);
      const path = op.template.replace(/\{([^}]+)\}/g, (_m, p: string) => encodeURIComponent(pick.one(c.values[p] ?? [randomUUID()])));
      const res = await send(c.baseUrl, method, path, { ...c.auth() }, undefined);
      const r: FuzzResult = { method, template: undefined, url: path, ...res };
      statuses[`${method} ${op.template} ${res.status}`] = (statuses[`${method} ${op.template} ${res.status}`] ?? 0) + 1;
      if (res.status !== 405 && res.status !== 401) fail('wrong method', r, 'expected 405 (or 401)');
      for (const e of c.errorShape(res.status, res.body)) fail('wrong method', r, `not the vendor's error shape: ${e}`);
      continue;
    }
    if (kind < 0.14) {
      const path = c.unknownPath(n);
      const method = pick.one(ALL_METHODS);
      const res = await send(c.baseUrl, method, path, { ...c.auth() }, undefined);
      const r: FuzzResult = { method, template: undefined, url: path, ...res };
      statuses[`${method} (unknown) ${res.status}`] = (statuses[`${method} (unknown) ${res.status}`] ?? 0) + 1;
      if (res.status !== 404 && res.status !== 405 && res.status !== 401) fail('unknown route', r, 'expected 404');
      for (const e of c.errorShape(res.status, res.body)) fail('unknown route', r, `not the vendor's error shape: ${e}`);
      continue;
    }

    const spec = c.spec.operation(op.method, op.template);
    const negatives: string[] = [];
    // Parameters declared on the path item apply to each of its operations (OpenAPI 3), unless the operation redeclares them.
    const own = (spec['parameters'] as Json[] | undefined) ?? [];
    const shared = ((((c.spec.doc['paths'] as Json)[op.template] as Json | undefined)?.['parameters'] as Json[] | undefined) ?? []).filter((p) => !own.some((o) => o['name'] === p['name'] && o['in'] === p['in']));
    const params = [...shared, ...own];
    let path = op.template;
    const query = new URLSearchParams();
    for (const p of params) {
      const name = String(p['name']);
      const schema = (p['schema'] as Json | undefined) ?? {};
      if (p['in'] === 'path') {
        const g = scalar(pick, name, schema, c.values[name], c.uuidParams?.has(name) ?? false);
        if (g.negative !== undefined) negatives.push(g.negative);
        path = path.replace(`{${name}}`, encodeURIComponent(g.value ?? 'x'));
      } else if (p['in'] === 'query') {
        const required = p['required'] === true;
        if (!required && random() < 0.5) continue;
        if (required && random() < 0.08) { negatives.push(`required ${name} missing`); continue; }
        const invalid = c.invalidValues?.[name];
        const g = invalid !== undefined && random() < 0.25
          ? { value: pick.one(invalid), negative: `${name} must be refused` }
          : scalar(pick, name, schema, c.values[name], c.uuidParams?.has(name) ?? false);
        if (g.negative !== undefined) negatives.push(g.negative === `${name} must be refused` ? `${name}=${g.value ?? ''} must be refused` : g.negative);
        if (g.value !== undefined) query.set(name, g.value);
      }
    }
    const headers: Record<string, string> = {};
    const declared = (spec['security'] ?? c.spec.doc['security']) as unknown[] | undefined;
    const isPublic = declared === undefined ? (c.publicTemplates?.has(op.template) ?? false) : declared.length === 0;
    const authChoice = random();
    const unauthenticated = !isPublic && authChoice < 0.08;
    Object.assign(headers, unauthenticated ? (authChoice < 0.04 ? {} : c.badAuth) : c.auth());
    let allowedByHeaders: readonly number[] = [];
    if (c.headerVariants !== undefined && random() < 0.1) {
      const v = pick.one(c.headerVariants);
      Object.assign(headers, v.headers);
      allowedByHeaders = v.expect;
    }
    let body: string | undefined;
    if (op.body !== undefined) {
      const b = op.body(pick);
      if ('raw' in b) { body = b.raw; headers['content-type'] = b.contentType; } else { body = JSON.stringify(b.json); headers['content-type'] = 'application/json'; }
      if (b.negative !== undefined) negatives.push(b.negative);
    }
    const qs = query.toString();
    const url = `${path}${qs === '' ? '' : `?${qs}`}`;
    const res = await send(c.baseUrl, op.method, url, headers, body);
    const r: FuzzResult = { method: op.method, template: op.template, url, ...res };
    statuses[`${op.method} ${op.template} ${res.status}`] = (statuses[`${op.method} ${op.template} ${res.status}`] ?? 0) + 1;

    if (unauthenticated && res.status !== 401) fail('auth', r, 'a request without valid credentials was not refused with 401');
    if (unauthenticated) for (const e of c.errorShape(res.status, res.body)) fail('auth', r, `not the vendor's error shape: ${e}`);
    if (!unauthenticated && negatives.length > 0 && res.status < 400) fail('negative data', r, `invalid input accepted (${negatives.join('; ')})`);
    if (!unauthenticated && allowedByHeaders.length > 0 && !allowedByHeaders.includes(res.status) && negatives.length === 0) fail('headers', r, `expected ${allowedByHeaders.join('/')} for headers ${JSON.stringify(headers)}`);
    const d = c.divergence?.(r);
    if (d === 'skip') continue;
    if (d === 'status-only') {
      const documented = c.spec.documentedStatuses(op.method, op.template);
      if (!documented.includes(String(res.status)) && !documented.includes('default')) fail('status', r, `status not documented (documented: ${documented.join(', ')})`);
      continue;
    }
    const checked = d === undefined ? res.body : d.body;
    for (const e of c.spec.check(op.method, op.template, res.status, checked)) fail('schema', r, e);
    const media = c.spec.mediaTypes(op.method, op.template, res.status);
    if (d === undefined && res.body !== undefined && media.length > 0 && media.every((m) => m.includes('json')) && !res.contentType.includes('json')) {
      fail('media type', r, `content-type ${res.contentType} where the document lists ${media.join(', ')}`);
    }
  }
  return { sent: c.requests, failures, statuses };
}

/** Operations that never answered 2xx in a run: the fuzzer did not get past validation there, so its checks proved little. */
export function unreached(report: FuzzReport, operations: readonly { method: string; template: string }[]): string[] {
  return operations.filter((o) => !Object.entries(report.statuses).some(([k]) => k.startsWith(`${o.method} ${o.template} 2`))).map((o) => `${o.method} ${o.template}`);
}
