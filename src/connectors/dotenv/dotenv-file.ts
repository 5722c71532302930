import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { Executor } from '../executor/executor-types.ts';

/** Values written bare: no whitespace, quotes, `#`, `$`, backslash or backtick (nothing compose would interpret). */
const SAFE_BARE = /^[A-Za-z0-9_\-.:+/=@%,]+$/;
/** Characters that would need escaping inside double quotes; such values are single-quoted instead. */
const DOUBLE_QUOTE_SPECIAL = /["\\$`]/;

interface Assignment {
  /** Index of the line in the split text (even indices are lines, odd ones their line endings). */
  readonly index: number;
  /** Indentation, `export `, the name and `=` with its spacing: kept verbatim. */
  readonly prefix: string;
  readonly quote: '' | "'" | '"';
  /** The raw text between the quotes (or the bare value). */
  readonly raw: string;
  /** What follows the value on the line (closing quote excluded): spacing and a comment, kept verbatim. */
  readonly rest: string;
}

function validName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FirebreakError('INVALID_INPUT', `${JSON.stringify(name)} is not an environment variable name`);
}

/** Lines and their endings, alternately, so that joining gives back every byte (mixed endings included). */
function splitKeepingEndings(text: string): string[] {
  return text.split(/(\r?\n)/);
}

function closingDoubleQuote(raw: string): number {
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '"') return i;
  }
  return -1;
}

function assignments(parts: readonly string[], name: string): Assignment[] {
  const re = new RegExp(`^(\\s*(?:export\\s+)?${name}\\s*=[ \\t]*)(.*)$`);
  const out: Assignment[] = [];
  for (let index = 0; index < parts.length; index += 2) {
    const m = re.exec(parts[index] ?? '');
    if (m === null) continue;
    const prefix = m[1] ?? '';
    const value = m[2] ?? '';
    const q = value[0];
    if (q === '"' || q === "'") {
      const end = q === '"' ? closingDoubleQuote(value) : value.indexOf("'", 1);
      if (end === -1) throw new FirebreakError('INVALID_INPUT', `${name} has a quoted value that does not end on its line (multi-line values are not edited)`);
      out.push({ index, prefix, quote: q, raw: value.slice(1, end), rest: value.slice(end + 1) });
    } else {
      // Unquoted: a comment starts at whitespace followed by '#'; trailing spaces belong to the rest.
      const hash = value.search(/\s#/);
      const bare = (hash === -1 ? value : value.slice(0, hash)).trimEnd();
      out.push({ index, prefix, quote: '', raw: bare, rest: value.slice(bare.length) });
    }
  }
  return out;
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

function decode(a: Assignment): string {
  if (a.quote !== '"') return a.raw;
  return a.raw.replace(/\\(.)/g, (m, c: string) => ESCAPES[c] ?? m);
}

/** The value of `name` in .env text (the last assignment wins, as in docker compose); undefined when absent. */
export function readEnvValue(text: string, name: string): string | undefined {
  validName(name);
  const last = assignments(splitKeepingEndings(text), name).at(-1);
  return last === undefined ? undefined : decode(last);
}

/**
 * Replaces the value of every assignment of `name` (no stale copy survives),
 * keeping every other byte: other lines, comments, blank lines, order, each
 * line's ending (LF or CRLF), an `export` prefix, spacing, the quoting style
 * where the value allows it, and a trailing comment. A bare value that needs
 * quoting is single-quoted (nothing is interpreted inside single quotes); a
 * value holding `'` is double-quoted when it has nothing double quotes would
 * interpret, and refused otherwise. Line breaks and NUL are refused.
 */
export function setEnvValue(text: string, name: string, value: string): string {
  validName(name);
  if (/[\r\n\0]/.test(value)) throw new FirebreakError('INVALID_INPUT', `the new value of ${name} contains a line break or NUL; nothing was written`);
  const parts = splitKeepingEndings(text);
  const found = assignments(parts, name);
  if (found.length === 0) throw new FirebreakError('NOT_FOUND', `${name} is not set in the file; nothing was written`);
  for (const a of found) {
    let quote = a.quote;
    if (quote === '' && !SAFE_BARE.test(value)) quote = "'";
    if (quote === '"' && DOUBLE_QUOTE_SPECIAL.test(value)) quote = "'";
    if (quote === "'" && value.includes("'")) {
      if (DOUBLE_QUOTE_SPECIAL.test(value)) throw new FirebreakError('INVALID_INPUT', `the new value of ${name} holds both ' and one of " \\ $ \`: it cannot be quoted safely in a .env file; nothing was written`);
      quote = '"';
    }
    parts[a.index] = `${a.prefix}${quote}${value}${quote}${a.rest}`;
  }
  return parts.join('');
}

async function readText(ex: Executor, path: string, what: string): Promise<string> {
  let data: Buffer;
  try {
    data = await ex.readFile(path);
  } catch (err) {
    const code = err instanceof FirebreakError ? err.code : 'UNAVAILABLE';
    const why = err instanceof Error ? err.message : String(err);
    throw new FirebreakError(code, `${path} on ${ex.describe} ${code === 'NOT_FOUND' ? 'does not exist' : 'cannot be read'} (${why}); ${what}`, { cause: err });
  }
  const text = data.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(data)) throw new FirebreakError('INVALID_INPUT', `${path} on ${ex.describe} is not valid UTF-8; ${what}`);
  return text;
}

/** Reads one variable of a .env file through the host's executor; its value as a Secret. */
export async function readEnvVariable(ex: Executor, path: string, name: string): Promise<Secret> {
  const v = readEnvValue(await readText(ex, path, `${name} was not read`), name);
  if (v === undefined) throw new FirebreakError('NOT_FOUND', `${name} is not set in ${path} on ${ex.describe}`);
  return new Secret(v);
}

/** The backup name for a rewrite at `now`: beside the file, sortable, no ':' (safe on every filesystem). */
export function backupPath(path: string, now: Date): string {
  return `${path}.firebreak-${now.toISOString().replace(/[:.]/g, '-')}.bak`;
}

/**
 * Rewrites one variable of a .env file: under the file's lock, the previous
 * content is kept beside it as `<file>.firebreak-<time>.bak` (mode 0600), then
 * the file is replaced atomically (temp file in the same directory, fsync,
 * rename; same mode and owner). Nothing is written when the file is missing,
 * unreadable, not UTF-8 or lacks the variable; when the value is already the
 * new one, nothing is written either and `backup` is undefined.
 */
export async function rewriteEnvVariable(ex: Executor, path: string, name: string, value: Secret, now: Date = new Date()): Promise<{ backup: string | undefined; changed: boolean }> {
  validName(name);
  return ex.withLock(path, async () => {
    const before = await readText(ex, path, 'nothing was written');
    let after: string;
    try {
      after = setEnvValue(before, name, value.reveal());
    } catch (err) {
      if (err instanceof FirebreakError && err.code === 'NOT_FOUND') throw new FirebreakError('NOT_FOUND', `${name} is not set in ${path} on ${ex.describe}; nothing was written`);
      throw err;
    }
    if (after === before) return { backup: undefined, changed: false };
    const backup = backupPath(path, now);
    await ex.writeFileAtomic(backup, before, { mode: 0o600 });
    await ex.writeFileAtomic(path, after);
    return { backup, changed: true };
  });
}
