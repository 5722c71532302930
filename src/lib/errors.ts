/**
 * The error catalogue. Every failure Firebreak reports carries one of these
 * stable codes; retryability, CLI exit code and HTTP status derive from the
 * code alone (never from `instanceof`). Errors cross the durable boundary as
 * {@link ErrorData}, plain JSON, and are never re-hydrated into classes.
 *
 * docs/errors.md is generated from this table and a test keeps it in sync.
 */
export const ErrorCodes = {
  INTERNAL: { exit: 1, http: 500, retryable: false, summary: 'A bug in Firebreak; the message and log say where.' },
  USAGE: { exit: 2, http: 400, retryable: false, summary: 'The command line is wrong: unknown option, missing or malformed argument.' },
  INVALID_INPUT: { exit: 2, http: 400, retryable: false, summary: 'A playbook input or request body failed validation.' },
  CONFIG_INVALID: { exit: 3, http: 500, retryable: false, summary: 'firebreak.yaml is missing, unreadable or fails validation; every problem is listed as path: message.' },
  PLAYBOOK_INVALID: { exit: 3, http: 500, retryable: false, summary: 'A playbook definition fails static validation (cycle, unknown step, broken precondition).' },
  NOT_FOUND: { exit: 4, http: 404, retryable: false, summary: 'The run, incident, playbook, tenant or device named does not exist.' },
  CONFLICT: { exit: 5, http: 409, retryable: false, summary: 'The request conflicts with current state (run already running, incident already closed, id ambiguous).' },
  AUTH_FAILED: { exit: 6, http: 502, retryable: false, summary: 'A target system rejected Firebreak\'s credentials (401/403).' },
  SECRET_UNAVAILABLE: { exit: 6, http: 500, retryable: false, summary: 'A credential reference (env:, file:, vault:) or the journal key cannot be resolved.' },
  UNAVAILABLE: { exit: 7, http: 503, retryable: true, summary: 'A target system is unreachable or answered 5xx / 429; retried with backoff.' },
  TIMEOUT: { exit: 7, http: 504, retryable: true, summary: 'A call or step exceeded its timeout; retried with backoff when the step allows it.' },
  UPSTREAM_REJECTED: { exit: 7, http: 502, retryable: false, summary: 'A target system refused the request (4xx other than auth); not retried.' },
  PRECONDITION_FAILED: { exit: 8, http: 412, retryable: false, summary: 'A step\'s declared precondition does not hold at run time.' },
  VERIFY_FAILED: { exit: 8, http: 500, retryable: false, summary: 'A step applied its change but verification found the target state not reached.' },
  IN_DOUBT: { exit: 8, http: 409, retryable: false, summary: 'A step that cannot safely be repeated was interrupted (crash, timeout) and whether it took effect cannot be proven: the run waits for the operator to check and confirm (`firebreak approve <run> --step <id>`).' },
  APPROVAL_REQUIRED: { exit: 9, http: 202, retryable: false, summary: 'The run waits for an approval (use `firebreak approve` or --yes).' },
  APPROVAL_INVALID: { exit: 9, http: 403, retryable: false, summary: 'An approval was refused: wrong plan hash, approver is the initiator under the two-person rule, or rejected.' },
  CANCELLED: { exit: 10, http: 409, retryable: false, summary: 'The run or step was cancelled.' },
  PARTIAL_FAILURE: { exit: 11, http: 200, retryable: false, summary: 'The run completed with failures: some fan-out items failed and are listed; resume retries only those.' },
  AUDIT_TAMPERED: { exit: 12, http: 500, retryable: false, summary: 'The audit log fails verification; the first bad entry is named.' },
  STORE_FAILED: { exit: 13, http: 500, retryable: false, summary: 'The journal database cannot be opened or written.' },
} as const satisfies Record<string, { exit: number; http: number; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The serialisable form of an error: what the journal stores and the API returns. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface FirebreakErrorOptions {
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
  /** Overrides the code's default, e.g. a 409 "operation in progress" that is worth retrying. */
  readonly retryable?: boolean;
  /** Seconds the target asked us to wait (Retry-After), honoured by the retry policy. */
  readonly retryAfterMs?: number;
}

export class FirebreakError extends Error {
  override readonly name = 'FirebreakError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: FirebreakErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? ErrorCodes[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}

/** Any thrown value as data. Unknown errors become INTERNAL, keeping only their message. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof FirebreakError) {
    return {
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      ...(err.details === undefined ? {} : { details: err.details }),
    };
  }
  if (isErrorData(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return { code: 'CANCELLED', message: err.message || 'aborted', retryable: false };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message, retryable: false };
}

export function isErrorData(value: unknown): value is ErrorData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return isErrorCode(v['code']) && typeof v['message'] === 'string' && typeof v['retryable'] === 'boolean';
}

/** Rebuilds a throwable from stored data (same code, same message): never a class lookup. */
export function fromErrorData(data: ErrorData): FirebreakError {
  return new FirebreakError(data.code, data.message, {
    retryable: data.retryable,
    ...(data.details === undefined ? {} : { details: { ...data.details } }),
  });
}

export function exitCodeFor(code: ErrorCode): number {
  return ErrorCodes[code].exit;
}

export function httpStatusFor(code: ErrorCode): number {
  return ErrorCodes[code].http;
}
