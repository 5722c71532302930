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

interface BatchReply {
  readonly results?: readonly Committed[];
  readonly error?: string;
}

function storeFailed(message: string): FirebreakError {
  return new FirebreakError('STORE_FAILED', `the journal could not be written: ${message}`);
}

/**
 * The writer over `store`'s connection, on this thread: one transaction, and so
 * one fsync, per turn of the event loop, whatever the number of steps and
 * items that wrote in it. (A writer thread with its own connection was
 * measured and is slower here: docs/BENCHMARKS.md, "Group commit".)
 */
export function createJournalWriter(store: JournalStore): JournalWriter {
  const q = writerQueue((batch) => {
    let reply: BatchReply;
    try {
      reply = { results: applyBatch(store, batch.map((p) => p.change)) };
    } catch (err) {
      reply = { error: (err as Error).message };
    }
    q.done(batch, reply);
  });
  return {
    write: (c) => q.write(c),
    idle: () => q.idle(),
    barrier: (runId) => q.barrier(runId),
    forget: (runId) => { q.failed.delete(runId); },
    close: () => q.idle(),
  };
}

/** The queue both writers share: what runs failed, what is in flight, when it is idle. */
function writerQueue(send: (batch: Pending[]) => void) {
  const failed = new Map<string, Error>();
  let queued: Pending[] = [];
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  let scheduled = false;
  const settle = (n: number) => {
    inFlight -= n;
    if (inFlight === 0 && queued.length === 0) { const w = idleWaiters; idleWaiters = []; for (const f of w) f(); }
  };
  return {
    failed,
    get pending() { return inFlight + queued.length; },
    write(change: JournalChange): Promise<Committed> {
      const earlier = failed.get(change.runId);
      if (earlier !== undefined) return Promise.reject(earlier);
      return new Promise<Committed>((resolve, reject) => {
        queued.push({
          change,
          resolve,
          reject: (e) => { failed.set(change.runId, e); reject(e); },
        });
        if (!scheduled) {
          scheduled = true;
          // Everything written in this turn of the event loop goes in one batch.
          setImmediate(() => {
            scheduled = false;
            const batch = queued;
            queued = [];
            inFlight += batch.length;
            send(batch);
          });
        }
      });
    },
    done(batch: Pending[], reply: BatchReply): void {
      batch.forEach((p, i) => {
        const r = reply.results?.[i];
        if (r !== undefined) p.resolve(r);
        else p.reject(storeFailed(reply.error ?? 'no reply'));
      });
      settle(batch.length);
    },
    async barrier(runId: string): Promise<void> {
      await this.idle();
      const earlier = failed.get(runId);
      if (earlier !== undefined) throw earlier;
    },
    idle(): Promise<void> {
      return inFlight === 0 && queued.length === 0 ? Promise.resolve() : new Promise((resolve) => { idleWaiters.push(resolve); });
    },
  };
}
