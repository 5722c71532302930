/**
 * hawkBit's `q` (FIQL/RSQL, as the rsql-parser hawkBit uses reads it) and
 * `sort` (`field:ASC|DESC`, comma-separated) on targets, for the lab.
 * Field names are hawkBit's TargetFields, case-insensitive; a bad query or
 * sort is a `QueryError` carrying hawkBit's ExceptionInfo.
 */

type Target = Readonly<Record<string, unknown>>;

export class QueryError extends Error {
  readonly exceptionClass: string;
  readonly errorCode: string;
  constructor(exceptionClass: string, errorCode: string, message: string) {
    super(message);
    this.exceptionClass = exceptionClass;
    this.errorCode = errorCode;
  }
}

/** TargetFields → the property of MgmtTarget it reads; `null`: a relation the lab's targets never have (tags, distribution sets…). */
const FIELDS: Readonly<Record<string, string | null>> = {
  id: 'controllerId', controllerid: 'controllerId', name: 'name', description: 'description', createdat: 'createdAt', createdby: 'createdBy',
  lastmodifiedat: 'lastModifiedAt', lastmodifiedby: 'lastModifiedBy', updatestatus: 'updateStatus', ipaddress: 'address',
  lastcontrollerrequestat: 'lastControllerRequestAt',
  attribute: null, assignedds: null, installedds: null, tag: null, metadata: null, targettype: null,
};

const syntax = (why: string) => new QueryError('org.eclipse.hawkbit.repository.exception.RSQLParameterSyntaxException', 'hawkbit.server.error.rest.param.rsqlParamSyntax', `The given search parameter is not well formed: ${why}`);

function field(selector: string): string | null {
  const base = selector.toLowerCase().split('.')[0] ?? '';
  if (!(base in FIELDS)) {
    throw new QueryError('org.eclipse.hawkbit.repository.exception.RSQLParameterUnsupportedFieldException', 'hawkbit.server.error.rest.param.rsqlInvalidField',
      `The given search parameter field {${selector}} does not exist, must be one of the following fields ${JSON.stringify(Object.keys(FIELDS).map((k) => k.toUpperCase()))}`);
  }
  return FIELDS[base] ?? null;
}

type Node = { readonly op: 'and' | 'or'; readonly children: readonly Node[] } | { readonly op: 'cmp'; readonly prop: string | null; readonly cmp: string; readonly args: readonly string[] };

const OPERATORS: Readonly<Record<string, string>> = { '==': '==', '!=': '!=', '=lt=': '<', '<': '<', '=le=': '<=', '<=': '<=', '=gt=': '>', '>': '>', '=ge=': '>=', '>=': '>=', '=in=': 'in', '=out=': 'out' };

/** A recursive-descent reader of RSQL: or := and (',' and)*; and := term (';' term)*; term := '(' or ')' | selector op args. */
function parse(q: string): Node {
  let i = 0;
  const peek = () => q[i];
  const unreserved = () => {
    const m = /^[^"'();,=!~<> ]+/.exec(q.slice(i));
    if (m === null) throw syntax(`expected a name or value at position ${i}`);
    i += m[0].length;
    return m[0];
  };
  const value = (): string => {
    const quote = peek();
    if (quote !== '"' && quote !== '\'') return unreserved();
    let out = '';
    for (i++; i < q.length && q[i] !== quote; i++) out += q[i] === '\\' ? (q[++i] ?? '') : (q[i] ?? '');
    if (i >= q.length) throw syntax('unterminated quoted value');
    i++;
    return out;
  };
  const comparison = (): Node => {
    const selector = unreserved();
    const m = /^(=[a-z]*=|==|!=|<=|>=|<|>)/.exec(q.slice(i));
    const op = m === null ? undefined : OPERATORS[m[0]];
    if (m === null || op === undefined) throw syntax(`unknown or missing operator after ${selector}`);
    i += m[0].length;
    const args: string[] = [];
    if (peek() === '(') {
      i++;
      args.push(value());
      while (peek() === ',') { i++; args.push(value()); }
      if (peek() !== ')') throw syntax('unclosed argument list');
      i++;
    } else {
      args.push(value());
    }
    if ((op !== 'in' && op !== 'out') && args.length !== 1) throw syntax(`${m[0]} takes one argument`);
    return { op: 'cmp', prop: field(selector), cmp: op, args };
  };
  const term = (): Node => {
    if (peek() !== '(') return comparison();
    i++;
    const inner = or();
    if (peek() !== ')') throw syntax('unclosed parenthesis');
    i++;
    return inner;
  };
  const list = (sep: string, op: 'and' | 'or', next: () => Node): Node => {
    const children = [next()];
    while (peek() === sep) { i++; children.push(next()); }
    return children.length === 1 ? children[0] as Node : { op, children };
  };
  const and = () => list(';', 'and', term);
  const or = (): Node => list(',', 'or', and);
  const tree = or();
  if (i !== q.length) throw syntax(`unexpected '${q[i] ?? ''}' at position ${i}`);
  return tree;
}

function like(actual: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'is');
  return re.test(actual);
}

