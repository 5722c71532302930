import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Secret } from '../../lib/secret.ts';

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password, computed here
 * as libpq's PQencryptPasswordConn does (CONTRACTS.md §7.1), so that
 * `ALTER ROLE … PASSWORD '<verifier>'` never carries the plaintext to the
 * server or its statement log. SASLprep is the identity for the printable
 * ASCII passwords Firebreak generates; other passwords are used as given,
 * which is also libpq's fallback.
 */
export function scramVerifier(password: Secret, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? 4096;
  const salt = options.salt ?? randomBytes(16);
  const salted = pbkdf2Sync(password.reveal(), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
