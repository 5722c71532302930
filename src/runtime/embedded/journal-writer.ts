import { FirebreakError } from '../../lib/errors.ts';
import type { JournalStore } from './journal-store.ts';
import { applyBatch, type Committed, type JournalChange } from './journal-writes.ts';

/**
 * Group commit. The changes of concurrent steps and items queue here and are
 * committed together, in the order they were written, one durable transaction
 * for all that arrived while the previous one was being written. A change's
 * promise settles when its transaction has committed (or failed).
 *
 * Order is the journal's guarantee: a change is durable only with every change
 * written before it, so a step whose start is durable has the end of the step
 * before it durable too. A run whose write failed refuses its later writes
 * (until `forget`), so that nothing of that run lands after a gap.
 */
export interface JournalWriter {
  write(change: JournalChange): Promise<Committed>;
  /** Settles when everything written so far has committed or failed. */
  idle(): Promise<void>;
  /** Settles when everything written so far has committed; rejects if a write of the run failed. */
  barrier(runId: string): Promise<void>;
  /** A new execution of the run: its earlier write failure no longer blocks it. */
  forget(runId: string): void;
  close(): Promise<void>;
}

interface Pending {
  readonly change: JournalChange;
  resolve(c: Committed): void;
  reject(e: Error): void;
}

/**
 * The writer over `store`'s connection, on this thread: one transaction, and so
 * one fsync, per turn of the event loop, whatever the number of steps and
 * items that wrote in it. (A writer thread with its own connection was
 * measured and is slower here: docs/BENCHMARKS.md, "Group commit".)
 */
export function createJournalWriter(store: JournalStore): JournalWriter {
  const failed = new Map<string, Error>();
  let queued: Pending[] = [];
  let flushed: (() => void)[] = [];

  // Everything written in this turn of the event loop goes in one batch: all of it durable, or none.
  const flush = () => {
    const batch = queued;
    const waiters = flushed;
    queued = [];
    flushed = [];
    try {
      const results = applyBatch(store, batch.map((p) => p.change));
      batch.forEach((p, i) => { p.resolve(results[i] as Committed); });
    } catch (err) {
      const e = new FirebreakError('STORE_FAILED', `the journal could not be written: ${(err as Error).message}`);
      for (const p of batch) { failed.set(p.change.runId, e); p.reject(e); }
    }
    for (const w of waiters) w();
  };
  const idle = (): Promise<void> => (queued.length === 0 ? Promise.resolve() : new Promise((resolve) => { flushed.push(resolve); }));

  return {
    write(change) {
      const earlier = failed.get(change.runId);
      if (earlier !== undefined) return Promise.reject(earlier);
      return new Promise<Committed>((resolve, reject) => {
        if (queued.length === 0) setImmediate(flush);
        queued.push({ change, resolve, reject });
      });
    },
    idle,
    async barrier(runId) {
      await idle();
      const earlier = failed.get(runId);
      if (earlier !== undefined) throw earlier;
    },
    forget(runId) { failed.delete(runId); },
    close: idle,
  };
}
