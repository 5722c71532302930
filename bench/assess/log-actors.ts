// The callers of the synthetic Vault audit log: each one's `auth` block as
// each era writes it (pre-rendered once), the token fields of its requests
// and its remote addresses.
import type { Hashes, Rng } from './log-random.ts';
import { requestId } from './log-random.ts';
import type { Era, Json, Obj, Templates } from './log-templates.ts';

export interface Actor {
  readonly name: string;
  /** `request.client_token` (1) and `request.client_token_accessor` (2), raw JSON. */
  readonly tokens: 0 | 1 | 2;
  readonly ct: string;
  readonly cta: string;
  /** The accessor's HMAC (the attacker's is in the answer file). */
  readonly accessor: string;
  /** The `auth` block, raw JSON, per era (null: the entry has none); `denied` with `policy_results.allowed: false`. */
  readonly auth: Readonly<Record<Era, string | null>>;
  readonly denied: Readonly<Record<Era, string | null>>;
  /** The block as an object: a login's `response.auth` is the new token's. */
  readonly authObj: Readonly<Record<Era, Obj>>;
  readonly remotes: readonly string[];
  readonly root: boolean;
  readonly clientId: string | null;
}

export interface ActorSpec {
  readonly display: string;
  readonly policies: readonly string[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly batch?: boolean;
  readonly entity?: boolean;
  readonly ttl?: number;
  readonly remotes: readonly string[];
}

const q = (s: string) => JSON.stringify(s);
const perEra = <T>(f: (era: Era) => T): Record<Era, T> => ({ v0: f('v0'), v1: f('v1'), v2: f('v2') });
const text = (t: Templates, fields: (era: Era) => Obj | null) => perEra((era) => {
  const o = fields(era);
  return o === null ? null : JSON.stringify(t.auth(era, o));
});

export class Actors {
  private n = 0;
  private readonly t: Templates;
  private readonly h: Hashes;
  private readonly rng: Rng;
  constructor(t: Templates, h: Hashes, rng: Rng) {
    this.t = t;
    this.h = h;
    this.rng = rng;
  }

  /** A token holder: a service token (or a batch one: no accessor), its policies, the auth method's metadata. */
  token(name: string, s: ActorSpec): Actor {
    const ct = this.h.any();
    const accessor = this.h.any();
    const entity = s.entity === true ? requestId(this.rng, 0x40000000 + this.n++) : undefined;
    const clock = `T0${this.rng.int(10)}:${String(this.rng.int(60)).padStart(2, '0')}:${String(this.rng.int(60)).padStart(2, '0')}Z`;
    const day = String(1 + this.rng.int(5)).padStart(2, '0');
    const issued = (era: Era) => (era === 'v1' ? `2024-02-${day}${clock}` : `2026-11-${String(Number(day) + 24)}${clock}`);
    const granting: Json[] = s.policies.filter((p) => p !== 'default').map((p) => ({ name: p, namespace_id: 'root', type: 'acl' }));
    const fields = (era: Era, allowed: boolean): Obj => {
      if (era === 'v0') return { client_token: ct, accessor, display_name: s.display, policies: [...s.policies], token_policies: [...s.policies], metadata: s.metadata === undefined ? null : { ...s.metadata }, entity_id: entity ?? '' };
      const o: Obj = { client_token: ct };
      if (s.batch !== true) o.accessor = accessor;
      Object.assign(o, { display_name: s.display, policies: [...s.policies], token_policies: [...s.policies] });
      o.policy_results = allowed ? { allowed: true, granting_policies: era === 'v2' ? [{ type: '' }, ...granting] : granting } : { allowed: false };
      if (s.metadata !== undefined) o.metadata = { ...s.metadata };
      if (entity !== undefined) o.entity_id = entity;
      o.token_type = s.batch === true ? 'batch' : 'service';
      if (s.ttl !== undefined) o.token_ttl = s.ttl;
      o.token_issue_time = issued(era);
      return o;
    };
    return {
      name, tokens: s.batch === true ? 1 : 2, ct: q(ct), cta: q(accessor), accessor,
      auth: text(this.t, (era) => fields(era, true)), denied: text(this.t, (era) => fields(era, false)),
      authObj: perEra((era) => this.t.auth(era, fields(era, true))),
      remotes: s.remotes.map(q), root: s.policies.includes('root'), clientId: entity === undefined ? null : q(entity),
    };
  }

  /**
   * A caller without a usable token: `login` (unauthenticated, about to log in), `none` (no token at all), `expired`
   * (a token Vault no longer knows: only its HMAC), `probe` (the device's own `sys/audit/test`: no address; no auth
   * block at all in 1.16+).
   */
  anonymous(name: string, kind: 'login' | 'none' | 'expired' | 'probe', remotes: readonly string[]): Actor {
    const ct = this.h.any();
    const blank: Obj = { client_token: kind === 'expired' ? ct : '', accessor: '', display_name: '', policies: null, metadata: null, entity_id: '' };
    const fields = (era: Era): Obj | null => {
      if (era === 'v0') return blank;
      if (kind === 'probe') return era === 'v2' ? null : { token_type: 'default' };
      if (kind === 'expired') return { client_token: ct, token_type: 'default' };
      return kind === 'login' && era === 'v2' ? { policy_results: { allowed: true }, token_type: 'default' } : { token_type: 'default' };
    };
    const auth = text(this.t, fields);
    return {
      name, tokens: kind === 'expired' ? 1 : 0, ct: q(ct), cta: q(''), accessor: '', auth, denied: auth,
      authObj: perEra((era) => this.t.auth(era, fields(era) ?? {})), remotes: remotes.map(q), root: false, clientId: null,
    };
  }

  /** A fixture an author redacted (FORMAT.md §7.9): every token, accessor and some ids are `****` (1.16+ only). */
  redacted(name: string, remotes: readonly string[]): Actor {
    const o: Obj = {
      accessor: '****', client_token: '****', display_name: 'jwt-organization:***:project:***:workspace:****', entity_id: 'c67ec5d4-310a-ec11-cac8-cdeff0fd9878',
      metadata: { role: 'tfc-role' }, policies: ['default', 'tfc-policy'], token_policies: ['default', 'tfc-policy'], token_ttl: 1200, token_type: 'service',
      policy_results: { allowed: true, granting_policies: [{ type: '' }, { name: 'default', namespace_id: 'root', type: 'acl' }, { name: 'tfc-policy', namespace_id: 'root', type: 'acl' }] },
    };
    const auth = text(this.t, () => o);
    return { name, tokens: 2, ct: q('****'), cta: q('****'), accessor: '****', auth, denied: auth, authObj: perEra((era) => this.t.auth(era, o)), remotes: remotes.map(q), root: false, clientId: null };
  }
}

/** The same caller seen from other addresses. */
export const from = (a: Actor, remotes: readonly string[]): Actor => ({ ...a, remotes: remotes.map(q) });
