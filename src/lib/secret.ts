import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

/**
 * Every secret value that has been wrapped in this process. Value-based
 * redaction (logs, errors, reports) replaces any occurrence of these. Short
 * values are not registered: redacting every "abc" in a log would destroy it,
 * and secrets Firebreak generates or handles are long.
 */
const knownSecretValues = new Set<string>();
const MIN_REGISTERED_LENGTH = 6;

/**
 * A value that must never be printed. `toString`, `toJSON` and
 * `util.inspect` all give the redaction marker; the value is read only through
 * an explicit {@link Secret.reveal} at the call site that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    if (value.length >= MIN_REGISTERED_LENGTH) knownSecretValues.add(value);
  }

  reveal(): string {
    return this.#value;
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** Registers a value as secret without wrapping it (e.g. a value only seen inside a response). */
export function registerSecretValue(value: string): void {
  if (value.length >= MIN_REGISTERED_LENGTH) knownSecretValues.add(value);
}

/** Replaces every registered secret value that occurs in `text`. */
export function redactKnownValues(text: string): string {
  if (knownSecretValues.size === 0 || text.length < MIN_REGISTERED_LENGTH) return text;
  let out = text;
  for (const value of knownSecretValues) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}
