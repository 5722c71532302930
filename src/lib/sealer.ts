import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FirebreakError } from './errors.ts';
import { Secret } from './secret.ts';

/** Seals values at rest (generated passwords and keys in the journal) with AES-256-GCM. */
export interface Sealer {
  /** `aad` binds the ciphertext to where it is stored (run id + step id), so a sealed value cannot be moved. */
  seal(plaintext: string, aad: string): string;
  unseal(sealed: string, aad: string): Secret;
}

const VERSION = 'v1';
const KEY_ENV = 'FIREBREAK_JOURNAL_KEY';

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new FirebreakError('SECRET_UNAVAILABLE', `journal key must be 32 bytes, got ${key.length}`);
  return {
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
    },
    unseal(sealed, aad) {
      const [version, body] = sealed.split(':', 2);
      if (version !== VERSION || body === undefined) {
        throw new FirebreakError('SECRET_UNAVAILABLE', `sealed value has unknown format ${JSON.stringify(version)}`);
      }
      const raw = Buffer.from(body, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return new Secret(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'));
      } catch (cause) {
        throw new FirebreakError('SECRET_UNAVAILABLE', 'cannot decrypt a sealed journal value: wrong journal key or tampered data', { cause });
      }
    },
  };
}

/**
 * The journal key: base64 of 32 bytes from $FIREBREAK_JOURNAL_KEY, else from
 * `keyFile`. A missing key file is created (0600); an existing one readable by
 * group or others is refused rather than used.
 */
export function loadJournalKey(keyFile: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return decodeKey(fromEnv, `$${KEY_ENV}`);
  let mode: number;
  try {
    mode = statSync(keyFile).mode;
  } catch {
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    const fd = openSync(keyFile, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64')}\n`);
    } finally {
      closeSync(fd);
    }
    chmodSync(keyFile, 0o600);
    mode = 0o100600;
  }
  if ((mode & 0o077) !== 0) {
    throw new FirebreakError('SECRET_UNAVAILABLE', `journal key file ${keyFile} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${keyFile}`);
  }
  return decodeKey(readFileSync(keyFile, 'utf8').trim(), keyFile);
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new FirebreakError('SECRET_UNAVAILABLE', `journal key from ${source} must be base64 of 32 bytes (got ${key.length} bytes)`);
  }
  return key;
}
