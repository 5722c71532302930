import { AsyncLocalStorage } from 'node:async_hooks';
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
 * Values registered inside a scope (a run) are forgotten when the scope is
 * released, unless something outside any scope, or another live scope,
 * registered them too: a process that runs for weeks (the server, the
 * watcher) must not keep every plaintext it ever handled.
 */
const scopeOf = new AsyncLocalStorage<Set<string>>();
const scopes = new Map<string, Set<string>>();
/** Values registered outside any scope: kept for the life of the process. */
const unscoped = new Set<string>();

function register(value: string): void {
  if (value.length < MIN_REGISTERED_LENGTH) return;
  knownSecretValues.add(value);
  const scope = scopeOf.getStore();
  if (scope === undefined) unscoped.add(value);
  else scope.add(value);
}

/** Runs `fn` with the secrets it wraps belonging to scope `id` (see {@link releaseSecretScope}). */
export function withSecretScope<T>(id: string, fn: () => T): T {
  let scope = scopes.get(id);
  if (scope === undefined) {
    scope = new Set();
    scopes.set(id, scope);
  }
  return scopeOf.run(scope, fn);
}

/** Forgets the values registered only inside scope `id` (the run ended). */
export function releaseSecretScope(id: string): void {
  const scope = scopes.get(id);
  if (scope === undefined) return;
  scopes.delete(id);
  for (const value of scope) {
    if (unscoped.has(value) || [...scopes.values()].some((s) => s.has(value))) continue;
    knownSecretValues.delete(value);
  }
}

/** How many values redaction currently knows (tests check that a run's are released). */
export function knownSecretCount(): number {
  return knownSecretValues.size;
}

/**
 * A value that must never be printed. `toString`, `toJSON` and
 * `util.inspect` all give the redaction marker; the value is read only through
 * an explicit {@link Secret.reveal} at the call site that needs it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    register(value);
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
  register(value);
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
