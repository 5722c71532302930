import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { Executor } from '../executor/executor-types.ts';

const SAFE_BARE = /^[A-Za-z0-9_\-.:+/=@%,]+$/;

interface Assignment {
  readonly index: number;
  readonly prefix: string;
  readonly quote: '' | "'" | '"';
  readonly value: string;
  readonly rest: string;
}

function assignments(lines: readonly string[], name: string): Assignment[] {
  const re = new RegExp(`^(\\s*(?:export\\s+)?${name}\\s*=\\s*)(.*)$`);
  const out: Assignment[] = [];
  lines.forEach((line, index) => {
    const m = re.exec(line);
    if (m === null) return;
    const prefix = m[1] ?? '';
    const raw = m[2] ?? '';
    const q = raw[0];
    if (q === '"' || q === "'") {
      const end = raw.indexOf(q, 1);
      out.push({ index, prefix, quote: q, value: end === -1 ? raw.slice(1) : raw.slice(1, end), rest: end === -1 ? '' : raw.slice(end + 1) });
    } else {
      const hash = raw.search(/\s#/);
      out.push({ index, prefix, quote: '', value: (hash === -1 ? raw : raw.slice(0, hash)).trimEnd(), rest: hash === -1 ? '' : raw.slice(raw.slice(0, hash).trimEnd().length) });
    }
  });
  return out;
}

function validName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new FirebreakError('INVALID_INPUT', `${JSON.stringify(name)} is not an environment variable name`);
}

/** The value of `name` in .env text (the last assignment wins, as in docker compose); undefined when absent. */
export function readEnvValue(text: string, name: string): string | undefined {
  validName(name);
  return assignments(text.split(/\r?\n/), name).at(-1)?.value;
}

/**
 * Replaces the value of every assignment of `name`, keeping everything else
 * byte for byte: other lines, comments, blank lines, order, CRLF line endings,
 * an `export` prefix, the quoting style and a trailing comment. A value that
 * needs quoting is single-quoted (no escapes apply inside single quotes).
 */
export function setEnvValue(text: string, name: string, value: string): string {
  validName(name);
  if (/[\r\n\0]/.test(value)) throw new FirebreakError('INVALID_INPUT', `the new value of ${name} contains a line break or NUL`);
  const nl = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const found = assignments(lines, name);
  if (found.length === 0) throw new FirebreakError('NOT_FOUND', `${name} is not set in the file (nothing was changed)`);
  for (const a of found) {
    let quote = a.quote;
    if (quote === '' && !SAFE_BARE.test(value)) quote = "'";
    if (quote === "'" && value.includes("'")) {
      if (/["\\$`]/.test(value)) throw new FirebreakError('INVALID_INPUT', `the new value of ${name} cannot be quoted safely for a .env file`);
      quote = '"';
    }
    if (quote === '"' && /["\\$`]/.test(value)) quote = "'";
    lines[a.index] = `${a.prefix}${quote}${value}${quote}${a.rest}`;
  }
  return lines.join(nl);
}

/** Reads one variable of a .env file on a host; its value as a Secret. */
export async function readEnvVariable(ex: Executor, path: string, name: string): Promise<Secret> {
  const text = (await ex.readFile(path)).toString('utf8');
  const v = readEnvValue(text, name);
  if (v === undefined) throw new FirebreakError('NOT_FOUND', `${name} is not set in ${path} on ${ex.describe}`);
  return new Secret(v);
}

/**
 * Rewrites one variable of a .env file atomically (same mode and owner), after
 * keeping the previous file beside it as `<file>.firebreak-<time>.bak`, mode
 * 0600. Nothing is written when the file is missing, unreadable or lacks the
 * variable.
 */
export async function rewriteEnvVariable(ex: Executor, path: string, name: string, value: Secret, now: Date = new Date()): Promise<{ backup: string; changed: boolean }> {
  return ex.withLock(path, async () => {
    const before = (await ex.readFile(path)).toString('utf8');
    const after = setEnvValue(before, name, value.reveal());
    const backup = `${path}.firebreak-${now.toISOString().replace(/[:.]/g, '-')}.bak`;
    if (after === before) return { backup, changed: false };
    await ex.writeFileAtomic(backup, before, { mode: 0o600 });
    await ex.writeFileAtomic(path, after);
    return { backup, changed: true };
  });
}
