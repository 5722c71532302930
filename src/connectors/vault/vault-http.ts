import { FirebreakError, type ErrorCode } from '../../lib/errors.ts';
import { createHttpClient, type HttpClient, type HttpResponse, type TlsOptions } from '../../lib/http-client.ts';
import type { Logger } from '../../lib/log.ts';
import { redactText } from '../../lib/redact.ts';
import { REDACTED, type Secret } from '../../lib/secret.ts';

/** How to reach one Vault: its address, the token (header only), an optional namespace, TLS trust. */
export interface VaultClientConfig {
  readonly url: string;
  /** Sent only as `X-Vault-Token`. Absent for a Vault that has none yet (init, unseal). */
  readonly token?: Secret;
  /** Vault Enterprise namespace (`X-Vault-Namespace`), e.g. `tenant-a/` . */
  readonly namespace?: string;
  readonly tls?: TlsOptions;
  readonly timeoutMs?: number;
}

/**
 * What an error from Vault means for the caller, in `details.vault` of the
 * FirebreakError (plain data: it survives the journal, no `instanceof`).
 * `sealed` is its own reason because nothing but an unseal helps: it is not
 * retryable by default, unlike a standby or a rate limit, which another try
 * (or another node) may pass.
 */
export const VaultErrorReasons = ['sealed', 'standby', 'dr-secondary', 'performance-standby', 'rate-limited', 'permission-denied', 'bad-request', 'not-found', 'unsupported-operation', 'not-initialized', 'server-error', 'unexpected'] as const;
export type VaultErrorReason = (typeof VaultErrorReasons)[number];

/** True when `err` (a thrown error or its stored data) says Vault is sealed. */
export function isVaultSealed(err: unknown): boolean {
  return vaultReasonOf(err) === 'sealed';
}

/** The {@link VaultErrorReason} of an error this client threw, or undefined. */
export function vaultReasonOf(err: unknown): VaultErrorReason | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const details = (err as { details?: unknown }).details;
  if (typeof details !== 'object' || details === null) return undefined;
  const reason = (details as Record<string, unknown>)['vault'];
  return (VaultErrorReasons as readonly unknown[]).includes(reason) ? reason as VaultErrorReason : undefined;
}

/**
 * Vault's error body is `{"errors":["…"]}` for every status ≥ 400 (CONTRACTS.md §2.0); a
 * multierror arrives wrapped as `1 error occurred:\n\t* permission denied\n\n`. Returns the
 * messages unwrapped, or [] when the body is empty, `{"errors":[]}` or not that shape.
 */
export function vaultErrorMessages(text: string): string[] {
  let body: unknown;
  try { body = JSON.parse(text); } catch { return []; }
  const errors = typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors)) return [];
  return errors.filter((e): e is string => typeof e === 'string').flatMap((e) => {
    const wrapped = /^\d+ errors? occurred:\n([\s\S]*)$/.exec(e);
    if (wrapped === null) return [e.trim()];
    return (wrapped[1] ?? '').split('\n').map((l) => l.replace(/^\t\* /, '').trim()).filter((l) => l !== '');
  }).filter((e) => e !== '');
}

/** The reason and catalogue code of an unexpected status, from the status and Vault's messages. */
function classify(status: number, messages: readonly string[]): { reason: VaultErrorReason; code: ErrorCode; retryable: boolean } {
  // Vault turns any error containing "Vault is sealed" into 503; a 503 from a proxy in front of it is not that.
  if (messages.some((m) => m.includes('Vault is sealed'))) return { reason: 'sealed', code: 'UNAVAILABLE', retryable: false };
  if (status === 403 || status === 401) return { reason: 'permission-denied', code: 'AUTH_FAILED', retryable: false };
  if (status === 429) return { reason: 'rate-limited', code: 'UNAVAILABLE', retryable: true };
  if (status === 472) return { reason: 'dr-secondary', code: 'UNAVAILABLE', retryable: true };
  if (status === 473) return { reason: 'performance-standby', code: 'UNAVAILABLE', retryable: true };
  // A standby that does not forward answers with a redirect to the active node (never followed: see send()).
  if (status >= 300 && status < 400) return { reason: 'standby', code: 'UNAVAILABLE', retryable: true };
  if (status === 400) return { reason: 'bad-request', code: 'UPSTREAM_REJECTED', retryable: false };
  if (status === 404) return { reason: 'not-found', code: 'NOT_FOUND', retryable: false };
  if (status === 405) return { reason: 'unsupported-operation', code: 'UPSTREAM_REJECTED', retryable: false };
  if (status === 501) return { reason: 'not-initialized', code: 'UNAVAILABLE', retryable: false };
  if (status >= 500) return { reason: 'server-error', code: 'UNAVAILABLE', retryable: true };
  return { reason: 'unexpected', code: 'UPSTREAM_REJECTED', retryable: false };
}

