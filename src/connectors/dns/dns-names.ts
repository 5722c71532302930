import { FirebreakError } from '../../lib/errors.ts';

// Host names and the underscore labels of service records (`_domainkey`): letters, digits,
// hyphens and underscores, no label starting or ending with a hyphen (RFC 1035, RFC 8552).
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * A domain name as given (`acme.example` or `acme.example.`), checked and in
 * the absolute, lower-case form PowerDNS uses (`acme.example.`). A name that
 * is not a DNS name (a space, a slash, `..`, a label over 63 bytes, over 253
 * in all) is refused before it reaches a URL or a record.
 */
export function absoluteName(value: string, what: string): string {
  const name = value.toLowerCase().replace(/\.$/, '');
  const bad = (why: string) => new FirebreakError('INVALID_INPUT', `${what} "${value.slice(0, 80)}" is not a DNS name: ${why}`);
  if (name === '') throw bad('it is empty');
  if (name.length > 253) throw bad(`it is ${name.length} characters long (at most 253)`);
  const labels = name.split('.');
  const wrong = labels.find((l) => !LABEL.test(l));
  if (wrong !== undefined) {
    throw bad(wrong === '' ? 'it has an empty label'
      : wrong.length > 63 ? `the label "${wrong.slice(0, 20)}…" is longer than 63 characters`
        : `the label "${wrong}" may hold only letters, digits, "-" and "_", and neither start nor end with "-"`);
  }
  return `${name}.`;
}

/** Whether `name` is `zone` or below it (both absolute). */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}
