import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { JournalStore } from './journal-store.ts';

/**
 * Which process executes a run: the owner column names host, pid and a
 * random part; the owner's heartbeat keeps the claim. A claim is stale when
 * its heartbeat is old, or at once when its process on this host is gone.
 */
export interface RunOwner {
  /** This process's owner id. */
  readonly id: string;
  /** Whether another live process executes the run. */
  isLive(runId: string): boolean;
}

export function createRunOwner(store: JournalStore, heartbeatMs: number): RunOwner {
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  return {
    id,
    isLive(runId) {
      const { owner, heartbeatAt } = store.ownerInfo(runId);
      if (owner === null || owner === id) return false;
      const [host, pid] = owner.split(':');
      if (host === hostname() && pid !== undefined && !processAlive(Number(pid))) return false;
      return heartbeatAt !== null && Date.now() - Date.parse(heartbeatAt) < heartbeatMs * 5;
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
