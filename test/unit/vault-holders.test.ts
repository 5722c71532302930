import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, readKey, readPrivateKey, revokeKey } from 'openpgp';
import { FirebreakError } from '../../src/lib/errors.ts';
import { loadKeyHolders } from '../../src/playbooks/vault-breach/vault-holders.ts';

const WHERE = 'provider.vault.rekey';

/** A key holder's key pair, armored. */
const keyPair = async (name: string, extra: Record<string, unknown> = {}) => generateKey({ userIDs: [{ name, email: `${name}@example.test` }], format: 'armored', ...extra });

test('key holders: public keys, armored or binary, load with their fingerprints and the base64 binary key Vault takes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-holders-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const a = await keyPair('alice');
  const b = await keyPair('bob');
  writeFileSync(join(dir, 'alice.asc'), a.publicKey);
  writeFileSync(join(dir, 'bob.gpg'), (await readKey({ armoredKey: b.publicKey })).write());
  const plan = await loadKeyHolders({ holders: [{ name: 'alice', pgpKey: join(dir, 'alice.asc') }, { name: 'bob', pgpKey: join(dir, 'bob.gpg') }], threshold: 2 }, WHERE);
  assert.equal(plan.threshold, 2);
  assert.deepEqual(plan.holders.map((h) => h.name), ['alice', 'bob']);
  const alice = await readKey({ armoredKey: a.publicKey });
  assert.equal(plan.holders[0]?.fingerprint, alice.getFingerprint());
  const back = await readKey({ binaryKey: new Uint8Array(Buffer.from(plan.holders[1]?.publicKey ?? '', 'base64')) });
  assert.equal(back.getFingerprint(), plan.holders[1]?.fingerprint);
  assert.equal(back.isPrivate(), false);
});

test('key holders: a key that is missing, malformed, private, revoked, expired, cannot encrypt or is shared by two holders is named, with the holder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-holders-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const file = (name: string, content: string | Uint8Array) => { const f = join(dir, name); writeFileSync(f, content); return f; };
  const good = await keyPair('alice');
  const goodFile = file('alice.asc', good.publicKey);
  const revoked = await keyPair('rita');
  const { publicKey: revokedPublic } = await revokeKey({ key: await readPrivateKey({ armoredKey: revoked.privateKey }), format: 'armored' });
  const expiring = await keyPair('ed', { keyExpirationTime: 60 });
  const signOnly = await keyPair('sam', { subkeys: [] });
  const cases: [string, string, RegExp][] = [
    ['missing', join(dir, 'nope.asc'), /holders\[1\]\.pgpKey: key holder missing's OpenPGP key \S+nope\.asc cannot be read \(ENOENT\)/],
    ['malformed', file('bad.asc', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n'), /key holder malformed's OpenPGP key \S+bad\.asc is not a valid OpenPGP key/],
    ['garbage', file('bad.gpg', new Uint8Array([1, 2, 3, 4])), /key holder garbage's OpenPGP key \S+bad\.gpg is not a valid OpenPGP key/],
    ['private', file('private.asc', good.privateKey), /holds key holder private's PRIVATE key: give their public key only/],
    ['rita', file('rita.asc', revokedPublic), /key holder rita's OpenPGP key [0-9a-f]{40} is revoked/],
    ['sam', file('sam.asc', signOnly.publicKey), /key holder sam's OpenPGP key [0-9a-f]{40} has no usable encryption \(sub\)key/],
    ['twin', goodFile, /key holders alice and twin have the same OpenPGP key [0-9a-f]{40}/],
  ];
  for (const [name, path, message] of cases) {
    await assert.rejects(loadKeyHolders({ holders: [{ name: 'alice', pgpKey: goodFile }, { name, pgpKey: path }], threshold: 2 }, WHERE), (err: unknown) => {
      assert.ok(err instanceof FirebreakError, String(err));
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, message, name);
      assert.match(err.message, /nothing was changed$/);
      return true;
    });
  }
  // Expired: as seen two minutes after it was made (keys carry their own creation time).
  const later = new Date(Date.now() + 120_000);
  await assert.rejects(loadKeyHolders({ holders: [{ name: 'ed', pgpKey: file('ed.asc', expiring.publicKey) }], threshold: 1 }, WHERE, later),
    /provider\.vault\.rekey\.holders\[0\]\.pgpKey: key holder ed's OpenPGP key [0-9a-f]{40} expired on \d{4}-\d\d-\d\dT[\d:.]+Z: they need a new key before the rekey/);
  // The same key, today, is fine.
  assert.equal((await loadKeyHolders({ holders: [{ name: 'ed', pgpKey: join(dir, 'ed.asc') }], threshold: 1 }, WHERE)).holders.length, 1);
});
