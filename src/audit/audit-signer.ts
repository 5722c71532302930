import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FirebreakError } from '../lib/errors.ts';

/** Signs audit checkpoints with Ed25519. */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(data: Buffer): string;
}

/** The key id: SHA-256 (hex, first 32 chars) of the public key's SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

export function signerFromKey(privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data) => sign(null, data, privateKey).toString('base64'),
  };
}

/**
 * Loads the Ed25519 signing key from a PKCS#8 PEM file, creating it (0600) when
 * missing. A key file readable by group or others is refused.
 */
export function loadSigner(keyFile: string): CheckpointSigner {
  let mode: number | undefined;
  try {
    mode = statSync(keyFile).mode;
  } catch {
    mode = undefined;
  }
  if (mode === undefined) {
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const fd = openSync(keyFile, 'wx', 0o600);
    try {
      writeSync(fd, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    } finally {
      closeSync(fd);
    }
    return signerFromKey(privateKey);
  }
  if ((mode & 0o077) !== 0) {
    throw new FirebreakError('SECRET_UNAVAILABLE', `audit signing key ${keyFile} is accessible by group or others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${keyFile}`);
  }
  try {
    const key = createPrivateKey(readFileSync(keyFile));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`key type is ${key.asymmetricKeyType ?? 'unknown'}`);
    return signerFromKey(key);
  } catch (cause) {
    throw new FirebreakError('SECRET_UNAVAILABLE', `audit signing key ${keyFile} is not an Ed25519 private key (PKCS#8 PEM): ${(cause as Error).message}`, { cause });
  }
}

export function verifySignature(publicKeyPem: string, data: Buffer, signature: string): boolean {
  try {
    return verify(null, data, createPublicKey(publicKeyPem), Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
