import { FirebreakError } from '../lib/errors.ts';

/** An option's value that must be one of `allowed` (undefined when the option is not given). */
export function oneOf<T extends string>(what: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new FirebreakError('USAGE', `${what} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** An option's value that must be a number from `min` to `max`. */
export function num(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new FirebreakError('USAGE', `${name} must be a number from ${min} to ${max} (got "${v}")`);
  return n;
}
