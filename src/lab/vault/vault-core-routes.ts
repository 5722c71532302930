import { parseBody, badRequest, str, VaultError } from './vault-http.ts';
import { decodeKey, type VaultSeal } from './vault-seal.ts';
import type { TokenStore } from './vault-tokens.ts';

/**
 * The endpoints Vault serves from dedicated HTTP handlers, outside its
 * logical request path (http/handler.go): init, seal-status, seal, unseal,
 * health, leader, rekey and generate-root. They are not audited; the ones
 * Vault answers while sealed are answered sealed here too, the rest refuse
 * with 503 from their core functions.
 */

export interface CoreAnswer { readonly status: number; readonly body?: unknown }

export interface CoreDeps {
  readonly seal: VaultSeal;
  readonly tokens: TokenStore;
  /** Records what init or a rekey without PGP produced (the lab keeps them for its drills). */
  onKeys(keys: readonly Buffer[], rootToken?: string): void;
}

const methodNotAllowed = (): VaultError => new VaultError(405, []);
const ok = (body?: unknown): CoreAnswer => (body === undefined ? { status: 204 } : { status: 200, body });

/** Field names of the unauthenticated handlers' request structs are matched case-insensitively (no JSON tags). */
function field(body: Record<string, unknown> | undefined, name: string): unknown {
  if (body === undefined) return undefined;
  const k = Object.keys(body).find((x) => x.toLowerCase() === name);
  return k === undefined ? undefined : body[k];
}

function keyOf(body: Record<string, unknown> | undefined): Buffer {
  const k = field(body, 'key');
  if (typeof k !== 'string' || k === '') throw badRequest('\'key\' must be specified in request body as JSON');
  return decodeKey(k);
}

function healthCode(q: Readonly<Record<string, string>>, name: string, fallback: number): number {
  const v = q[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw badRequest(`unable to parse "${name}" query parameter: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (n < 1) throw badRequest(`invalid status code ${n} for "${name}"`);
  return n;
}

/** One dedicated endpoint; undefined when the path is not one of them. */
export async function coreRoute(d: CoreDeps, method: string, path: string, raw: string | undefined, query: Readonly<Record<string, string>>, token: string | undefined): Promise<CoreAnswer | undefined> {
  const s = d.seal;
  const write = method === 'PUT' || method === 'POST';
  switch (path) {
    case 'sys/seal-status':
      if (method !== 'GET') throw methodNotAllowed();
      return ok(s.status());
    case 'sys/init': {
      if (method === 'GET') return ok({ initialized: s.initialized });
      if (!write) throw methodNotAllowed();
      const body = parseBody(raw);
      const { keys, pgp } = await s.init(body);
      const root = d.tokens.createRoot();
      if (!pgp) d.onKeys(keys, root.id);
      return ok({ keys: keys.map((k) => k.toString('hex')), keys_base64: keys.map((k) => k.toString('base64')), root_token: root.id });
    }
    case 'sys/unseal': {
      if (!write) throw methodNotAllowed();
      const body = parseBody(raw);
      if (field(body, 'reset') === true) { s.resetUnseal(); return ok(s.status()); }
      const k = field(body, 'key');
      if (typeof k !== 'string' || k === '') throw badRequest('\'key\' must be specified in request body as JSON, or \'reset\' set to true');
      await s.unseal(decodeKey(k));
      return ok(s.status());
    }
    case 'sys/seal': {
      if (!write) throw methodNotAllowed();
      if (s.sealed) return ok();
      // SealWithRequest: the token needs update and sudo on sys/seal.
      try { d.tokens.authorize(token, 'sys/seal', 'update', true); } catch (e) {
        if (e instanceof VaultError && e.status === 400) throw new VaultError(403, ['permission denied']);
        throw e;
      }
      s.doSeal();
      return ok();
    }
    case 'sys/health': {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
      const status = !s.initialized ? healthCode(query, 'uninitcode', 501) : s.sealed ? healthCode(query, 'sealedcode', 503) : healthCode(query, 'activecode', 200);
      return {
        status,
        body: method === 'HEAD' ? undefined : {
          initialized: s.initialized, sealed: s.sealed, standby: s.sealed, performance_standby: false, replication_performance_mode: 'disabled', replication_dr_mode: 'disabled',
          server_time_utc: Math.floor(Date.now() / 1000), version: '1.19.0', enterprise: false, echo_duration_ms: 0, clock_skew_ms: 0, replication_primary_canary_age_ms: 0,
          ...(s.sealed ? {} : { cluster_name: 'vault-cluster-lab', cluster_id: 'a4c1b2d3-0000-4000-8000-00000000f1b3' }),
        },
      };
    }
    case 'sys/leader':
      if (method !== 'GET') throw methodNotAllowed();
      return ok({ ha_enabled: false, is_self: false, active_time: '0001-01-01T00:00:00Z', leader_address: '', leader_cluster_address: '', performance_standby: false, performance_standby_last_remote_wal: 0 });
    case 'sys/rekey/init':
      if (method === 'GET') return ok(s.rekeyStatus());
      if (method === 'DELETE') { s.rekeyCancel(); return ok(); }
      if (!write) throw methodNotAllowed();
      return ok(await s.rekeyInit(parseBody(raw)));
    case 'sys/rekey/update': {
      if (!write) throw methodNotAllowed();
      const body = parseBody(raw);
      const result = await s.rekeyUpdate(keyOf(body), str(field(body, 'nonce') ?? ''));
      if (result['complete'] === true && (result['pgp_fingerprints'] === null)) d.onKeys((result['keys_base64'] as string[]).map((k) => Buffer.from(k, 'base64')));
      return ok(result);
    }
    case 'sys/rekey/verify': {
      if (method === 'GET') return ok(s.verifyStatus());
      if (method === 'DELETE') return ok(s.verifyRestart());
      if (!write) throw methodNotAllowed();
      const body = parseBody(raw);
      return ok(await s.verify(keyOf(body), str(field(body, 'nonce') ?? '')));
    }
    case 'sys/generate-root/attempt':
      if (method === 'GET') return ok(s.genRootStatus());
      if (method === 'DELETE') { s.genRootCancel(); return ok(); }
      if (!write) throw methodNotAllowed();
      return ok(s.genRootInit(parseBody(raw)));
    case 'sys/generate-root/update': {
      if (!write) throw methodNotAllowed();
      const body = parseBody(raw);
      return ok(await s.genRootUpdate(keyOf(body), str(field(body, 'nonce') ?? ''), () => d.tokens.createRoot().id));
    }
    default:
      return undefined;
  }
}
