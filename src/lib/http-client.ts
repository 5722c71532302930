import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { FirebreakError, type ErrorCode } from './errors.ts';
import { redactUrls } from './redact.ts';
import { silentLogger, type Logger } from './log.ts';

/** TLS settings of one endpoint. Verification is on unless `insecure` is set, visibly, in config. */
export interface TlsOptions {
  /** PEM of the CA(s) to trust in addition to (or instead of) the system store, e.g. a step-ca root. */
  readonly ca?: string;
  /** Client certificate and key for mTLS. */
  readonly cert?: string;
  readonly key?: string;
  readonly insecure?: boolean;
}

export interface HttpClientOptions {
  readonly baseUrl: string;
  /** Used in error messages: "thingsboard at https://tb.example: …" */
  readonly system: string;
  readonly timeoutMs?: number;
  readonly tls?: TlsOptions;
  readonly logger?: Logger;
  readonly defaultHeaders?: Readonly<Record<string, string>>;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';
  /** Path (and query) relative to the base URL. Path segments from input must be encoded by the caller with {@link pathSegment}. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (serialised here) or a raw string body. */
  readonly json?: unknown;
  readonly body?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** Parses the body as JSON; throws UPSTREAM_REJECTED naming the system when it is not JSON. */
  json<T = unknown>(): T;
}

