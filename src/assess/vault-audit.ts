import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { FirebreakError, fromErrorData, type ErrorData } from '../lib/errors.ts';
import { forEachLine, isGzip } from './audit-lines.ts';
import { RangePool, rangeLines } from './audit-ranges.ts';
import { AuditScan, type Located, type ScanPart } from './vault-audit-scan.ts';
import { ASSESS_SCHEMA, type AssessOptions } from './vault-audit-kinds.ts';
import type { Assessment, FileSummary, SuspiciousEvent } from './vault-audit-types.ts';

/**
 * `firebreak assess vault-audit` and the vault-breach assessment: Vault's
 * file audit logs, streamed, as the breach's figures (docs/assess.md). A
 * request and its response are one operation, counted once; bad lines are
 * counted and listed, never fatal. A large plain file is read in ranges on
 * worker threads, with exactly the result of one pass (vault-audit-scan.ts).
 */

export interface AssessProgress { readonly file: string; readonly bytes: number; readonly lines: number }

/** How a file is cut for worker threads: the defaults, or a test's. */
export interface ScanTuning {
  /** Bytes per range (default 16 MiB); a file of fewer than two ranges is read in one pass. */
  readonly chunk?: number;
  /** Worker threads (default: the cores, at most 4); 1 or fewer: one pass on this thread. */
  readonly workers?: number;
}

/** What the caller is told while the assessment reads. */
export interface AssessEvents {
  /** A file read to its end. */
  readonly onFile?: (p: AssessProgress) => void;
  /** Within a file read in ranges, after each range: the bytes read so far of its size. */
  readonly onReading?: (p: { readonly file: string; readonly bytes: number; readonly size: number }) => void;
  /** A range read again on the assessment's thread because its part could not be absorbed exactly. */
  readonly onRescan?: (file: string, k: number) => void;
}

const CHUNK = 16 * 2 ** 20;

/** One file in ranges on the pool's threads, absorbed in order; a range that cannot be absorbed exactly is read again here. */
async function scanInRanges(scan: AuditScan, pool: RangePool, file: string, fileIndex: number, size: number, chunk: number, events: AssessEvents): Promise<{ bytes: number; lines: number }> {
  const ranges = Math.ceil(size / chunk);
  const results = new Map<number, Promise<{ part: ScanPart; bytes: number }>>();
  let next = 0;
  const fill = (upTo: number) => {
    for (; next < ranges && next < upTo; next++) {
      const p = pool.scan({ file, fileIndex, k: next, chunk, ranges });
      // Awaited in its turn; a failure before then (a thread that died) is not an unhandled rejection.
      p.catch(() => undefined);
      results.set(next, p);
    }
  };
  let bytes = 0;
  let lines = 0;
  try {
    for (let k = 0; k < ranges; k++) {
      // Ranges in flight: one per thread, and as many again done and waiting for their turn.
      fill(k + 2 * pool.size);
      const r = await (results.get(k) ?? Promise.reject(new Error(`range ${k} was not started`)));
      results.delete(k);
      if (scan.absorb(r.part, lines)) {
        bytes += r.bytes;
        lines += r.part.lines;
      } else {
        events.onRescan?.(file, k);
        const offset = lines;
        const again = rangeLines({ file, fileIndex, k, chunk, ranges }, (line, n, last) => { scan.line(line, file, fileIndex, offset + n, last); });
        bytes += again.bytes;
        lines += again.lines;
      }
      events.onReading?.({ file, bytes, size });
    }
  } finally {
    // Settle what is still in flight after a failure, so that no rejection goes unhandled.
    await Promise.allSettled(results.values());
  }
  return { bytes, lines };
}

/** Whether the file is read in ranges on worker threads: a plain file of two ranges or more, with more than one thread. */
async function inRanges(file: string, chunk: number, workers: number): Promise<number | undefined> {
  if (workers <= 1 || await isGzip(file)) return undefined;
  const st = statSync(file);
  return st.isFile() && st.size >= 2 * chunk ? st.size : undefined;
}

/**
 * The assessment. When a file is large enough to be read in ranges, the whole assessment runs on a thread of its
 * own (vault-audit-thread.ts): the ranges are absorbed there, and this thread (the CLI's, or the engine's with
 * the other steps' I/O) only waits for the result.
 */
export async function assessVaultAudit(files: readonly string[], o: AssessOptions, events: AssessEvents = {}, tuning: ScanTuning = {}): Promise<Assessment> {
  new AuditScan(o); // the options' errors (a bad network, a bad tenant pattern), here and before any thread starts
  const chunk = tuning.chunk ?? CHUNK;
  const workers = tuning.workers ?? Math.min(availableParallelism(), 4);
  const ranged: (number | null)[] = [];
  for (const file of files) ranged.push(await inRanges(file, chunk, workers) ?? null);
  const plan: ReadPlan = { chunk, workers, ranged };
  return ranged.some((size) => size !== null) ? assessOnThread(files, o, plan, events) : assessHere(files, o, plan, events);
}

/** How the files are read: `ranged[i]`, the size of file i when it is read in ranges of `chunk` on `workers` threads, else null. */
export interface ReadPlan { readonly chunk: number; readonly workers: number; readonly ranged: readonly (number | null)[] }

