import { FirebreakError } from '../../lib/errors.ts';
import { absoluteName } from './dns-names.ts';
import { dkimName, txtContent, txtValue } from './dkim.ts';
import { checkDkimKey, txtAt, type DkimCheck, type NameServer } from './dkim-verify.ts';
import type { PowerDnsClient } from './powerdns-client.ts';
import type { Secret } from '../../lib/secret.ts';

/** Where a tenant's DKIM keys are published: its mail domain and the zone that holds it. */
export interface DkimDomain {
  readonly domain: string;
  readonly zone: string;
}

export interface PublishedSelector {
  readonly selector: string;
  /** The record's value (its strings joined), e.g. `v=DKIM1; k=rsa; p=…`. */
  readonly value: string;
}

/** The DKIM selectors the zone publishes for the domain (TXT records at `<selector>._domainkey.<domain>.`). */
export async function publishedSelectors(dns: PowerDnsClient, d: DkimDomain, signal?: AbortSignal): Promise<PublishedSelector[]> {
  const rrsets = await dns.rrsets(d.zone, signal);
  if (rrsets === null) throw new FirebreakError('NOT_FOUND', `the DNS zone ${absoluteName(d.zone, 'zone')} of ${d.domain} does not exist on the DNS provider`, { details: { zone: d.zone } });
  const suffix = `._domainkey.${absoluteName(d.domain, 'mail domain')}`;
  return rrsets.filter((r) => r.type === 'TXT' && r.name.endsWith(suffix)).flatMap((r) => {
    const selector = r.name.slice(0, -suffix.length);
    return r.records.map((c) => ({ selector, value: txtValue(c) ?? c }));
  });
}

/**
 * Publishes `record` as `selector` of the domain (one REPLACE of that name's
 * TXT rrset: applying it again changes nothing). Other selectors, the old
 * key's among them, are left as they are.
 */
export async function publishDkimKey(dns: PowerDnsClient, d: DkimDomain, selector: string, record: string, ttl: number, signal?: AbortSignal): Promise<void> {
  await dns.replace(d.zone, { name: dkimName(selector, d.domain), type: 'TXT', ttl, records: [txtContent(record)] }, signal);
}

/** Removes a selector's record (the old key, once its grace period is over). */
export async function withdrawDkimKey(dns: PowerDnsClient, d: DkimDomain, selector: string, signal?: AbortSignal): Promise<void> {
  await dns.remove(d.zone, dkimName(selector, d.domain), 'TXT', signal);
}

export interface DkimVerdict {
  /** The authoritative server answers the selector's name with exactly the published record. */
  readonly served: boolean;
  /** A message signed with the kept private key verifies against what the server answers. */
  readonly signature: DkimCheck;
}

/** What a receiving server sees of the new key: the record as served, and a signature made with the kept key verified against it. */
export async function verifyDkimKey(o: { domain: string; selector: string; record: string; privateKey: Secret; server: NameServer }): Promise<DkimVerdict> {
  const served = await txtAt(o.server, dkimName(o.selector, o.domain));
  return { served: served.length === 1 && served[0] === o.record, signature: await checkDkimKey(o) };
}
