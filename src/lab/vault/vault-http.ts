import { randomBytes, randomUUID } from 'node:crypto';

/**
 * The shapes a Vault request and response take inside the lab simulator,
 * and the helpers every part of it shares: Vault's error type, Go's JSON
 * encoding, body parsing with Go's messages, ids, durations.
 */

/** Vault's logical operations (sdk/logical/request.go). */
export type Operation = 'read' | 'list' | 'update' | 'create' | 'delete' | 'patch';

/** A request as Vault's logical layer sees it: path relative to /v1/. */
export interface LogicalRequest {
  readonly id: string;
  operation: Operation;
  readonly path: string;
  readonly data: Record<string, unknown> | undefined;
  readonly query: Readonly<Record<string, string>>;
  readonly token: string | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** What a handler answers: a logical response (enveloped), or a raw body (dedicated handlers: seal-status, rekey…). */
export interface LogicalResponse {
  readonly data?: Record<string, unknown> | null;
  readonly auth?: Record<string, unknown>;
  readonly secret?: { readonly lease_id: string };
  readonly warnings?: readonly string[];
  /** Sent as the whole body (the sys handlers that answer without the envelope). */
  readonly raw?: unknown;
  /** Overrides the status (404 with a body for a soft-deleted KV v2 version). */
  readonly status?: number;
  /** The sys/ list endpoints also repeat `data` at the top level. */
  readonly topLevel?: boolean;
}

/** A Vault error: the status and the `errors` array it answers. */
export class VaultError extends Error {
  readonly status: number;
  readonly errors: readonly string[];
  /** The text the audit entry's top-level `error` carries (the request entry's short form may differ). */
  readonly auditError: string | undefined;
  constructor(status: number, errors: readonly string[], auditError?: string) {
    super(errors.join('; ') || `status ${status}`);
    this.status = status;
    this.errors = errors;
    this.auditError = auditError ?? errors[0];
  }
}

/** `logical.ErrorResponse(msg)` with an invalid-request error: 400. */
export const badRequest = (msg: string): VaultError => new VaultError(400, [msg]);
/** A missing read or an empty list: 404 `{"errors":[]}` (RespondErrorCommon). */
export const notFound = (): VaultError => new VaultError(404, []);
/** The multierror text Vault's request handling wraps a single error in. */
export const multi = (msg: string): string => `1 error occurred:\n\t* ${msg}\n\n`;
export const permissionDenied = (): VaultError => new VaultError(403, [multi('permission denied')], 'permission denied');
export const unsupportedPath = (): VaultError => new VaultError(404, [multi('unsupported path')]);
export const unsupportedOperation = (): VaultError => new VaultError(405, [multi('unsupported operation')]);
export const SEALED = 'Vault is sealed';
export const sealedError = (): VaultError => new VaultError(503, [SEALED]);

/** Go's encoding/json: `<`, `>`, `&` (and U+2028/9) escaped, one trailing newline (json.Encoder). */
export function goJson(body: unknown): string {
  return `${JSON.stringify(body).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** Go's json message for a body that does not parse, as near as V8's error lets us tell. */
function goSyntaxError(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'unexpected EOF';
  try {
    JSON.parse(text);
    return 'unexpected EOF';
  } catch (e) {
    const m = /position (\d+)/.exec(String(e));
    if (m === null && /Unexpected end/.test(String(e))) return 'unexpected EOF';
    const at = m === null ? text.indexOf(trimmed[0] ?? '') : Number(m[1]);
    const c = text[at];
    if (c === undefined) return 'unexpected EOF';
    const before = text.slice(0, at).trim();
    // Go's scanner names what it expected at the offending byte.
    const context = before === '' ? 'looking for beginning of value'
      : /[{,]$/.test(before) && !/\[\s*$/.test(before) ? 'looking for beginning of object key string'
        : 'looking for beginning of value';
    return `invalid character '${c}' ${context}`;
  }
}

/**
 * A request body as Vault's `parseJSONRequest` reads it into a map: empty is
 * no data; anything else must be a JSON object. Errors carry Vault's text
 * ("failed to parse JSON input: …").
 */
export function parseBody(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { throw badRequest(`failed to parse JSON input: ${goSyntaxError(raw)}`); }
  if (v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) {
    const kind = Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool';
    throw badRequest(`failed to parse JSON input: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  return v as Record<string, unknown>;
}

const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** base62 random text, as Vault's token and accessor ids (helper/base62). */
export function base62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n)) if (b < 248 && out.length < n) out += B62.charAt(b % 62);
  }
  return out;
}
export const newToken = (): string => `hvs.${base62(24)}`;
export const newAccessor = (): string => base62(24);
export const uuid = (): string => randomUUID();
/** A mount accessor: `<type>_<8 hex>` (auth mounts `auth_<type>_…`). */
export const mountAccessor = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/** A request field as a string: strings as they are, numbers and booleans printed, anything else as JSON (Go's weak decoding, near enough). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${v}`;
  return v === undefined || v === null ? '' : JSON.stringify(v);
}

/** Vault's duration fields: seconds as a number or a numeric string, or Go durations ("1h30m", "10s"). */
export function parseDuration(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) return Number(v);
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
    if (m !== null && v !== '') return Number(m[1] ?? '0') * 3600 + Number(m[2] ?? '0') * 60 + Number(m[3] ?? '0');
    if (/^\d+d$/.test(v)) return Number(v.slice(0, -1)) * 86400;
  }
  throw badRequest(`error converting input ${JSON.stringify(v)} for field "${field}": strconv.ParseInt: parsing ${JSON.stringify(str(v))}: invalid syntax`);
}

/** Go's `time.Duration.String()` for whole seconds ("0s", "1h0m0s"). */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** A list of strings from a JSON array or a comma-separated string (Vault's TypeCommaStringSlice). */
export function stringList(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(str).map((s) => s.trim()).filter((s) => s !== '');
  return str(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Policies as Vault normalises them: lower-cased, unique, sorted. */
export function policyList(v: unknown): string[] {
  return [...new Set(stringList(v).map((p) => p.toLowerCase()))].sort();
}

/** A Go boolean field (strconv.ParseBool on strings). */
export function boolField(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) return /^(1|t|T|TRUE|true|True)$/.test(v);
  throw badRequest(`error converting input ${JSON.stringify(v)} for field "${field}": cannot parse '' as bool`);
}

/** An int field (Vault's TypeInt: numbers or numeric strings). */
export function intField(v: unknown, field: string, fallback = 0): number {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  throw badRequest(`error converting input ${JSON.stringify(v)} for field "${field}": cannot parse '' as int`);
}

/** RFC3339Nano as Go prints it (UTC, trailing zeros trimmed), with sub-millisecond digits from the monotonic clock. */
export function rfc3339Nano(d = new Date()): string {
  const micro = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  const iso = d.toISOString();
  const frac = `${iso.slice(20, 23)}${micro}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac === '' ? '' : `.${frac}`}Z`;
}

/** RFC3339 at second precision, as Vault prints token issue times in audit entries. */
export const rfc3339 = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;
