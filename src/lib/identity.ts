import { FirebreakError } from './errors.ts';

const MAX_LENGTH = 128;

/**
 * Checks an operator identity (initiator / approver) before it is recorded.
 * The two-person rule compares identities as strings, so a value that is
 * empty, padded, or carries control or invisible formatting characters
 * (bidi overrides, zero-width spaces) would let one person look like two, or
 * make the audit trail lie about who acted. Refused, never normalised: the
 * operator sees what was wrong.
 */
export function checkIdentity(value: string, source: string): string {
  const refuse = (why: string) => new FirebreakError('INVALID_INPUT', `${source} ${why}: it names who acts, in the audit trail and for the two-person rule`);
  if (value.trim() === '') throw refuse(value === '' ? 'is empty' : 'is only whitespace');
  if (/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(value)) throw refuse('contains a control or invisible formatting character');
  if (value !== value.trim()) throw refuse(`has leading or trailing whitespace (${JSON.stringify(value)})`);
  if (value.startsWith('-')) throw refuse(`starts with "-" (${JSON.stringify(value)}): a missing value before another option?`);
  if (value.length > MAX_LENGTH) throw refuse(`is longer than ${MAX_LENGTH} characters`);
  return value;
}
