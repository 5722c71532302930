// An operation of the synthetic Vault audit log: what its entries hold, how
// they are written, and what the generator knows it is (which makes the
// answer). Shared by the scenario (log-scenario.ts), which builds them, and the
// writer (log-writer.ts), which writes and counts them.
import type { SuspiciousKind } from '../../src/assess/vault-audit-types.ts';
import type { Actor } from './log-actors.ts';
import type { Mount } from './log-templates.ts';

export interface Op {
  readonly actor: Actor;
  /** The response entry's caller block when it is not the request's: a login's, the new token. */
  readonly respActor?: Actor;
  readonly operation: string;
  /** `request.path`, relative to the namespace. */
  readonly path: string;
  /** A child namespace (Enterprise): its `namespace` object, raw JSON, and its path. */
  readonly ns?: { readonly json: string; readonly path: string };
  readonly mount: Mount | null;
  /** `request.data`, raw JSON. */
  readonly data?: string;
  /** The response object, raw JSON (default: the mount's fields only). */
  readonly body?: string;
  /** The response entry's error; the request entry's (refused before the handler ran). */
  readonly error?: string;
  readonly reqError?: string;
  /** `auth.policy_results.allowed: false`. */
  readonly denied?: boolean;
  readonly wrap?: number;
  /**
   * How it is written: a request and its response (`pair`, the default, which the writer may turn into one of the
   * others: a request still in flight, a response whose request came before the excerpt), the request only, the
   * response only, or both without a usable id (`noid`: `help`, or the fixed `id`, `****`).
   */
  readonly emit?: 'pair' | 'request' | 'response' | 'noid';
  readonly id?: string;
  // What it is. The writer applies docs/assess.md's conditions (a response, no error) before counting it.
  /** A read of a secret's value, or a list of keys, on a KV mount the doc's rules recognise. */
  readonly kv?: 'read' | 'list';
  readonly tenant?: string;
  readonly change?: 'policy' | 'audit' | 'auth';
  readonly login?: 'ok' | 'failed';
}

export const fullPath = (op: Op): string => (op.ns?.path ?? '') + op.path;

/** The kinds of suspicious event of the operation whose entry `which` is counted (docs/assess.md, "Suspicious events"). */
export function kindsOf(op: Op, which: 'request' | 'response'): SuspiciousKind[] {
  const err = (which === 'request' ? op.reqError : op.error) ?? '';
  const kinds: SuspiciousKind[] = [];
  const pd = err.includes('permission denied');
  const mt = err.includes('missing client token');
  const it = err.includes('invalid token');
  const up = err.includes('unsupported path');
  if (pd || op.denied === true) kinds.push('permission-denied');
  if (mt) kinds.push('token-missing');
  if (it) kinds.push('token-invalid');
  if (up) kinds.push('unsupported-path');
  if (err !== '' && !pd && !mt && !it && !up) kinds.push('error-other');
  // A response without response.auth; a request without its response, with an error.
  if (op.login === 'failed' && (which === 'response' || err !== '')) kinds.push('failed-login');
  if ((which === 'response' ? op.respActor ?? op.actor : op.actor).root) kinds.push('root-policy');
  if (op.change !== undefined) kinds.push(`${op.change}-change`);
  return kinds;
}
