// Worker thread: verifies one range of the audit chain on its own read-only connection.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync } from 'node:sqlite';
import { verifyRange } from './audit-chain.ts';

const { path, from, to, prev } = workerData as { path: string; from: number; to: number; prev: string };
const db = new DatabaseSync(path, { readOnly: true });
try {
  parentPort?.postMessage(verifyRange(db, from, to, prev));
} finally {
  db.close();
}
