import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT, compactDecrypt, generateKeyPair, importJWK, type JWK } from 'jose';
import { Agent, request } from 'undici';
import { createStepCaClient } from '../../src/connectors/step-ca/step-ca-client.ts';
import { assertIssuedBy, certificateFacts } from '../../src/connectors/step-ca/step-ca-serial.ts';
import { Secret } from '../../src/lib/secret.ts';

export interface StepCaTarget {
  readonly url: string;
  /** PEMs to trust for TLS (undefined for the lab's plain http). */
  readonly trust: string | undefined;
  readonly rootPem: string | undefined;
  readonly subCaPem: string;
  readonly provisioner: string;
  readonly password: string;
  readonly kid: string;
  deviceCert(name: string): Promise<string>;
  csr(name: string): Promise<string>;
}

const E401 = 'The request lacked necessary authorization to be completed. Please see the certificate authority logs for more info.';

/**
 * One set of assertions about step-ca (CONTRACTS.md §1) run against the real
 * CA built from Debian's sources and against the lab simulator: everything
 * the connector relies on must behave the same.
 */
export async function stepCaContract(target: StepCaTarget): Promise<void> {
  const dispatcher = new Agent({ connect: target.trust === undefined ? {} : { ca: target.trust } });
  const post = async (path: string, body: string, contentType = 'application/json') => {
    const res = await request(`${target.url}${path}`, { method: 'POST', body, headers: { 'content-type': contentType }, dispatcher });
    return { status: res.statusCode, json: await res.body.json() as { status?: number; message?: string } };
  };
  const raw = async (method: 'GET' | 'PUT' | 'DELETE', path: string) => {
    const res = await request(`${target.url}${path}`, { method, dispatcher });
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), text: await res.body.text() };
  };
  const client = createStepCaClient({
    url: target.url, provisioner: target.provisioner, provisionerPassword: new Secret(target.password),
    ...(target.rootPem === undefined ? {} : { rootPem: target.rootPem }), ...(target.trust === undefined ? {} : { tls: { ca: target.trust } }),
  });
  try {
    await client.health();
    const { facts } = await certificateFacts(await target.deviceCert('device-001'));
    assert.deepEqual(await client.revoke(facts.serial, 'keyCompromise'), { alreadyRevoked: false });
    assert.deepEqual(await client.revoke(facts.serial, 'keyCompromise'), { alreadyRevoked: true }, 'a second revoke answers "already revoked"');

    const host = new URL(target.url).hostname;
    const token = async (sub: string, key?: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']) => {
      const k = key ?? (await generateKeyPair('ES256')).privateKey;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: target.kid, typ: 'JWT' }).setIssuer(target.provisioner).setSubject(sub)
        .setAudience(`https://${host}/1.0/revoke`).setJti(randomBytes(32).toString('hex')).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).sign(k);
    };
    const forged = await post('/1.0/revoke', JSON.stringify({ serial: '12345', ott: await token('12345'), reasonCode: 1, passive: true }));
    assert.deepEqual([forged.status, forged.json.message], [401, E401], 'a token signed by another key: 401 with the generic message');
    const notPassive = await post('/1.0/revoke', JSON.stringify({ serial: '12345', ott: await token('12345'), reasonCode: 1, passive: false }));
    assert.equal(notPassive.status, 501);
    // (Where a malformed serial is reported differs between step-ca 0.19 and 0.30: the connector parses serials itself and never sends one.)
    const noSerial = await post('/1.0/revoke', JSON.stringify({ serial: '', passive: true }));
    assert.deepEqual([noSerial.status, noSerial.json.message], [400, 'The request could not be completed: missing serial.']);
    const badReason = await post('/1.0/revoke', JSON.stringify({ serial: '123', ott: 'abc', reasonCode: 99, passive: true }));
    assert.deepEqual([badReason.status, badReason.json.message], [400, 'The request could not be completed: reasonCode out of bounds.']);
    const malformed = await post('/1.0/revoke', '{"serial": ');
    assert.deepEqual([malformed.status, malformed.json.message], [400, 'The request could not be completed: error decoding json.']);
    assert.deepEqual(await client.revoke('987654321987654321', 'keyCompromise'), { alreadyRevoked: false }, 'revoking a serial the CA never issued is accepted');

    // The provisioner's key as `step ca token` fetches it (CONTRACTS.md §1.2), and an audience carrying
    // the port, as smallstep's clients build it: the CA ignores the port when matching.
    const keyRes = await raw('GET', `/provisioners/${encodeURIComponent(target.kid)}/encrypted-key`);
    assert.equal(keyRes.status, 200, keyRes.text);
    const { plaintext } = await compactDecrypt((JSON.parse(keyRes.text) as { key: string }).key, new TextEncoder().encode(target.password), { keyManagementAlgorithms: ['PBES2-HS256+A128KW'] });
    const provisionerKey = await importJWK(JSON.parse(new TextDecoder().decode(plaintext)) as JWK, 'ES256');
    const port = new URL(target.url).port || '443';
    const now = Math.floor(Date.now() / 1000);
    const withPort = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: target.kid, typ: 'JWT' }).setIssuer(target.provisioner).setSubject('55555')
      .setAudience(`https://${host}:${port}/1.0/revoke`).setJti(randomBytes(32).toString('hex')).setIssuedAt(now).setNotBefore(now).setExpirationTime(now + 300).sign(provisionerKey);
    const portRevoke = await post('/1.0/revoke', JSON.stringify({ serial: '55555', ott: withPort, reasonCode: 1, passive: true }));
    assert.deepEqual([portRevoke.status, portRevoke.json], [200, { status: 'ok' }], 'an audience with the port is accepted');
    const unknownKid = await raw('GET', '/provisioners/no-such-kid/encrypted-key');
    assert.deepEqual([unknownKid.status, (JSON.parse(unknownKid.text) as { message: string }).message], [404, 'The requested resource could not be found. Please see the certificate authority logs for more info.']);
    const badLimit = await raw('GET', '/provisioners?limit=abc');
    assert.deepEqual([badLimit.status, (JSON.parse(badLimit.text) as { message: string }).message], [400, 'The request could not be completed: limit \'abc\' is not an integer.']);
    // What step-ca's router answers itself: Go's plain-text 404, an empty 405; JSON is decoded whatever the content type.
    assert.deepEqual(await raw('GET', '/provisioners/%E0%A4%A/encrypted-key'), { status: 400, type: 'text/plain; charset=utf-8', text: '400 Bad Request' }, 'a path that does not decode');
    for (const p of ['/nope', '/1.0/nope', '/health/']) assert.deepEqual(await raw('GET', p), { status: 404, type: 'text/plain; charset=utf-8', text: '404 page not found\n' });
    for (const [m, p] of [['GET', '/revoke'], ['DELETE', '/health'], ['PUT', '/1.0/sign']] as const) {
      const r = await raw(m, p);
      assert.deepEqual([r.status, r.text], [405, ''], `${m} ${p}`);
    }
    const asText = await post('/revoke', JSON.stringify({ serial: '1', passive: false }), 'text/plain');
    assert.equal(asText.status, 501, 'a JSON body declared text/plain is still decoded');

    const signed = await client.sign(await target.csr('device-001b'), 'device-001b', ['device-001b']);
    const leaf = await certificateFacts(signed.crt);
    assert.match(leaf.facts.subject, /CN=device-001b/);
    await assertIssuedBy(leaf.cert, (await certificateFacts(target.subCaPem)).cert, 'the Sub-CA');
    // What keyed signing (sign-subca, issue-replacement) relies on: a token minted beforehand signs once; the same token again is refused with 401.
    const ott = await client.enrollmentToken('device-001c', ['device-001c']);
    const once = await client.signWithToken(await target.csr('device-001c'), ott);
    assert.match((await certificateFacts(once.crt)).facts.subject, /CN=device-001c/);
    await assert.rejects(client.signWithToken(await target.csr('device-001c'), ott), (err: unknown) => (err as { code?: string }).code === 'AUTH_FAILED', 'a one-time token is accepted once');
    await assert.rejects(createStepCaClient({ url: target.url, provisioner: target.provisioner, provisionerPassword: new Secret('not-the-password'), ...(target.trust === undefined ? {} : { tls: { ca: target.trust } }) }).revoke('1', 'keyCompromise'),
      /wrong provisioner password/);
  } finally {
    await client.close();
    await dispatcher.close();
  }
}