function compare(actual: unknown, cmp: string, arg: string): boolean {
  if (typeof actual === 'number') {
    const n = Number(arg);
    if (cmp === '<') return actual < n;
    if (cmp === '<=') return actual <= n;
    if (cmp === '>') return actual > n;
    if (cmp === '>=') return actual >= n;
  }
  const s = String(actual);
  if (cmp === '<') return s < arg;
  if (cmp === '<=') return s <= arg;
  if (cmp === '>') return s > arg;
  if (cmp === '>=') return s >= arg;
  return like(s, arg); // == (strings compared case-insensitively, `*` a wildcard, as hawkBit's LIKE on upper-cased values)
}

function matches(t: Target, n: Node): boolean {
  if (n.op !== 'cmp') return n.op === 'and' ? n.children.every((c) => matches(t, c)) : n.children.some((c) => matches(t, c));
  const actual = n.prop === null ? undefined : t[n.prop];
  const present = actual !== undefined && actual !== null;
  if (n.cmp === 'in') return present && n.args.some((a) => compare(actual, '==', a));
  if (n.cmp === 'out') return !present || !n.args.some((a) => compare(actual, '==', a));
  if (n.cmp === '!=') return !present || !compare(actual, '==', n.args[0] ?? '');
  return present && compare(actual, n.cmp, n.args[0] ?? '');
}

/** The targets `q` selects (all when it is absent or empty). */
export function filterTargets(targets: readonly Target[], q: string | undefined): Target[] {
  if (q === undefined || q.trim() === '') return [...targets];
  const tree = parse(q);
  return targets.filter((t) => matches(t, tree));
}

/** A scalar property as sortable text (the lab's targets hold strings, numbers and booleans). */
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** Targets in the order `sort` asks (`name:ASC,createdAt:DESC`), stable; hawkBit's default is by id. */
export function sortTargets(targets: readonly Target[], sort: string | undefined): Target[] {
  if (sort === undefined || sort.trim() === '') return [...targets];
  const keys = sort.split(',').map((part) => {
    const bits = part.trim().split(':');
    if (bits.length !== 2) throw new QueryError('org.eclipse.hawkbit.repository.exception.SortParameterSyntaxErrorException', 'hawkbit.server.error.rest.param.sortParamSyntax', 'The given sort parameter is not well formed');
    const [name = '', dir = ''] = bits;
    const prop = FIELDS[name.trim().toLowerCase()];
    if (prop === undefined || prop === null) throw new QueryError('org.eclipse.hawkbit.repository.exception.SortParameterUnsupportedFieldException', 'hawkbit.server.error.rest.param.invalidField', 'The given sort parameter field does not exist');
    const d = dir.trim().toUpperCase();
    if (d !== 'ASC' && d !== 'DESC') throw new QueryError('org.eclipse.hawkbit.repository.exception.SortParameterUnsupportedDirectionException', 'hawkbit.server.error.rest.param.invalidDirection', 'The given sort parameter direction does not exist');
    return { prop, sign: d === 'ASC' ? 1 : -1 };
  });
  return [...targets].sort((a, b) => {
    for (const k of keys) {
      const x = a[k.prop];
      const y = b[k.prop];
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : text(x).localeCompare(text(y));
      if (c !== 0) return c * k.sign;
    }
    return 0;
  });
}
