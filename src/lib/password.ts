import { randomBytes } from 'node:crypto';
import { Secret } from './secret.ts';

/**
 * A password from the CSPRNG: ASCII letters, digits, "-" and "_" (base64url),
 * so it is safe bare in a .env file, a URL and a shell word. Used by the
 * database rotation and by the lab's throwaway roles alike.
 */
export function generatePassword(length: number): Secret {
  if (!Number.isInteger(length) || length < 1) throw new RangeError('password length must be a positive integer');
  let out = '';
  while (out.length < length) out += randomBytes(length).toString('base64url');
  return new Secret(out.slice(0, length));
}
