// The planted answer of a synthetic Vault audit log: the fields of the
// Assessment (src/assess/vault-audit-types.ts) that the generator knows
// exactly, for `--all`, the default tenant patterns and no allow-list. The
// generator writes it beside the log (FILE.answer.json); the baselines print
// the same shape; the benchmark compares each result to it field by field.
import { SUSPICIOUS_KINDS, type AssessOptions, type SuspiciousKind } from '../../src/assess/vault-audit-kinds.ts';

export const DEFAULT_TENANT_PATHS = ['secret/data/tenants/{tenant}/*', 'secret/metadata/tenants/{tenant}/*', 'api_keys/{tenant}/*'] as const;
export const WIDESPREAD_ABOVE = 10;

/** What `firebreak assess vault-audit --all` passes with no firebreak.yaml: the defaults of docs/assess.md. */
export const BENCH_OPTIONS: AssessOptions = {
  since: undefined, until: undefined, tenantPaths: [...DEFAULT_TENANT_PATHS], testTenants: [], widespreadAbove: WIDESPREAD_ABOVE, allowedNetworks: [], kvMounts: [],
};


export interface TenantFigures { readonly tenant: string; readonly reads: number; readonly lists: number; readonly paths: number }

export interface Answer {
  readonly input: {
    readonly lines: number;
    readonly entries: { readonly request: number; readonly response: number };
    readonly otherTypes: Readonly<Record<string, number>>;
    readonly problems: { readonly total: number };
    readonly operations: { readonly all: number; readonly inWindow: number; readonly requestOnly: number; readonly withoutId: number };
  };
  readonly suspicious: { readonly total: number; readonly byKind: Readonly<Record<SuspiciousKind, number>>; readonly allowListChecked: boolean };
  readonly secretsRead: { readonly reads: number; readonly lists: number; readonly distinctPaths: number };
  readonly tenants: { readonly affected: readonly TenantFigures[]; readonly threshold: number; readonly scope: 'widespread' | 'limited' | 'none' };
}

/** What the generator writes: the answer, and what it planted. */
export interface AnswerFile extends Answer {
  readonly generator: {
    readonly seed: number;
    readonly bytes: number;
    readonly breach: { readonly attackerAccessor: string; readonly attackerAddress: string; readonly tenants: readonly string[] };
  };
}

/** The counting, once each entry and operation has been classified (by the generator's model or by a baseline's rules). */
export class Tally {
  lines = 0;
  request = 0;
  response = 0;
  problems = 0;
  readonly other = new Map<string, number>();
  ops = 0;
  requestOnly = 0;
  withoutId = 0;
  suspicious = 0;
  readonly kinds = Object.fromEntries(SUSPICIOUS_KINDS.map((k) => [k, 0])) as Record<SuspiciousKind, number>;
  reads = 0;
  lists = 0;
  private readonly paths = new Set<string>();
  private readonly tenants = new Map<string, { reads: number; lists: number; paths: Set<string> }>();

  entry(type: string): void {
    if (type === 'request') this.request++;
    else if (type === 'response') this.response++;
    else this.other.set(type, (this.other.get(type) ?? 0) + 1);
  }

  operation(kinds: readonly SuspiciousKind[]): void {
    this.ops++;
    if (kinds.length > 0) this.suspicious++;
    for (const k of kinds) this.kinds[k]++;
  }

  secret(path: string, action: 'read' | 'list', tenant: string | undefined): void {
    if (action === 'read') this.reads++;
    else this.lists++;
    this.paths.add(path);
    if (tenant === undefined) return;
    let t = this.tenants.get(tenant);
    if (t === undefined) this.tenants.set(tenant, t = { reads: 0, lists: 0, paths: new Set() });
    if (action === 'read') t.reads++;
    else t.lists++;
    t.paths.add(path);
  }

  answer(): Answer {
    const affected = [...this.tenants].map(([tenant, t]) => ({ tenant, reads: t.reads, lists: t.lists, paths: t.paths.size }))
      .sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
    return {
      input: {
        lines: this.lines,
        entries: { request: this.request, response: this.response },
        otherTypes: Object.fromEntries([...this.other].sort()),
        problems: { total: this.problems },
        operations: { all: this.ops, inWindow: this.ops, requestOnly: this.requestOnly, withoutId: this.withoutId },
      },
      suspicious: { total: this.suspicious, byKind: { ...this.kinds }, allowListChecked: false },
      secretsRead: { reads: this.reads, lists: this.lists, distinctPaths: this.paths.size },
      tenants: { affected, threshold: WIDESPREAD_ABOVE, scope: affected.length > WIDESPREAD_ABOVE ? 'widespread' : affected.length > 0 ? 'limited' : 'none' },
    };
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Each field of the answer that `actual` (an Assessment, or a baseline's answer) does not match, as
 * `input.operations.all: expected 1, got 2`. Records (`otherTypes`) and the affected tenants are compared as sets.
 */
export function differences(expected: Answer, actual: unknown): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  const walk = (e: unknown, a: unknown, path: string): void => {
    if (path === 'tenants.affected') {
      const got = new Map<string, unknown>();
      for (const t of Array.isArray(a) ? (a as unknown[]) : []) if (isObj(t)) got.set(String(t.tenant), t);
      if (!Array.isArray(a)) out.push(`${path}: expected a list, got ${show(a)}`);
      for (const t of e as readonly TenantFigures[]) {
        const g = got.get(t.tenant);
        if (g === undefined) out.push(`${path}[${t.tenant}]: expected, missing`);
        else for (const k of ['reads', 'lists', 'paths'] as const) walk(t[k], (g as Record<string, unknown>)[k], `${path}[${t.tenant}].${k}`);
        got.delete(t.tenant);
      }
      for (const t of got.keys()) out.push(`${path}[${t}]: not expected`);
      return;
    }
    if (isObj(e)) {
      if (!isObj(a)) { out.push(`${path}: expected an object, got ${show(a)}`); return; }
      for (const [k, v] of Object.entries(e)) walk(v, a[k], path === '' ? k : `${path}.${k}`);
      if (path === 'input.otherTypes') for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: not expected (${show(a[k])})`);
      return;
    }
    if (e !== a) out.push(`${path}: expected ${show(e)}, got ${show(a)}`);
  };
  const { input, suspicious, secretsRead, tenants } = expected;
  walk({ input, suspicious, secretsRead, tenants }, actual, '');
  return out;
}
