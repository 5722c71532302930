import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { redact, redactText } from './redact.ts';

/** Scope attached to every line a logger writes. */
export interface LogScope {
  readonly incident?: string;
  readonly run?: string;
  readonly step?: string;
  readonly connector?: string;
  readonly item?: string;
}

/** The logger port: what engine, connectors and CLI depend on. */
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  child(scope: LogScope): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; defaults to stderr. Tests pass a stream to capture output. */
  readonly destination?: DestinationStream;
}

/**
 * A pino logger behind the {@link Logger} port. Redaction happens here, in
 * depth: every data object goes through key-, URL- and value-based redaction,
 * and so does every message, so no caller can leak a secret by mistake.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return wrap(base);
}

function wrap(p: PinoLogger): Logger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, data?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (data === undefined) p[level](redactText(msg));
    else p[level](redact(data) as Record<string, unknown>, redactText(msg));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (scope) => wrap(p.child(redact(scope) as Record<string, unknown>)),
  };
}

/** A logger that drops everything: for library use where the caller gave none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
