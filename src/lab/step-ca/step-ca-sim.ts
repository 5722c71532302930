import { CompactEncrypt, exportJWK, generateKeyPair, calculateJwkThumbprint, jwtVerify, importJWK, decodeProtectedHeader, type JWK } from 'jose';
import type { webcrypto } from 'node:crypto';
import * as x509 from '../../lib/x509.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { startSimulator, type Simulator, type SimulatorOptions } from '../lab-server.ts';
import { issueCaCert, issueLeaf, loadLabCa, type LabCa } from './step-ca-pki.ts';
import { readFileSync, statSync } from 'node:fs';

export interface StepCaSimOptions extends SimulatorOptions {
  readonly ca: LabCa;
  readonly provisioner: string;
  readonly password: string;
  /** DNS name the CA answers as (token audiences). */
  readonly dnsName?: string;
  /** What /sign issues: device certificates (a tenant Sub-CA) or CA certificates (the provider CA signing Sub-CAs). */
  readonly issues?: 'leaf' | 'intermediate';
  /** The CA's certificate and key files: re-read when they change, as step-ca reads them when it restarts. */
  readonly caFiles?: { readonly certFile: string; readonly keyFile: string };
}

export interface StepCaSim extends Simulator {
  readonly revoked: Map<string, { reasonCode: number; revokedAt: string }>;
  readonly issued: Map<string, string>;
}

const E401 = 'The request lacked necessary authorization to be completed. Please see the certificate authority logs for more info.';
const E501 = 'The requested method is not implemented by the certificate authority. Please see the certificate authority logs for more info.';
const E500 = 'The certificate authority encountered an Internal Server Error. Please see the certificate authority logs for more info.';
const E404 = 'The requested resource could not be found. Please see the certificate authority logs for more info.';
const bad = (reason: string) => `The request could not be completed: ${reason}.`;
const forbidden = (reason: string) => `The request was forbidden by the certificate authority: ${reason}.`;

/** Go's base-0 big-integer parsing as step-ca applies it to serials, normalised to decimal. */
function parseGoSerial(s: string): string | undefined {
  const t = s.replace(/_/g, '');
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t).toString();
    if (/^0[oO]?[0-7]+$/.test(t) && t.length > 1) return BigInt(`0o${t.replace(/^0[oO]?/, '')}`).toString();
    if (/^0[bB][01]+$/.test(t)) return BigInt(t).toString();
    if (/^[0-9]+$/.test(t)) return BigInt(t).toString();
  } catch { /* fall through */ }
  return undefined;
}

/**
 * An audience with its port removed, as step-ca compares them
 * (`matchesAudience`/`stripPort` in smallstep/certificates: either side may
 * carry a port, e.g. the CLI's `https://host:443/1.0/revoke`).
 */
function stripPort(aud: string): string {
  try {
    const u = new URL(aud);
    return `${u.protocol}//${u.hostname}${u.pathname}${u.search}${u.hash}`;
  } catch {
    return aud; // not a URL (the legacy `step-certificate-authority`): compared as is
  }
}

/**
 * step-ca (CONTRACTS.md §1) for the lab: health, provisioners (with the JWK
 * provisioner's PBES2-encrypted key), revoke and sign with one-time tokens
 * verified like the real CA (signature, issuer+kid, audience, validity with
 * one minute of leeway, single-use jti), the same status codes and messages.
 */
