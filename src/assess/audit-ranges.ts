import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { LineSplitter } from './audit-lines.ts';
import type { AssessOptions } from './vault-audit-kinds.ts';
import type { ScanPart } from './vault-audit-scan.ts';

/**
 * A plain log file cut into ranges of whole lines, scanned on worker threads
 * (vault-audit-worker.ts). Range k starts at the first line that starts at or
 * after byte k × chunk, so the ranges depend on the file and the chunk size
 * only, never on how many threads read them; a line longer than a chunk
 * leaves the ranges it covers empty. The last range reads to the end the file
 * has when it gets there (a file still being written).
 */

const NL = 0x0a;
const BLOCK = 1 << 20;

export interface RangeTask { readonly file: string; readonly fileIndex: number; readonly k: number; readonly chunk: number; readonly ranges: number }
export interface RangeDone { readonly bytes: number; readonly lines: number }

/**
 * The read buffer, one per thread for all its ranges: a buffer per range lives long enough to reach the old
 * generation, and the dead ones then pile up until a full collection (measured: peak RSS growing with the file).
 */
let block: Buffer | undefined;

/** The offset of the first line that starts at or after `pos` (the end of the file when none does). */
function lineStart(fd: number, pos: number): number {
  if (pos === 0) return 0;
  const b = (block ??= Buffer.allocUnsafe(BLOCK)).subarray(0, 64 * 1024);
  for (let at = pos - 1; ; at += b.length) {
    const n = readSync(fd, b, 0, b.length, at);
    if (n === 0) return at;
    const nl = b.subarray(0, n).indexOf(NL);
    if (nl !== -1) return at + nl + 1;
  }
}

/** Calls `onLine` with each line of range k (numbered from 1 within the range), synchronously. */
export function rangeLines(t: RangeTask, onLine: (line: Buffer, n: number, last: boolean) => void): RangeDone {
  const fd = openSync(t.file, 'r');
  try {
    const start = lineStart(fd, t.k * t.chunk);
    const end = t.k === t.ranges - 1 ? Infinity : lineStart(fd, (t.k + 1) * t.chunk);
    const buf = (block ??= Buffer.allocUnsafe(BLOCK));
    const lines = new LineSplitter(onLine, { reusedChunks: true });
    let pos = start;
    while (pos < end) {
      const got = readSync(fd, buf, 0, Math.min(BLOCK, end - pos), pos);
      if (got === 0) break;
      pos += got;
      lines.push(buf.subarray(0, got));
    }
    lines.end();
    return { bytes: pos - start, lines: lines.lines };
  } finally {
    closeSync(fd);
  }
}

type Reply = { readonly k: number; readonly part: ScanPart; readonly bytes: number } | { readonly k: number; readonly error: string };
interface Job { readonly task: RangeTask; readonly resolve: (r: Reply) => void; readonly reject: (e: Error) => void }

/** At most `size` worker threads that scan ranges for one assessment's options, each one range at a time; closed when done. */
export class RangePool {
  readonly #size: number;
  readonly #options: AssessOptions;
  readonly #all: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #queue: Job[] = [];
  readonly #running = new Map<Worker, Job>();

  constructor(size: number, options: AssessOptions) {
    this.#size = size;
    this.#options = options;
  }

  get size(): number { return this.#size; }

  /** Why a thread died (out of memory on a line of gigabytes, a bug): every range still to scan fails with it. */
  #broken: Error | undefined;

  #start(): Worker | undefined {
    const w = new Worker(new URL('./vault-audit-worker.ts', import.meta.url), { workerData: this.#options });
    w.on('message', (r: Reply) => { this.#settle(w)?.resolve(r); });
    const died = (e: Error) => {
      this.#broken ??= e;
      const job = this.#running.get(w);
      this.#running.delete(w);
      job?.reject(e);
      for (const queued of this.#queue.splice(0)) queued.reject(e);
    };
    w.on('error', died);
    w.on('exit', (code) => { died(new Error(`a thread reading the log ended (exit ${code})`)); });
    this.#all.push(w);
    return w;
  }

  #settle(w: Worker): Job | undefined {
    const job = this.#running.get(w);
    this.#running.delete(w);
    this.#idle.push(w);
    this.#next();
    return job;
  }

  #next(): void {
    while (this.#queue.length > 0) {
      const w = this.#idle.pop() ?? (this.#all.length < this.#size ? this.#start() : undefined);
      if (w === undefined) return;
      const job = this.#queue.shift();
      if (job === undefined) { this.#idle.push(w); return; }
      this.#running.set(w, job);
      w.postMessage(job.task);
    }
  }

  /** Scans range k of the file on the next free thread. */
  scan(task: RangeTask): Promise<{ part: ScanPart; bytes: number }> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.#broken !== undefined) { reject(this.#broken); return; }
      this.#queue.push({ task, resolve, reject });
      this.#next();
    }).then((r) => {
      if ('error' in r) throw new Error(`${task.file}: ${r.error}`);
      return r;
    });
  }

  async close(): Promise<void> {
    this.#broken ??= new Error('the pool is closed');
    await Promise.all(this.#all.map((w) => w.terminate()));
  }
}
