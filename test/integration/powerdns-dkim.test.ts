import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { freePort } from '../../src/lib/free-port.ts';
import { Secret } from '../../src/lib/secret.ts';
import { createPowerDnsClient, type PowerDnsClient } from '../../src/connectors/dns/powerdns-client.ts';
import { dkimName, dkimRecord, generateDkimKey, nextSelector } from '../../src/connectors/dns/dkim.ts';
import { publishDkimKey, publishedSelectors, verifyDkimKey, withdrawDkimKey } from '../../src/connectors/dns/dkim-publish.ts';
import { resolverAt } from '../../src/connectors/dns/dkim-verify.ts';
import { powerdnsProblem, startPowerDns, type PowerDns } from '../helpers/powerdns.ts';
import { requireComponent } from '../helpers/shared.ts';

// One real PowerDNS Authoritative (gsqlite3, HTTP API) for the file; each test has zones of its own.
let pdns: PowerDns | undefined;
let dns: PowerDnsClient;
before(async () => {
  if (powerdnsProblem() !== undefined) return;
  pdns = await startPowerDns();
  dns = createPowerDnsClient({ url: pdns.url, apiKey: new Secret(pdns.apiKey), serverId: 'localhost' });
});
after(async () => { await dns.close(); await pdns?.stop(); });
const server = () => ({ host: '127.0.0.1', port: (pdns as PowerDns).dnsPort });
const ready = (t: Parameters<typeof requireComponent>[0]) => requireComponent(t, 'PowerDNS', powerdnsProblem());

test('an RSA-2048 key under a new selector: published as one record of several strings, served, a signed message verifies; the old selector stays', async (t) => {
  if (!ready(t)) return;
  await (pdns as PowerDns).createZone('acme.test.');
  const d = { domain: 'mail.acme.test', zone: 'acme.test' };
  const old = await generateDkimKey('rsa-2048');
  await publishDkimKey(dns, d, 'fb20261101', old.record, 300);
  const key = await generateDkimKey('rsa-2048');
  const taken = new Set((await publishedSelectors(dns, d)).map((s) => s.selector));
  const selector = nextSelector('fb', new Date('2026-12-03T10:00:00Z'), taken);
  assert.equal(selector, 'fb20261203');
  await publishDkimKey(dns, d, selector, key.record, 300);
  // Applying it again changes nothing (a resumed step re-applies).
  await publishDkimKey(dns, d, selector, key.record, 300);

  const listed = await publishedSelectors(dns, d);
  assert.deepEqual(listed.map((s) => s.selector).sort(), ['fb20261101', 'fb20261203']);
  assert.equal(listed.find((s) => s.selector === selector)?.value, key.record);
  // On the wire: one TXT record, its value in strings of at most 255 bytes.
  const wire = await resolverAt(server())(dkimName(selector, d.domain), 'TXT') as string[][];
  assert.equal(wire.length, 1);
  assert.ok(key.record.length > 255 && (wire[0] ?? []).length === 2, `a ${key.record.length}-byte record is split (${(wire[0] ?? []).map((s) => s.length).join(' + ')})`);
  assert.ok((wire[0] ?? []).every((s) => s.length <= 255));

  const verdict = await verifyDkimKey({ ...d, selector, record: key.record, privateKey: key.privateKey, server: server() });
  assert.equal(verdict.served, true);
  assert.equal(verdict.signature.result, 'pass', verdict.signature.info);
  assert.match(verdict.signature.info, /header\.s=fb20261203/);
  // The old key still verifies during its grace period; a key that is not the published one does not.
  assert.equal((await verifyDkimKey({ ...d, selector: 'fb20261101', record: old.record, privateKey: old.privateKey, server: server() })).signature.result, 'pass');
  const wrong = await verifyDkimKey({ ...d, selector, record: key.record, privateKey: old.privateKey, server: server() });
  assert.notEqual(wrong.signature.result, 'pass', wrong.signature.info);

  await withdrawDkimKey(dns, d, 'fb20261101');
  await withdrawDkimKey(dns, d, 'fb20261101');
  assert.deepEqual((await publishedSelectors(dns, d)).map((s) => s.selector), ['fb20261203']);
  const gone = await verifyDkimKey({ ...d, selector: 'fb20261101', record: old.record, privateKey: old.privateKey, server: server() });
  assert.equal(gone.served, false);
  assert.notEqual(gone.signature.result, 'pass');
});