/** The assessment on this thread, the files the plan names read in ranges on a pool of threads. */
export async function assessHere(files: readonly string[], o: AssessOptions, plan: ReadPlan, events: AssessEvents): Promise<Assessment> {
  const scan = new AuditScan(o);
  let pool: RangePool | undefined;
  const summaries: FileSummary[] = [];
  try {
    for (const [fileIndex, file] of files.entries()) {
      const size = plan.ranged[fileIndex] ?? null;
      if (size !== null) {
        pool ??= new RangePool(plan.workers, o);
        const r = await scanInRanges(scan, pool, file, fileIndex, size, plan.chunk, events);
        summaries.push({ file, gzip: false, bytes: r.bytes, lines: r.lines });
        events.onFile?.({ file, bytes: r.bytes, lines: r.lines });
        continue;
      }
      const r = await forEachLine(file, (line, n, last) => { scan.line(line, file, fileIndex, n, last); });
      summaries.push({ file, gzip: r.gzip, bytes: r.bytes, lines: r.lines });
      if (r.damaged !== undefined) scan.problem({ file, line: r.lines + 1, problem: 'incomplete', detail: r.damaged });
      events.onFile?.({ file, bytes: r.bytes, lines: r.lines });
    }
  } finally {
    await pool?.close();
  }
  scan.finish();
  return result(scan, o, summaries);
}

/** What the assessment's thread sends: progress, a range read again, and at the end the result or the error. */
export type ThreadMessage =
  | { readonly progress: AssessProgress } | { readonly reading: { readonly file: string; readonly bytes: number; readonly size: number } }
  | { readonly rescan: { readonly file: string; readonly k: number } }
  | { readonly result: Assessment } | { readonly error: ErrorData };

function assessOnThread(
  files: readonly string[], o: AssessOptions, plan: ReadPlan, events: AssessEvents,
): Promise<Assessment> {
  // The threads' young generation: V8 takes the size from this flag for every heap created after it (the CLI sets it
  // larger for its own start). 4 MiB: a range's garbage dies young anyway, and memory stays flat in the file's size.
  setFlagsFromString('--max-semi-space-size=4');
  const w = new Worker(new URL('./vault-audit-thread.ts', import.meta.url), { workerData: { files, options: o, plan } });
  return new Promise<Assessment>((resolve, reject) => {
    w.on('message', (m: ThreadMessage) => {
      if ('progress' in m) events.onFile?.(m.progress);
      else if ('reading' in m) events.onReading?.(m.reading);
      else if ('rescan' in m) events.onRescan?.(m.rescan.file, m.rescan.k);
      else if ('result' in m) resolve(m.result);
      else reject(fromErrorData(m.error));
    });
    w.on('error', reject);
    w.on('exit', (code) => { reject(new FirebreakError('INTERNAL', `the assessment's thread ended (exit ${code}) without a result`)); });
  });
}

function result(scan: AuditScan, o: AssessOptions, summaries: FileSummary[]): Assessment {
  const { events, paths, tenants, excluded, ops } = scan;
  const suspicious = scan.suspicious;
  const order = (a: Located, b: Located) => a.fileIndex - b.fileIndex || a.line - b.line;
  const affected = [...tenants].map(([tenant, t]) => ({ tenant, reads: t.reads, lists: t.lists, paths: t.paths.size })).sort((a, b) => a.tenant.localeCompare(b.tenant));
  return {
    schema: ASSESS_SCHEMA,
    window: { since: o.since === undefined ? null : new Date(o.since).toISOString(), until: o.until === undefined ? null : new Date(o.until).toISOString() },
    input: {
      files: summaries, lines: summaries.reduce((n, f) => n + f.lines, 0), entries: scan.entries, otherTypes: scan.otherTypes,
      problems: { total: scan.problemTotal, byKind: scan.problemKinds, first: scan.problems }, operations: ops,
    },
    suspicious: {
      total: suspicious, byKind: scan.byKind, allowListChecked: o.allowedNetworks.length > 0, omitted: suspicious - events.length,
      events: events.sort(order).map((x): SuspiciousEvent => ({
        file: x.file, line: x.line, kinds: [...x.kinds], time: x.time, type: x.type, operation: x.operation, path: x.path,
        remoteAddress: x.remoteAddress, accessor: x.accessor, displayName: x.displayName, error: x.error,
      })),
    },
    secretsRead: {
      reads: [...paths.values()].reduce((n, p) => n + p.reads, 0), lists: [...paths.values()].reduce((n, p) => n + p.lists, 0), distinctPaths: paths.size,
      paths: [...paths].map(([path, p]) => ({ path, ...p })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    },
    tenants: {
      patterns: [...o.tenantPaths], affected, excludedTest: [...excluded].sort(), threshold: o.widespreadAbove,
      scope: affected.length > o.widespreadAbove ? 'widespread' : affected.length > 0 ? 'limited' : 'none',
    },
    ...((o.find ?? []).some((f) => f.hashes.length > 0) ? { matches: scan.matches } : {}),
  };
}
