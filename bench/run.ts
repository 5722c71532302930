// Runs every benchmark, one after the other (each prints its figures and baselines).
//   npm run bench
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const b of ['engine/engine-bench.ts', 'engine/fanout-bench.ts', 'audit/audit-bench.ts', 'device-compromise/device-bench.ts', 'db-credential-leak/db-bench.ts', 'subca-compromise/reenroll-bench.ts', 'report/report-bench.ts', 'cli/cli-bench.ts', 'assess/assess-bench.ts']) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(b, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