test('an Ed25519 key (RFC 8463) published and verified beside an RSA one', async (t) => {
  if (!ready(t)) return;
  await (pdns as PowerDns).createZone('beta.test.');
  const d = { domain: 'beta.test', zone: 'beta.test.' };
  const key = await generateDkimKey('ed25519');
  assert.match(key.record, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
  await publishDkimKey(dns, d, 'fb20261203-ed', key.record, 300);
  const verdict = await verifyDkimKey({ ...d, selector: 'fb20261203-ed', record: key.record, privateKey: key.privateKey, server: server() });
  assert.deepEqual([verdict.served, verdict.signature.result], [true, 'pass'], verdict.signature.info);
  assert.doesNotMatch(JSON.stringify(verdict), /PRIVATE KEY/);
});

test('a missing zone, a wrong API key and a record PowerDNS refuses each fail with their reason', async (t) => {
  if (!ready(t)) return;
  const p = pdns as PowerDns;
  await assert.rejects(publishedSelectors(dns, { domain: 'gone.test', zone: 'gone.test' }), (e: { code?: string; message?: string }) => e.code === 'NOT_FOUND' && /zone gone\.test\. of gone\.test does not exist/.test(e.message ?? ''));
  await assert.rejects(publishDkimKey(dns, { domain: 'gone.test', zone: 'gone.test' }, 'fb1', 'v=DKIM1; p=', 300), (e: { code?: string; message?: string }) => e.code === 'NOT_FOUND' && /no zone gone\.test\./.test(e.message ?? ''));
  const bad = createPowerDnsClient({ url: p.url, apiKey: new Secret('not-the-key-at-all'), serverId: 'localhost' });
  t.after(() => bad.close());
  await assert.rejects(bad.rrsets('acme.test'), (e: { code?: string; message?: string }) => e.code === 'AUTH_FAILED' && /refused the API key/.test(e.message ?? '') && !(e.message ?? '').includes('not-the-key'));
  await p.createZone('gamma.test.');
  // Unquoted TXT content: PowerDNS's own reason comes back.
  await assert.rejects(dns.replace('gamma.test', { name: 'x.gamma.test', type: 'TXT', ttl: 60, records: ['not quoted'] }),
    (e: { code?: string; message?: string }) => e.code === 'UPSTREAM_REJECTED' && /refused the change to zone gamma\.test\.: .*x\.gamma\.test\.\/TXT/.test(e.message ?? ''));
});

test('hostile or malformed names are refused before any request', async (t) => {
  // Nothing listens on this port: a request that went out would fail UNAVAILABLE, not INVALID_INPUT.
  const nowhere = createPowerDnsClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: new Secret('x'.repeat(16)), serverId: 'localhost' });
  t.after(() => nowhere.close());
  const invalid = (re: RegExp) => (e: { code?: string; message?: string }) => e.code === 'INVALID_INPUT' && re.test(e.message ?? '');
  const d = { domain: 'acme.test', zone: 'acme.test' };
  await assert.rejects(publishDkimKey(nowhere, d, '../admin', 'v=DKIM1', 60), invalid(/selector "\.\.\/admin" must be one DNS label/));
  await assert.rejects(publishDkimKey(nowhere, d, 'Fb 1', 'v=DKIM1', 60), invalid(/selector/));
  await assert.rejects(publishDkimKey(nowhere, { domain: 'acme.test/../../servers', zone: 'acme.test' }, 'fb1', 'v=DKIM1', 60), invalid(/is not a DNS name/));
  await assert.rejects(nowhere.rrsets('acme.test?x=1'), invalid(/zone "acme\.test\?x=1" is not a DNS name/));
  await assert.rejects(nowhere.rrsets(`${'a'.repeat(64)}.test`), invalid(/longer than 63/));
  await assert.rejects(publishDkimKey(nowhere, { domain: 'other.test', zone: 'acme.test' }, 'fb1', 'v=DKIM1', 60), invalid(/not in zone acme\.test\./));
  await assert.rejects(publishDkimKey(nowhere, d, 'fb1', 'v=DKIM1; p=\u00e9', 60), invalid(/printable ASCII/));
  if (!ready(t)) return;
  // A published key too weak for receivers (512-bit RSA) does not pass: mailauth's verdict is policy (weak-key).
  await (pdns as PowerDns).createZone('weak.test.');
  const small = generateKeyPairSync('rsa', { modulusLength: 512 });
  const record = dkimRecord('rsa-2048', small.publicKey);
  await publishDkimKey(dns, { domain: 'weak.test', zone: 'weak.test' }, 'weak', record, 60);
  const v = await verifyDkimKey({ domain: 'weak.test', selector: 'weak', record, privateKey: new Secret(small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), server: server() });
  assert.deepEqual([v.served, v.signature.result], [true, 'policy'], v.signature.info);
});