const HINTS: Partial<Record<VaultErrorReason, string>> = {
  sealed: 'Vault is sealed: unseal it (a quorum of key holders) before this operation',
  standby: 'this node is a standby: send the request to the active node',
  'dr-secondary': 'this node is a DR secondary: send the request to the primary cluster',
  'performance-standby': 'this node is a performance standby: send the request to the active node',
  'rate-limited': 'Vault rate limited the request (a rate limit quota): send it again later',
  'not-initialized': 'Vault is not initialized',
};

/**
 * A Vault error as a FirebreakError: Vault's own message (redacted, shortened), the
 * status, what it means (`details.vault`) and Retry-After when Vault gave one.
 * `secrets` are replaced even when too short for the process-wide redaction.
 */
export function vaultError(where: string, method: string, path: string, res: Pick<HttpResponse, 'status' | 'text' | 'headers'>, secrets: readonly (Secret | undefined)[] = []): FirebreakError {
  const messages = vaultErrorMessages(res.text);
  const { reason, code, retryable } = classify(res.status, messages);
  const said = messages.length > 0 ? messages.join('; ') : res.text.trim().startsWith('{') || res.text.trim() === '' ? '' : res.text.trim();
  const hint = HINTS[reason];
  let text = [said.length > 300 ? `${said.slice(0, 300)}…` : said, hint !== undefined && !said.includes(hint) ? hint : ''].filter((s) => s !== '').join(' — ');
  for (const s of secrets) if (s !== undefined && s.reveal() !== '') text = text.split(s.reveal()).join(REDACTED);
  const location = res.headers['location'];
  const redirect = typeof location === 'string' && reason === 'standby' ? ` (redirected to ${originOf(location)})` : '';
  const retryAfter = Number(res.headers['retry-after']);
  return new FirebreakError(code, redactText(`${where} answered ${res.status} to ${method} /${path.split('?')[0] ?? path}${redirect}${text === '' ? '' : `: ${text}`}`), {
    retryable,
    details: { system: 'vault', status: res.status, vault: reason },
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  });
}

function originOf(location: string): string {
  try { return new URL(location).origin; } catch { return 'another node'; }
}

const hasControl = (v: string): boolean => {
  for (let i = 0; i < v.length; i++) { const n = v.charCodeAt(i); if (n < 0x20 || n === 0x7f) return true; }
  return false;
};

/**
 * Checks a path taken from input (a mount, a KV path, a role name) and encodes each of its
 * segments, so that no value can leave the route it is meant for: `..` and `.` segments, empty
 * segments (`a//b`), control characters and (for `single`) any `/` are refused with INVALID_INPUT
 * naming the value's role. A trailing `/` is kept when `trailingSlash` (prefixes, folders) and
 * dropped otherwise; a leading `/` is dropped.
 */
export function vaultPath(role: string, value: string, options: { single?: boolean; trailingSlash?: boolean } = {}): string {
  const bad = (why: string) => new FirebreakError('INVALID_INPUT', `vault: the ${role} ${JSON.stringify(value)} is not usable: ${why}`, { details: { role } });
  if (hasControl(value)) throw bad('it contains a control character');
  const trimmed = value.replace(/^\//, '');
  const folder = trimmed.endsWith('/');
  const body = folder ? trimmed.slice(0, -1) : trimmed;
  if (body === '') throw bad('it is empty');
  const segments = body.split('/');
  if (options.single === true && segments.length > 1) throw bad('it must be a single name, without "/"');
  for (const s of segments) {
    if (s === '') throw bad('it has an empty segment ("//")');
    if (s === '.' || s === '..') throw bad(`"${s}" segments are not allowed`);
  }
  return segments.map((s) => encodeURIComponent(s)).join('/') + (folder && options.trailingSlash === true ? '/' : '');
}

/** One request to Vault: a path under `/v1/` (already checked with {@link vaultPath}). */
export interface VaultRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly json?: unknown;
  /** Statuses that are an answer rather than an error (404 for "absent"). 2xx always are. */
  readonly accept?: readonly number[];
  /** Values to keep out of any error message (a key share, a token being revoked). */
  readonly secrets?: readonly (Secret | undefined)[];
  readonly signal?: AbortSignal | undefined;
  /** Sends no token even when the client has one (the unauthenticated sys endpoints). */
  readonly anonymous?: boolean;
}

