import { readFileSync } from 'node:fs';
import { armor, enums, readKey, type Key } from 'openpgp';
import { FirebreakError } from '../../lib/errors.ts';

/** A holder of one new unseal share, with the OpenPGP key it is encrypted to. */
export interface KeyHolder {
  readonly name: string;
  /** As Vault reports it in `pgp_fingerprints` (lowercase hex). */
  readonly fingerprint: string;
  /** The public key, binary and base64-encoded: what Vault's `pgp_keys` takes. */
  readonly publicKey: string;
}

export interface RekeyPlan {
  readonly holders: readonly KeyHolder[];
  readonly threshold: number;
}

const problem = (where: string, what: string) => new FirebreakError('CONFIG_INVALID', `${where}: ${what}; nothing was changed`);

/** Reads one holder's key file: armored or binary, a public key that can encrypt today. */
async function holderKey(name: string, file: string, where: string, now: Date): Promise<Key> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw problem(where, `key holder ${name}'s OpenPGP key ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let key: Key;
  try {
    const text = bytes.toString('utf8');
    key = text.includes('-----BEGIN PGP') ? await readKey({ armoredKey: text }) : await readKey({ binaryKey: new Uint8Array(bytes) });
  } catch (e) {
    throw problem(where, `key holder ${name}'s OpenPGP key ${file} is not a valid OpenPGP key (${(e as Error).message})`);
  }
  if (key.isPrivate()) throw problem(where, `${file} holds key holder ${name}'s PRIVATE key: give their public key only (\`gpg --export\`), and treat that private key as exposed`);
  if (await key.isRevoked()) throw problem(where, `key holder ${name}'s OpenPGP key ${key.getFingerprint()} is revoked`);
  const expires = await key.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= now.getTime()) throw problem(where, `key holder ${name}'s OpenPGP key ${key.getFingerprint()} expired on ${expires.toISOString()}: they need a new key before the rekey`);
  try {
    await key.getEncryptionKey(undefined, now);
  } catch {
    throw problem(where, `key holder ${name}'s OpenPGP key ${key.getFingerprint()} has no usable encryption (sub)key: a share could not be encrypted to it`);
  }
  return key;
}

/** The rekey's holders from provider.vault.rekey, each key checked: missing, malformed, private, revoked, expired or unable to encrypt is an error naming the holder. */
export async function loadKeyHolders(settings: { holders: readonly { name: string; pgpKey: string }[]; threshold: number }, where: string, now = new Date()): Promise<RekeyPlan> {
  const holders: KeyHolder[] = [];
  for (const [i, h] of settings.holders.entries()) {
    const key = await holderKey(h.name, h.pgpKey, `${where}.holders[${i}].pgpKey`, now);
    const fingerprint = key.getFingerprint();
    const twin = holders.find((x) => x.fingerprint === fingerprint);
    if (twin !== undefined) throw problem(`${where}.holders[${i}].pgpKey`, `key holders ${twin.name} and ${h.name} have the same OpenPGP key ${fingerprint}: each holder needs their own, or one person holds two shares`);
    holders.push({ name: h.name, fingerprint, publicKey: Buffer.from(key.toPublic().write()).toString('base64') });
  }
  return { holders, threshold: settings.threshold };
}

/** A share as Vault returns it encrypted (base64 of a binary OpenPGP message), armored for `gpg --decrypt`. */
export function armoredShare(base64Message: string): string {
  return armor(enums.armor.message, new Uint8Array(Buffer.from(base64Message, 'base64')));
}
