import { styleText } from 'node:util';
import { redact, redactText } from '../lib/redact.ts';

type Style = Parameters<typeof styleText>[0];

/**
 * Human output. Colour only on a TTY and never when NO_COLOR is set
 * (styleText checks both for the stream it is given). Everything printed
 * goes through redaction.
 */
export interface Out {
  readonly json: boolean;
  readonly tty: boolean;
  line(text?: string): void;
  err(text: string): void;
  style(format: Style, text: string): string;
  /** Prints a value as JSON (for --json), redacted. */
  data(value: unknown): void;
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void;
}

export function createOut(options: { json: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Out {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const out: Out = {
    json: options.json,
    tty: stdout.isTTY,
    line: (text = '') => { stdout.write(`${redactText(text)}\n`); },
    err: (text) => { stderr.write(`${redactText(text)}\n`); },
    style: (format, text) => styleText(format, text, { stream: stdout }),
    data: (value) => { stdout.write(`${JSON.stringify(redact(value), null, 2)}\n`); },
    table: (headers, rows) => {
      const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
      const fmt = (cells: readonly string[]) => cells.map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c)))).join('  ').trimEnd();
      out.line(out.style('bold', fmt(headers)));
      for (const r of rows) out.line(fmt(r));
    },
  };
  return out;
}

// eslint-disable-next-line no-control-regex -- ANSI escape sequences are control characters by definition
const ANSI = /\u001b\[[0-9;]*m/g;
function visible(s: string): number {
  return s.replace(ANSI, '').length;
}

export { formatDuration, parseDuration } from '../lib/duration.ts';
