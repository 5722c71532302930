import { toErrorData, type ErrorData } from '../lib/errors.ts';
import type { RetryPolicy } from './runtime-types.ts';

export const NO_RETRY: RetryPolicy = { maxAttempts: 1, baseMs: 0, maxMs: 0, jitter: 0 };
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 200, maxMs: 10_000, jitter: 1 };

/**
 * Delay before attempt `attempt + 1` after attempt `attempt` failed, or
 * undefined when the error must not be retried: only transient errors
 * (retryable codes: timeouts, 5xx, refused connections) and only while
 * attempts remain. Exponential backoff capped at maxMs, with jitter; a
 * Retry-After from the target is honoured as a floor.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, error: ErrorData & { retryAfterMs?: number }, random: () => number = Math.random): number | undefined {
  if (!error.retryable || attempt >= policy.maxAttempts) return undefined;
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = exp * (1 - policy.jitter) + exp * policy.jitter * random();
  return Math.max(Math.round(jittered), error.retryAfterMs ?? 0);
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `fn` with the policy's retries for transient errors (outside a durable run, e.g. `firebreak plan`). */
export async function withRetry<T>(policy: RetryPolicy, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const data = toErrorData(err);
      const retryAfterMs = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
      const delay = retryDelay(policy, attempt, typeof retryAfterMs === 'number' ? { ...data, retryAfterMs } : data);
      if (delay === undefined) throw err;
      await abortableSleep(delay, signal);
    }
  }
}
