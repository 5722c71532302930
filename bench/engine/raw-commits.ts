// The machine's raw durable commit rate, the baseline of the engine benchmarks:
// one 100-byte INSERT per transaction, WAL, synchronous=FULL, on the disk of `dir`.
import { join } from 'node:path';
import { openDatabase } from '../../src/store/sqlite-db.ts';

/** Times `n` raw durable commits in a database under `dir`; returns their wall time in ms. */
export function timeRawCommits(dir: string, n: number): number {
  const raw = openDatabase(join(dir, 'raw.db'));
  try {
    raw.exec('CREATE TABLE IF NOT EXISTS t (i INTEGER, v TEXT)');
    const ins = raw.prepare('INSERT INTO t VALUES (?, ?)');
    const t = performance.now();
    for (let i = 0; i < n; i++) ins.run(i, 'x'.repeat(100));
    return performance.now() - t;
  } finally {
    raw.close();
  }
}
