import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';

/** The parts of a stored `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` verifier. */
export interface ScramParts {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

/**
 * The password as libpq and the server feed it to PBKDF2: pure ASCII as is
 * (pg_saslprep's fast path), anything else through SASLprep (RFC 4013); when
 * SASLprep refuses the string (prohibited or unassigned code points) both
 * sides fall back to the raw bytes, and so do we.
 */
function prepare(password: string): string {
  // eslint-disable-next-line no-control-regex -- the ASCII range is the point
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  try {
    return saslprep(password);
  } catch {
    return password;
  }
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password, computed here
 * as libpq's PQencryptPasswordConn does (CONTRACTS.md §7.1, RFC 5802/7677):
 * SaltedPassword = PBKDF2-HMAC-SHA-256(SASLprep(pw), salt, i, 32),
 * StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key")),
 * ServerKey = HMAC(SaltedPassword, "Server Key"), base64 with padding.
 * `ALTER ROLE … PASSWORD '<verifier>'` is stored as is, so the plaintext never
 * reaches the server, its statement log or pg_stat_activity.
 */
export function scramVerifier(password: Secret, options: { readonly iterations?: number; readonly salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? 4096;
  if (!Number.isInteger(iterations) || iterations < 1) throw new FirebreakError('INVALID_INPUT', `SCRAM iteration count must be a positive integer, got ${String(iterations)}`);
  const salt = options.salt ?? randomBytes(16);
  if (salt.length === 0) throw new FirebreakError('INVALID_INPUT', 'SCRAM salt is empty');
  const salted = pbkdf2Sync(Buffer.from(prepare(password.reveal()), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Splits a stored verifier (e.g. `pg_authid.rolpassword`); undefined when it is not SCRAM-SHA-256. */
export function parseScramVerifier(verifier: string): ScramParts | undefined {
  const m = VERIFIER.exec(verifier);
  if (m === null) return undefined;
  const [, iterations, salt, storedKey, serverKey] = m;
  if (iterations === undefined || salt === undefined || storedKey === undefined || serverKey === undefined) return undefined;
  return { iterations: Number(iterations), salt: Buffer.from(salt, 'base64'), storedKey: Buffer.from(storedKey, 'base64'), serverKey: Buffer.from(serverKey, 'base64') };
}