/** The transport the client's parts share: headers, error mapping, JSON. */
export interface VaultTransport {
  readonly where: string;
  /** Sends; a status that is neither 2xx nor in `accept` throws {@link vaultError}. */
  request(req: VaultRequest): Promise<HttpResponse>;
  /** The error for an answer the caller accepted and then found wrong (same mapping and redaction as request's). */
  error(method: string, path: string, res: Pick<HttpResponse, 'status' | 'text' | 'headers'>): FirebreakError;
  /** Sends and parses the JSON body (undefined for 204 or an empty body). */
  json(req: VaultRequest): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

export function createVaultTransport(config: VaultClientConfig, deps: { logger?: Logger } = {}): VaultTransport {
  const http: HttpClient = createHttpClient({
    baseUrl: config.url, system: 'vault', ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.tls === undefined ? {} : { tls: config.tls }), ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  const where = `vault at ${new URL(config.url).origin}`;
  // Checked like a path (it is one: `parent/child/`), sent as given.
  if (config.namespace !== undefined) vaultPath('namespace', config.namespace, { trailingSlash: true });
  const namespace = config.namespace;

  async function request(req: VaultRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'x-vault-request': 'true', accept: 'application/json' };
    if (config.token !== undefined && req.anonymous !== true) headers['x-vault-token'] = config.token.reveal();
    if (namespace !== undefined) headers['x-vault-namespace'] = namespace;
    // Redirects are not followed (undici's request does not): a standby's redirect would carry the token to another host.
    const res = await http.send({ method: req.method, path: `v1/${req.path}`, headers, ...(req.json === undefined ? {} : { json: req.json }), ...(req.signal === undefined ? {} : { signal: req.signal }) });
    if ((res.status >= 200 && res.status < 300) || (req.accept ?? []).includes(res.status)) return res;
    throw vaultError(where, req.method, `v1/${req.path}`, res, [config.token, ...(req.secrets ?? [])]);
  }

  return {
    where,
    request,
    error: (method, path, res) => vaultError(where, method, `v1/${path}`, res, [config.token]),
    async json(req) {
      const res = await request(req);
      if (res.status === 204 || res.text.trim() === '') return undefined;
      const body = res.json();
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FirebreakError('UPSTREAM_REJECTED', `${where} answered ${req.method} /v1/${req.path.split('?')[0] ?? ''} with JSON that is not an object`);
      return body as Record<string, unknown>;
    },
    close: () => http.close(),
  };
}

/** The `data` of Vault's response envelope (logical endpoints), or the body itself (sys endpoints with their own handlers). */
export function dataOf(body: Record<string, unknown> | undefined): Record<string, unknown> {
  const data = body?.['data'];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) return data as Record<string, unknown>;
  return body ?? {};
}

/** Typed field readers for Vault's JSON (missing or mistyped fields become the fallback: Vault omits empty ones). */
export const field = {
  str: (o: Record<string, unknown>, k: string, fallback = ''): string => (typeof o[k] === 'string' ? o[k] : fallback),
  num: (o: Record<string, unknown>, k: string, fallback = 0): number => (typeof o[k] === 'number' ? o[k] : fallback),
  bool: (o: Record<string, unknown>, k: string, fallback = false): boolean => (typeof o[k] === 'boolean' ? o[k] : fallback),
  strs: (o: Record<string, unknown>, k: string): string[] => (Array.isArray(o[k]) ? (o[k] as unknown[]).filter((v): v is string => typeof v === 'string') : []),
  obj: (o: Record<string, unknown>, k: string): Record<string, unknown> => (typeof o[k] === 'object' && o[k] !== null && !Array.isArray(o[k]) ? o[k] as Record<string, unknown> : {}),
};
