import { createWriteStream, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { FirebreakError } from '../lib/errors.ts';

function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const text: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EROFS: 'read-only file system', ENOSPC: 'no space left on the device', ENOTDIR: 'a part of the path is not a directory', EISDIR: 'it is a directory' };
  return typeof code === 'string' ? `${text[code] ?? (err as Error).message} (${code})` : String(err);
}

/** Refuses an output path that cannot become a file: a directory, or one in a directory that does not exist. */
export function checkExportTarget(file: string): void {
  const target = statSync(file, { throwIfNoEntry: false });
  if (target?.isDirectory() === true) throw new FirebreakError('USAGE', `--out ${file}: is a directory; give a file name, e.g. ${join(file, 'audit.jsonl')}`);
  const dir = dirname(file);
  let parent;
  try { parent = statSync(dir); } catch (err) { throw new FirebreakError('USAGE', `--out ${file}: cannot write into ${dir}: ${reason(err)}`, { cause: err }); }
  if (!parent.isDirectory()) throw new FirebreakError('USAGE', `--out ${file}: ${dir} is not a directory`);
}

/**
 * Writes an export to `file` whole or not at all: into a temporary file
 * beside it (same file system, so the rename is atomic), flushed and closed,
 * then renamed over the target. On any error the temporary file is removed
 * and the error names the path and the reason; an auditor never receives a
 * truncated export that looks complete.
 */
export async function exportToFile(file: string, write: (stream: Writable) => Promise<number>): Promise<number> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try { fd = openSync(tmp, 'wx', 0o600); } catch (err) { throw new FirebreakError('USAGE', `--out ${file}: cannot write into ${dirname(file)}: ${reason(err)}`, { cause: err }); }
  const stream = createWriteStream('', { fd, flush: true });
  let failure: Error | undefined;
  stream.on('error', (err) => { failure ??= err; });
  try {
    const n = await write(stream);
    await new Promise<void>((resolve) => { stream.end(); stream.once('close', resolve); if (stream.closed) resolve(); });
    if (failure !== undefined) throw failure;
    renameSync(tmp, file);
    return n;
  } catch (err) {
    // The stream owns the descriptor: destroying it closes it (closing it here too could close a reused one).
    if (!stream.closed) await new Promise<void>((resolve) => { stream.once('close', resolve); stream.destroy(); });
    rmSync(tmp, { force: true });
    if (err instanceof FirebreakError) throw err;
    throw new FirebreakError('STORE_FAILED', `--out ${file}: the export could not be written: ${reason(err)}; nothing was written there`, { cause: err });
  }
}