export async function startStepCaSim(o: StepCaSimOptions): Promise<StepCaSim> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub: JWK = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig' };
  const kid = await calculateJwkThumbprint(pub);
  pub.kid = kid;
  const priv: JWK = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid };
  const encryptedKey = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(priv)))
    .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', cty: 'jwk+json', p2c: 100_000 })
    .encrypt(new TextEncoder().encode(o.password));
  const verifyKey = await importJWK(pub, 'ES256');
  const dns = o.dnsName ?? '127.0.0.1';
  const usedJti = new Set<string>();
  const revoked = new Map<string, { reasonCode: number; revokedAt: string }>();
  const issued = new Map<string, string>();
  let ca = o.ca;
  let caStamp = '';
  const currentCa = async (): Promise<LabCa> => {
    if (o.caFiles === undefined) return ca;
    const stamp = `${statSync(o.caFiles.certFile).mtimeMs}:${statSync(o.caFiles.keyFile).mtimeMs}`;
    if (stamp !== caStamp) { ca = await loadLabCa(readFileSync(o.caFiles.certFile, 'utf8'), readFileSync(o.caFiles.keyFile, 'utf8')); caStamp = stamp; }
    return ca;
  };
  const err = (reply: FastifyReply, status: number, message: string) => reply.code(status).header('content-type', 'application/json').send({ status, message });

  async function authorize(ott: string, path: 'revoke' | 'sign'): Promise<Record<string, unknown> | undefined> {
    try {
      const header = decodeProtectedHeader(ott);
      if (header.kid !== kid) return undefined;
      const { payload } = await jwtVerify(ott, verifyKey, { issuer: o.provisioner, clockTolerance: 60 });
      const expected = [`https://${dns}/1.0/${path}`, `https://${dns}/${path}`, 'step-certificate-authority'].map(stripPort);
      const audiences = typeof payload.aud === 'string' ? [payload.aud] : payload.aud ?? [];
      if (!audiences.some((a) => expected.includes(stripPort(a)))) return undefined;
      if (typeof payload.jti !== 'string' || usedJti.has(payload.jti) || typeof payload.sub !== 'string' || payload.sub === '') return undefined;
      if (payload.exp === undefined || payload.nbf === undefined) return undefined;
      usedJti.add(payload.jti);
      return payload;
    } catch {
      return undefined;
    }
  }

  const routes = (app: FastifyInstance) => {
    for (const prefix of ['', '/1.0']) {
      app.get(`${prefix}/health`, async () => ({ status: 'ok' }));
      app.get(`${prefix}/provisioners`, async (req, reply) => {
        const { limit } = req.query as { limit?: string };
        // ParseCursor: a limit must be a decimal integer (checked on the real CA).
        if (limit !== undefined && limit !== '' && !/^-?\d+$/.test(limit)) return err(reply, 400, bad(`limit '${limit}' is not an integer`));
        return { provisioners: [{ type: 'JWK', name: o.provisioner, key: pub, encryptedKey, claims: { enableSSHCA: false }, options: {} }], nextCursor: '' };
      });
      // What `step ca token` fetches to sign with the provisioner's key (CONTRACTS.md §1.2).
      app.get(`${prefix}/provisioners/:kid/encrypted-key`, async (req, reply) => ((req.params as { kid: string }).kid === kid ? { key: encryptedKey } : err(reply, 404, E404)));
      app.get(`${prefix}/root/:sha`, async () => ({ ca: o.ca.pem }));
      app.post(`${prefix}/revoke`, async (req, reply) => {
        const b = (req.body ?? {}) as { serial?: unknown; ott?: unknown; reasonCode?: unknown; reason?: unknown; passive?: unknown };
        if (typeof b.serial !== 'string' || b.serial === '') return err(reply, 400, bad('missing serial'));
        const serial = parseGoSerial(b.serial);
        if (serial === undefined) return err(reply, 400, bad(`'${b.serial}' is not a valid serial number - use a base 10 representation or a base 16 representation with '0x' prefix`));
        const reasonCode = typeof b.reasonCode === 'number' ? b.reasonCode : 0;
        if (reasonCode < 0 || reasonCode > 10) return err(reply, 400, bad('reasonCode out of bounds'));
        if (b.passive !== true) return err(reply, 501, E501);
        if (typeof b.ott !== 'string' || b.ott === '') return err(reply, 400, bad('missing ott or client certificate'));
        const claims = await authorize(b.ott, 'revoke');
        if (claims === undefined) return err(reply, 401, E401);
        if (claims['sub'] !== serial) return err(reply, 403, forbidden(`request serial number "${serial}" and token subject "${String(claims['sub'])}" do not match`));
        if (revoked.has(serial)) return err(reply, 400, bad(`certificate with serial number '${serial}' is already revoked`));
        revoked.set(serial, { reasonCode, revokedAt: new Date().toISOString() });
        return { status: 'ok' };
      });
      app.post(`${prefix}/sign`, async (req, reply) => {
        const b = (req.body ?? {}) as { csr?: unknown; ott?: unknown };
        if (typeof b.csr !== 'string' || b.csr === '') return err(reply, 400, bad('missing csr'));
        if (typeof b.ott !== 'string' || b.ott === '') return err(reply, 400, bad('missing ott'));
        let csr: x509.Pkcs10CertificateRequest;
        try {
          csr = new x509.Pkcs10CertificateRequest(b.csr);
          if (!(await csr.verify())) throw new Error('bad self-signature');
        } catch {
          return err(reply, 400, bad('invalid csr'));
        }
        const claims = await authorize(b.ott, 'sign');
        if (claims === undefined) return err(reply, 401, E401);
        const sans = Array.isArray(claims['sans']) ? (claims['sans'] as unknown[]).map(String) : [String(claims['sub'])];
        const cn = /CN=([^,]+)/.exec(csr.subject)?.[1];
        if (cn === undefined || ![String(claims['sub']), ...sans].includes(cn)) return err(reply, 403, forbidden(`certificate request does not contain the valid DNS names - got [${cn ?? ''}], want ${JSON.stringify(sans)}`));
        const publicKey = (await csr.publicKey.export()) as unknown as webcrypto.CryptoKey;
        const signer = await currentCa();
        const cert = o.issues === 'intermediate' ? await issueCaCert(signer, csr.subject, publicKey, 0) : await issueLeaf(signer, csr.subject, publicKey, sans);
        const crt = cert.toString('pem');
        issued.set(BigInt(`0x${cert.serialNumber}`).toString(), crt);
        return reply.code(201).send({ crt, ca: signer.pem, certChain: [crt, signer.pem] });
      });
    }
  };
  const sim = await startSimulator('step-ca', routes, (status) => ({ body: { status, message: status === 401 ? E401 : status >= 500 ? E500 : bad(`status ${status}`) } }), o, {
    // step-ca's router (chi) has no handler of its own for these: Go's plain-text 404 and an empty 405 (checked on the real CA).
    notFound: (_req, reply, allowed) => (allowed.length > 0 ? reply.code(405).send() : reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('404 page not found\n')),
    error: (e, _req, reply) => {
      // Go's server refuses a request URI it cannot parse itself, in plain text.
      if (e.code === 'FST_ERR_BAD_URL') return reply.code(400).header('content-type', 'text/plain; charset=utf-8').send('400 Bad Request');
      return (e.statusCode ?? 500) < 500 ? err(reply, 400, bad('error decoding json')) : err(reply, 500, E500);
    },
  });
  return { ...sim, revoked, issued };
}
