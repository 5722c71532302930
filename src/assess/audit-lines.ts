import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { FirebreakError } from '../lib/errors.ts';

/**
 * The lines of a log file, streamed: gzip decompressed when the file starts
 * with its magic bytes (a rotated `audit.log.1.gz`), lines of any length kept
 * whole (a list response of thousands of keys can be megabytes), memory
 * bounded by the longest line. A file still being written is read to the end
 * it has when the reader gets there.
 */

export interface FileLines {
  readonly gzip: boolean;
  /** Bytes read (decompressed for gzip). */
  readonly bytes: number;
  readonly lines: number;
  /** A gzip stream that broke off: what was read before it counts. */
  readonly damaged?: string;
}

const NL = 0x0a;

export async function isGzip(file: string): Promise<boolean> {
  const h = await open(file, 'r').catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code ?? 'error';
    throw new FirebreakError('INVALID_INPUT', `--log ${file}: cannot read it (${why})`, { cause: err });
  });
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await h.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await h.close();
  }
}

/**
 * Lines out of chunks: each line (without its newline) to `onLine` with its 1-based number, a line that spans chunks
 * kept until its end arrives (copied when the caller reuses the chunk's memory), and at the end a last line without
 * a newline with `last` true.
 */
export class LineSplitter {
  lines = 0;
  #carry: Buffer[] = [];
  readonly #onLine: (line: Buffer, n: number, last: boolean) => void;
  readonly #copy: boolean;

  constructor(onLine: (line: Buffer, n: number, last: boolean) => void, options: { readonly reusedChunks: boolean }) {
    this.#onLine = onLine;
    this.#copy = options.reusedChunks;
  }

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(NL, from); nl !== -1; nl = chunk.indexOf(NL, from)) {
      const piece = chunk.subarray(from, nl);
      this.lines++;
      if (this.#carry.length === 0) this.#onLine(piece, this.lines, false);
      else { this.#carry.push(piece); this.#onLine(Buffer.concat(this.#carry), this.lines, false); this.#carry = []; }
      from = nl + 1;
    }
    if (from < chunk.length) this.#carry.push(this.#copy ? Buffer.from(chunk.subarray(from)) : chunk.subarray(from));
  }

  end(): void {
    if (this.#carry.length === 0) return;
    this.lines++;
    this.#onLine(Buffer.concat(this.#carry), this.lines, true);
    this.#carry = [];
  }
}

/**
 * Calls `onLine` with each line (without its newline) and its 1-based number; `last` is true for a final line that
 * had no newline (cut off, or a file still being written). Returns what was read.
 */
export async function forEachLine(file: string, onLine: (line: Buffer, n: number, last: boolean) => void): Promise<FileLines> {
  const gzip = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  const lines = new LineSplitter(onLine, { reusedChunks: false });
  let bytes = 0;
  let damaged: string | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      lines.push(chunk);
    }
  } catch (err) {
    if (!gzip) throw err;
    damaged = `the gzip stream is damaged after ${bytes} bytes (${(err as Error).message}): the lines before it were read`;
  } finally {
    raw.destroy();
  }
  lines.end();
  return { gzip, bytes, lines: lines.lines, ...(damaged === undefined ? {} : { damaged }) };
}
