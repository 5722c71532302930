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
 * Calls `onLine` with each line (without its newline) and its 1-based number; `last` is true for a final line that
 * had no newline (cut off, or a file still being written). Returns what was read.
 */
export async function forEachLine(file: string, onLine: (line: Buffer, n: number, last: boolean) => void): Promise<FileLines> {
  const gzip = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream: Readable = gzip ? raw.pipe(createGunzip()) : raw;
  let bytes = 0;
  let n = 0;
  // The start of a line that spans chunks, in pieces (joined once, when its end arrives).
  let carry: Buffer[] = [];
  let damaged: string | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      let from = 0;
      for (let nl = chunk.indexOf(NL, from); nl !== -1; nl = chunk.indexOf(NL, from)) {
        const piece = chunk.subarray(from, nl);
        n++;
        if (carry.length === 0) onLine(piece, n, false);
        else { carry.push(piece); onLine(Buffer.concat(carry), n, false); carry = []; }
        from = nl + 1;
      }
      if (from < chunk.length) carry.push(chunk.subarray(from));
    }
  } catch (err) {
    if (!gzip) throw err;
    damaged = `the gzip stream is damaged after ${bytes} bytes (${(err as Error).message}): the lines before it were read`;
  } finally {
    raw.destroy();
  }
  if (carry.length > 0) {
    n++;
    onLine(Buffer.concat(carry), n, true);
  }
  return { gzip, bytes, lines: n, ...(damaged === undefined ? {} : { damaged }) };
}
