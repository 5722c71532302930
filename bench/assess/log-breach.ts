// The breach planted in the synthetic Vault audit log (1.16+ era, interleaved
// with everyday traffic): password spraying and failed approle logins from one
// address, a login with stolen approle credentials, permission-denied probes,
// calls without a token and with a dead one, then that accessor listing and
// reading the secrets of 14 tenants (`secret/data/tenants/<t>/…`,
// `api_keys/<t>/…`), and a root token found there used to change a policy,
// enable an auth method, mint a token and disable an audit device.
import { from, type Actor } from './log-actors.ts';
import type { Op } from './log-ops.ts';
import { ERR, KEYS, MOUNTS, TENANTS, type Scenario } from './log-scenario.ts';
import type { Era } from './log-templates.ts';

export interface Breach {
  /** Bursts of operations, in order; the generator writes them among the everyday traffic. */
  readonly bursts: readonly (readonly Op[])[];
  readonly attacker: Actor;
  readonly address: string;
  /** The tenants whose secrets were read (the affected tenants of the answer). */
  readonly tenants: readonly string[];
}

export function plantBreach(s: Scenario, count = 14): Breach {
  const era: Era = 'v2';
  const ip = '203.0.113.77';
  const shuffled = [...TENANTS];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = s.rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] ?? '', shuffled[i] ?? ''];
  }
  const targets = shuffled.slice(0, count);
  const probed = shuffled.slice(count, count + 5);
  const [inFlight, metadataOnly] = shuffled.slice(count + 5, count + 7);
  const attacker = s.actors.token('ci-deployer', { display: 'approle', policies: ['ci-deployer', 'default'], metadata: { role_name: 'ci-deployer' }, entity: true, ttl: 3600, remotes: [ip] });
  const root = s.actors.token('leaked-root', { display: 'root', policies: ['root'], remotes: [ip, '198.51.100.23'] });
  const anon = from(s.anonLogin, [ip]);
  const none = from(s.anonNone, [ip]);
  const dead = s.actors.anonymous('dead-token', 'expired', [ip]);
  const { secret: sec, sys, token, apiKeys } = MOUNTS;
  const A = (o: Omit<Op, 'actor'>): Op => ({ actor: attacker, ...o });
  const R = (o: Omit<Op, 'actor'>): Op => ({ actor: root, ...o });
  const b: (readonly Op[])[] = [];

  // 1. Spraying passwords and approle secrets; a login refused by a rate limit (no response); the stolen credentials.
  for (let i = 0; i < 6; i++) b.push(s.login(era, { anon, userpass: true, fail: true }));
  for (let i = 0; i < 4; i++) b.push(s.login(era, { anon, userpass: false, fail: true }));
  b.push([{ actor: anon, operation: 'update', path: 'auth/userpass/login/admin', mount: MOUNTS.userpass, data: `{"password":"${s.h.any()}"}`, reqError: ERR.rateLimit, emit: 'request', login: 'failed' }]);
  b.push(s.login(era, { anon, who: attacker, userpass: false, fail: false }));

  // 2. Looking around: refused, allowed, without a token, with a dead one, an unsupported path.
  b.push([s.refuse(era, { actor: attacker, operation: 'read', path: 'sys/mounts', mount: sys })], [s.refuse(era, { actor: attacker, operation: 'read', path: 'sys/auth', mount: sys })]);
  b.push([A({ operation: 'list', path: 'sys/policies/acl', mount: sys, body: s.list(era, sys, 20) })]);
  b.push([A({ operation: 'read', path: 'auth/token/lookup-self', mount: token, body: s.sample('lookup', era, token, 4) })]);
  b.push([A({ operation: 'update', path: 'sys/capabilities-self', mount: sys, data: `{"paths":["${s.h.any()}"]}`, body: s.sample('caps', era, sys, 14) })]);
  for (const tn of probed) b.push([s.refuse(era, { actor: attacker, operation: 'read', path: `secret/data/tenants/${tn}/db`, mount: sec })]);
  for (const tn of probed.slice(0, 2)) b.push([{ actor: none, operation: 'read', path: `secret/data/tenants/${tn}/stripe`, mount: sec, reqError: ERR.missing, error: ERR.missing }]);
  for (let i = 0; i < 2; i++) b.push([{ actor: dead, operation: 'read', path: 'sys/mounts', mount: sys, reqError: ERR.denied, error: ERR.invalid }]);
  b.push([A({ operation: 'list', path: 'approle/role/', mount: null, error: ERR.unsupported })]);

  // 3. The tenants: the list of them (no tenant in it), then each one's keys, values (one read twice, one
  // wrapped), a metadata read (neither a read nor a list), its API keys (KV v1).
  b.push([A({ operation: 'list', path: 'secret/metadata/tenants/', mount: sec, body: s.list(era, sec, TENANTS.length), kv: 'list' })]);
  targets.forEach((tn, i) => {
    const keys = KEYS.slice(i % 5, (i % 5) + 2 + (i % 3));
    const first = keys[0] ?? 'db';
    b.push([A({ operation: 'list', path: `secret/metadata/tenants/${tn}/`, mount: sec, body: s.list(era, sec, KEYS.length), kv: 'list', tenant: tn })]);
    for (const k of keys) {
      const path = `secret/data/tenants/${tn}/${k}`;
      b.push([A({ operation: 'read', path: `sys/internal/ui/mounts/secret/tenants/${tn}/${k}`, mount: sys, body: s.sample('preflight', era, sys, 537) }),
        i === 2 && k === first ? A({ operation: 'read', path, mount: sec, wrap: 300, body: s.wrapped(era, sec, path), kv: 'read', tenant: tn })
          : A({ operation: 'read', path, mount: sec, body: s.kv2(era), kv: 'read', tenant: tn })]);
    }
    b.push([A({ operation: 'read', path: `secret/data/tenants/${tn}/${first}`, mount: sec, body: s.kv2(era), kv: 'read', tenant: tn })]);
    b.push([A({ operation: 'read', path: `secret/metadata/tenants/${tn}/${first}`, mount: sec, body: s.metadata(era) })]);
    b.push([A({ operation: 'list', path: `api_keys/${tn}/`, mount: apiKeys, body: s.list(era, apiKeys, 3), kv: 'list', tenant: tn })]);
    for (const id of (s.apiKeys.get(tn) ?? []).slice(0, 1 + (i % 2))) {
      b.push([A({ operation: 'read', path: `api_keys/${tn}/${id}`, mount: apiKeys, body: s.sample('kv1', era, apiKeys, 26), kv: 'read', tenant: tn })]);
    }
  });
  // Not affected: a read still in flight (a request only: no secret read), a metadata read.
  b.push([A({ operation: 'read', path: `secret/data/tenants/${inFlight ?? ''}/db`, mount: sec, emit: 'request', kv: 'read', tenant: inFlight ?? '' })]);
  b.push([A({ operation: 'read', path: `secret/metadata/tenants/${metadataOnly ?? ''}/db`, mount: sec, body: s.metadata(era) })]);

  // 4. A root token found in a tenant's secrets.
  b.push([R({ operation: 'read', path: 'auth/token/lookup-self', mount: token, body: s.sample('lookup', era, token, 4) })]);
  b.push([R({ operation: 'update', path: 'sys/policies/acl/ci-deployer', mount: sys, data: `{"policy":"${s.h.any()}"}`, change: 'policy' })]);
  b.push([R({ operation: 'delete', path: 'sys/policy/tenant-reader', mount: sys, change: 'policy' })]);
  b.push([R({ operation: 'update', path: 'sys/auth/userpass-tmp', mount: sys, data: `{"type":"${s.h.any()}"}`, change: 'auth' })]);
  b.push([R({ operation: 'update', path: 'auth/token/create', mount: token, data: s.reqData(), body: s.sample('create', era, token, 59) })]);
  for (const tn of targets.slice(0, 2)) {
    b.push([R({ operation: 'read', path: `api_keys/${tn}/${s.apiKeys.get(tn)?.[2] ?? ''}`, mount: apiKeys, body: s.sample('kv1', era, apiKeys, 26), kv: 'read', tenant: tn })]);
  }
  b.push([R({ operation: 'delete', path: 'sys/config/auditing/request-headers/x-forwarded-for', mount: sys, change: 'audit' })]);
  b.push([R({ operation: 'delete', path: 'sys/audit/socket-siem', mount: sys, change: 'audit' })]);

  // Written as planned: the writer turns none of these into a request still in flight.
  const bursts = b.map((ops) => ops.map((op): Op => (op.emit === undefined ? { ...op, emit: 'pair' } : op)));
  return { bursts, attacker, address: ip, tenants: [...targets].sort() };
}
