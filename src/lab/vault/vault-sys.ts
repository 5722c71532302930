import { badRequest, type LogicalRequest, type LogicalResponse, notFound, unsupportedOperation, unsupportedPath } from './vault-http.ts';
import type { AuditBroker } from './vault-audit.ts';
import type { AuthMethods } from './vault-auth.ts';
import type { SecretEngines } from './vault-kv.ts';
import type { VaultSeal } from './vault-seal.ts';
import type { TokenStore } from './vault-tokens.ts';

/**
 * The logical `sys/` backend of the lab Vault (vault/logical_system.go):
 * auth and secret mounts, audit devices, ACL policies, lease revocation by
 * prefix, encryption key rotation and status. Which of its paths need sudo
 * is `SUDO_PATHS` (the backend's PathsSpecial.Root, the parts used here).
 */

const SUDO_PATHS = [/^sys\/auth\/.+/, /^sys\/audit$/, /^sys\/audit\/.+/, /^sys\/rotate$/, /^sys\/rekey\/backup$/, /^sys\/leases\/revoke-prefix\/.*/, /^sys\/leases\/revoke-force\/.*/, /^auth\/token\/revoke-orphan$/, /^auth\/token\/accessors\/?$/];
export const needsSudo = (path: string): boolean => SUDO_PATHS.some((re) => re.test(path));

export interface SysDeps {
  readonly seal: VaultSeal;
  readonly tokens: TokenStore;
  readonly auth: AuthMethods;
  readonly kv: SecretEngines;
  readonly audit: AuditBroker;
}

function policies(d: SysDeps, req: LogicalRequest, rest: string, legacy: boolean): LogicalResponse {
  const names = [...new Set([...d.tokens.policies.keys(), 'root'])].sort();
  if (rest === '') {
    if (legacy && req.operation === 'read') return { data: { keys: names, policies: names }, topLevel: true };
    if (req.operation === 'list' || (legacy && req.operation === 'read')) return { data: { keys: names } };
    throw unsupportedOperation();
  }
  const name = rest.replace(/\/$/, '').toLowerCase();
  const text = name === 'root' ? '' : d.tokens.policies.get(name);
  if (req.operation === 'read') {
    if (text === undefined) throw notFound();
    return { data: legacy ? { name, rules: text } : { name, policy: text }, topLevel: legacy };
  }
  if (req.operation === 'delete') {
    if (name === 'root' || name === 'default') throw badRequest(`cannot delete ${name} policy`);
    d.tokens.policies.delete(name);
    return {};
  }
  if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
  if (name === 'root') throw badRequest('cannot update root policy');
  const policy = req.data?.['policy'] ?? (legacy ? req.data?.['rules'] : undefined);
  if (typeof policy !== 'string' || policy.trim() === '') throw badRequest('\'policy\' parameter not supplied or empty');
  // Vault accepts the text base64-encoded as well.
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(policy.trim()) && policy.length % 4 === 0 ? Buffer.from(policy, 'base64').toString('utf8') : policy;
  d.tokens.policies.set(name, decoded);
  return {};
}

/** A request under sys/ that goes through the logical layer. */
export function sysRoute(d: SysDeps, req: LogicalRequest): LogicalResponse {
  const p = req.path.slice('sys/'.length);
  const [head = '', ...tail] = p.split('/');
  const rest = tail.join('/');
  switch (head) {
    case 'auth': return d.auth.sys(req, rest);
    case 'mounts': return d.kv.sys(req, rest);
    case 'audit': return d.audit.sys(req, rest, false);
    case 'audit-hash': return d.audit.sys(req, rest, true);
    case 'policy': return policies(d, req, rest, true);
    case 'policies':
      if (tail[0] !== 'acl') throw unsupportedPath();
      return policies(d, req, tail.slice(1).join('/'), false);
    case 'leases': {
      const m = /^(revoke-prefix|revoke-force)\/(.*)$/.exec(rest);
      if (m === null) throw unsupportedPath();
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      d.tokens.revokePrefix(m[2] ?? '');
      return {};
    }
    case 'rotate':
      if (rest !== '') throw unsupportedPath();
      if (req.operation !== 'update' && req.operation !== 'create') throw unsupportedOperation();
      d.seal.rotate();
      return {};
    case 'rekey':
      if (rest !== 'backup') throw unsupportedPath();
      if (req.operation === 'read') return { data: d.seal.rekeyBackup() };
      if (req.operation === 'delete') { d.seal.deleteRekeyBackup(); return {}; }
      throw unsupportedOperation();
    case 'key-status':
      if (req.operation !== 'read') throw unsupportedOperation();
      return { data: { term: d.seal.term, install_time: d.seal.installTime, encryptions: 0 } };
    default:
      throw unsupportedPath();
  }
}
