import type { RateLimit } from './runtime-types.ts';
import { abortableSleep } from './retry.ts';

/**
 * A token bucket per target system: `take()` resolves when a request may be
 * sent. Shared by every step and fan-out item of the process that uses the
 * same key, so a fan-out over thousands of devices never floods one system.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();
  readonly #now: () => number;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.perSecond > 0)) throw new RangeError('rate limit must be > 0 per second');
    this.#perMs = limit.perSecond / 1000;
    this.#burst = Math.max(1, limit.burst ?? Math.ceil(limit.perSecond / 10));
    this.#tokens = this.#burst;
    this.#now = now;
    this.#last = now();
  }

  /** Waits for one token. Callers are served in order. */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.#queue.then(() => this.#takeOne(signal));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #takeOne(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#now();
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await abortableSleep(Math.ceil((1 - this.#tokens) / this.#perMs), signal);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves when all settled. */
export async function mapWithConcurrency<I, R>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  await forEachWithConcurrency(items, limit, async (item, i) => {
    try {
      results[i] = { status: 'fulfilled', value: await fn(item, i) };
    } catch (reason) {
      results[i] = { status: 'rejected', reason };
    }
  });
  return results;
}

/** {@link mapWithConcurrency} that keeps no results (`fn` handles its own failures): memory stays flat in the item count. */
export async function forEachWithConcurrency<I>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i] as I, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