/** The guarded outbound client every connector uses: timeouts, cancellation, TLS on by default, sanitised URLs in logs and errors. */
export interface HttpClient {
  /** Sends the request and returns whatever status came back. Network failures and timeouts throw UNAVAILABLE / TIMEOUT. */
  send(req: HttpRequest): Promise<HttpResponse>;
  /** Like send, but a status outside `ok` (default 2xx) throws the mapped error ({@link errorForStatus}). */
  call(req: HttpRequest, ok?: readonly number[]): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Encodes one path segment taken from input (device names, ids): `/`, `..`, `?`, `#` cannot escape it. */
export function pathSegment(value: string): string {
  if (value === '.' || value === '..') return encodeURIComponent(value).replace(/\./g, '%2E');
  return encodeURIComponent(value);
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = new URL(options.baseUrl);
  const log = options.logger ?? silentLogger;
  const tls = options.tls;
  const dispatcher: Dispatcher = new Agent({
    connect: {
      ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls?.key === undefined ? {} : { key: tls.key }),
      rejectUnauthorized: tls?.insecure !== true,
    },
  });
  const where = `${options.system} at ${redactUrls(base.origin)}`;

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.path.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
    const timeoutMs = req.timeoutMs ?? options.timeoutMs ?? 15_000;
    const signals = [AbortSignal.timeout(timeoutMs), ...(req.signal === undefined ? [] : [req.signal])];
    const headers: Record<string, string> = { ...options.defaultHeaders, ...req.headers };
    let body: string | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    const started = performance.now();
    try {
      const res = await request(url, {
        method: req.method,
        headers,
        body: body ?? null,
        dispatcher,
        signal: AbortSignal.any(signals),
      });
      const text = await res.body.text();
      log.debug('http', { system: options.system, method: req.method, url: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
      return {
        status: res.statusCode,
        headers: res.headers,
        text,
        json<T>() {
          try {
            return JSON.parse(text) as T;
          } catch (cause) {
            throw new FirebreakError('UPSTREAM_REJECTED', `${where} answered ${req.method} ${url.pathname} with a body that is not JSON`, { cause });
          }
        },
      };
    } catch (cause) {
      if (req.signal?.aborted === true) throw new FirebreakError('CANCELLED', `${req.method} ${url.pathname} to ${where} was cancelled`, { cause });
      if (cause instanceof Error && (cause.name === 'TimeoutError' || cause instanceof undiciErrors.HeadersTimeoutError || cause instanceof undiciErrors.BodyTimeoutError)) {
        throw new FirebreakError('TIMEOUT', `${where} did not answer ${req.method} ${url.pathname} within ${timeoutMs} ms`, { cause });
      }
      const inner = (cause as { cause?: unknown }).cause;
      const code = (cause as { code?: string }).code ?? (inner as { code?: string } | undefined)?.code;
      const verdict = code === undefined ? undefined : tlsVerdict(code, (cause as { code?: string }).code === code ? cause : inner, base.hostname, tls?.ca !== undefined);
      if (verdict !== undefined) {
        // Not retried: the same certificate meets the same trust next time.
        throw new FirebreakError('AUTH_FAILED', `${where}: ${verdict.text}, so ${req.method} ${url.pathname} was not sent: ${verdict.fix} (${code ?? ''})`,
          { cause, details: { system: options.system, errno: code, tls: verdict.kind } });
      }
      throw new FirebreakError('UNAVAILABLE', `${where} is unreachable for ${req.method} ${url.pathname}: ${code ?? (cause as Error).message}`,
        { cause, details: { system: options.system, ...(code === undefined ? {} : { errno: code }) } });
    }
  }

  return {
    send,
    async call(req, ok) {
      const res = await send(req);
      const accepted = ok === undefined ? res.status >= 200 && res.status < 300 : ok.includes(res.status);
      if (!accepted) throw errorForStatus(where, req.method, req.path, res);
      return res;
    },
    close: () => dispatcher.close(),
  };
}

/** OpenSSL's verdicts that mean the server's chain does not lead to a CA this client trusts. */
const UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED']);

/**
 * A failed TLS verification in words, or undefined when `code` is not one.
 * Node's own messages ("unable to verify the first certificate; … try
 * --use-system-ca") say neither which trust was applied nor what to change:
 * here, whether the configured CA (`pinned`: it replaces the system store)
 * or the system's refused the certificate, or which host it does not name.
 */
function tlsVerdict(code: string, err: unknown, host: string, pinned: boolean): { kind: string; text: string; fix: string } | undefined {
  const trust = pinned ? 'the configured CA' : 'the system\'s CA store (no CA file is configured for this endpoint)';
  if (UNTRUSTED.has(code)) {
    return {
      kind: 'untrusted',
      text: `the TLS certificate${code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ? ' is self-signed and' : ''} is not trusted by ${trust}`,
      fix: pinned ? 'the CA file must hold the CA that signed this server\'s certificate' : 'set caFile to the CA that signed this server\'s certificate',
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const e = err as { host?: unknown; cert?: { subjectaltname?: unknown } } | undefined;
    const names = typeof e?.cert?.subjectaltname === 'string' && e.cert.subjectaltname !== '' ? e.cert.subjectaltname : 'no alternative names';
    const named = typeof e?.host === 'string' ? e.host : host;
    return { kind: 'host-mismatch', text: `the TLS certificate does not match the host ${named} (it names ${names})`, fix: `use a URL whose host the certificate names, or reissue the certificate for ${named}` };
  }
  if (code === 'INVALID_PURPOSE') return { kind: 'wrong-purpose', text: 'the TLS certificate is not one for a TLS server (its key usage or extended key usage)', fix: 'serve a certificate issued for TLS servers (serverAuth)' };
  if (code === 'CERT_HAS_EXPIRED') return { kind: 'expired', text: 'the TLS certificate has expired', fix: 'renew the server\'s certificate' };
  if (code === 'CERT_NOT_YET_VALID') return { kind: 'not-yet-valid', text: 'the TLS certificate is not valid yet', fix: 'check the server\'s and this host\'s clocks' };
  if (/CERT|SELF_SIGNED|TLS|SSL|CRL|INVALID_CA|PATH_LENGTH/.test(code)) return { kind: 'failed', text: 'the TLS handshake failed', fix: `check the server's certificate and ${trust}` };
  return undefined;
}

/** Maps an unexpected HTTP status to the error catalogue: 401/403 auth, 408/429/5xx transient, other 4xx rejected. */
export function errorForStatus(where: string, method: string, path: string, res: Pick<HttpResponse, 'status' | 'text' | 'headers'>): FirebreakError {
  const code: ErrorCode =
    res.status === 401 || res.status === 403 ? 'AUTH_FAILED'
      : res.status === 408 || res.status === 429 || res.status >= 500 ? 'UNAVAILABLE'
        : 'UPSTREAM_REJECTED';
  const retryAfter = Number(res.headers['retry-after']);
  const excerpt = res.text.length > 300 ? `${res.text.slice(0, 300)}…` : res.text;
  return new FirebreakError(code, `${where} answered ${res.status} to ${method} ${redactUrls(path.split('?')[0] ?? path)}${excerpt === '' ? '' : `: ${excerpt}`}`, {
    details: { status: res.status },
    ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
  });
}
