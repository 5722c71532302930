// Worker thread: scans ranges of a Vault audit log (audit-ranges.ts) from an empty state, for the scan of what comes
// before each to absorb (vault-audit-scan.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { rangeLines, type RangeTask } from './audit-ranges.ts';
import { AuditScan } from './vault-audit-scan.ts';
import type { AssessOptions } from './vault-audit-kinds.ts';

const options = workerData as AssessOptions;

parentPort?.on('message', (t: RangeTask) => {
  try {
    const scan = new AuditScan(options, true);
    const r = rangeLines(t, (line, n, last) => { scan.line(line, t.file, t.fileIndex, n, last); });
    parentPort?.postMessage({ k: t.k, part: scan.part(), bytes: r.bytes });
  } catch (err) {
    parentPort?.postMessage({ k: t.k, error: (err as Error).message });
  }
});
