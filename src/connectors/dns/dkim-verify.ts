import { Resolver } from 'node:dns/promises';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { dkimName } from './dkim.ts';

/** A DNS server to ask directly: the zone's authoritative server, not the system's resolver (and its cache). */
export interface NameServer {
  readonly host: string;
  readonly port: number;
}

/** A resolver that asks only `server` (one try, 2 s), with the `dns.promises.resolve` signature mailauth takes. */
export function resolverAt(server: NameServer): (name: string, type: string) => Promise<string[][] | string[]> {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  return (name, type) => r.resolve(name, type) as Promise<string[][] | string[]>;
}

/** The TXT values at `name` as `server` answers (each record's strings joined), [] when there is none. */
export async function txtAt(server: NameServer, name: string): Promise<string[]> {
  try {
    const answer = await resolverAt(server)(name, 'TXT') as string[][];
    return answer.map((strings) => strings.join(''));
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw new FirebreakError('UNAVAILABLE', `the name server ${server.host}:${server.port} did not answer TXT ${name}: ${code ?? (cause as Error).message}`, { cause });
  }
}

export interface DkimCheck {
  /** mailauth's verdict for the signature: `pass`, or `fail`, `neutral`, `policy`, `temperror`, `permerror`. */
  readonly result: string;
  /** Its Authentication-Results text (`dkim=pass header.d=… header.s=…`). */
  readonly info: string;
}

/**
 * Signs a short message with `privateKey` as `selector` of `domain`, then
 * verifies it as a receiving server would, resolving the key at `server`:
 * `pass` proves that the published record and the kept private key belong
 * together and that the record parses.
 */
export async function checkDkimKey(o: { domain: string; selector: string; privateKey: Secret; server: NameServer; now?: Date }): Promise<DkimCheck> {
  const domain = dkimName(o.selector, o.domain).slice(`${o.selector}._domainkey.`.length, -1);
  const now = o.now ?? new Date();
  const message = [
    `From: Firebreak <firebreak@${domain}>`, `To: <postmaster@${domain}>`, `Subject: DKIM key check ${o.selector}`,
    `Date: ${now.toUTCString()}`, `Message-ID: <dkim-check-${o.selector}.${now.getTime()}@${domain}>`, '',
    `The key of selector ${o.selector} for ${domain}.`, '',
  ].join('\r\n');
  // mailauth signs the keys of `signatureData` (its type definitions declare them at the top level, where it ignores them).
  const options = { signTime: now, signatureData: [{ signingDomain: domain, selector: o.selector, privateKey: o.privateKey.reveal() }] };
  const signed = await dkimSign(message, options as unknown as Parameters<typeof dkimSign>[1]);
  const signError = signed.errors[0]?.err;
  if (signed.signatures === '' || signError !== undefined) {
    throw new FirebreakError('INVALID_INPUT', `the DKIM key for ${o.selector}._domainkey.${domain} cannot sign: ${signError?.message ?? 'no signature was made'}`);
  }
  const verdict = await dkimVerify(signed.signatures + message, { resolver: resolverAt(o.server), curTime: now });
  const mine = verdict.results.find((r) => r.selector === o.selector && r.signingDomain === domain);
  return { result: mine?.status.result ?? 'none', info: mine?.info ?? 'no signature of this selector was found' };
}
