import assert from 'node:assert/strict';
import test from 'node:test';
import { checkSelector, dkimName, dkimRecordOf, generateDkimKey, nextSelector, txtContent, txtValue } from '../../src/connectors/dns/dkim.ts';
import { absoluteName } from '../../src/connectors/dns/dns-names.ts';

test('TXT content: strings of at most 255 bytes, quoted and escaped; read back to the same value', () => {
  assert.equal(txtContent(''), '""');
  assert.equal(txtContent('v=DKIM1; p=abc'), '"v=DKIM1; p=abc"');
  assert.equal(txtContent('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  for (const n of [254, 255, 256, 510, 511, 1000]) {
    const value = Array.from({ length: n }, (_, i) => 'ab"\\; =+/x'[i % 10]).join('');
    assert.equal(value.length, n);
    const content = txtContent(value);
    const strings = [...content.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
    assert.equal(strings.length, Math.max(1, Math.ceil(n / 255)), `${n} bytes`);
    assert.ok(strings.every((s) => s.length <= 255));
    assert.equal(txtValue(content), value);
  }
  assert.equal(txtValue('"a" "b"'), 'ab');
  assert.equal(txtValue('  "a"   "b" '), 'ab');
  assert.equal(txtValue('unquoted'), undefined);
  assert.equal(txtValue('"a" b'), undefined);
  assert.equal(txtValue('"open'), undefined);
  assert.throws(() => txtContent('caf\u00e9'), /printable ASCII/);
  assert.throws(() => txtContent('a\nb'), /printable ASCII/);
});

test('selectors and names: one label, a new one per day, taken ones skipped; names checked and made absolute', () => {
  const at = new Date('2026-12-03T23:59:59Z');
  assert.equal(nextSelector('fb', at, new Set()), 'fb20261203');
  assert.equal(nextSelector('fb', at, new Set(['fb20261203', 'fb20261203-2'])), 'fb20261203-3');
  assert.equal(checkSelector('s2026-x'), 's2026-x');
  for (const bad of ['', '-a', 'a-', 'A1', 'a.b', 'a_b', '../x', 'a b', 'x'.repeat(64)]) assert.throws(() => checkSelector(bad), /must be one DNS label/, bad);
  assert.throws(() => nextSelector('Bad', at, new Set()), /must be one DNS label/);
  assert.equal(dkimName('fb1', 'Mail.Acme.Example'), 'fb1._domainkey.mail.acme.example.');
  assert.equal(absoluteName('acme.example.', 'zone'), 'acme.example.');
  for (const bad of ['', '.', 'a..b', 'a b', 'a/b', '-a.b', 'a-.b', `${'x'.repeat(64)}.b`, `${'abcdefghi.'.repeat(26)}x`]) assert.throws(() => absoluteName(bad, 'zone'), /is not a DNS name/, JSON.stringify(bad));
});

test('a generated key: its record is the public half of its private key; RSA 2048 bits, Ed25519 its raw 32 bytes', async () => {
  const rsa = await generateDkimKey('rsa-2048');
  assert.match(rsa.record, /^v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA[A-Za-z0-9+/]+=*$/);
  assert.equal(dkimRecordOf('rsa-2048', rsa.privateKey), rsa.record);
  const ed = await generateDkimKey('ed25519');
  assert.equal(Buffer.from(ed.record.split('p=')[1] ?? '', 'base64').length, 32);
  assert.equal(dkimRecordOf('ed25519', ed.privateKey), ed.record);
  assert.notEqual(dkimRecordOf('rsa-2048', (await generateDkimKey('rsa-2048')).privateKey), rsa.record);
  // The private key never shows in what is printed or serialised.
  assert.doesNotMatch(JSON.stringify(rsa) + String(rsa.privateKey), /PRIVATE KEY/);
});
