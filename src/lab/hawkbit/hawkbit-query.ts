/**
 * hawkBit's `q` (FIQL/RSQL, parsed by @rsql/parser, which reads the grammar of
 * the rsql-parser hawkBit uses: `;`/`and`, `,`/`or`, quoting, whitespace) and
 * `sort` (`field:ASC|DESC`, comma-separated) on targets, for the lab.
 * Field names are hawkBit's TargetFields, case-insensitive; a bad query or
 * sort is a `QueryError` carrying hawkBit's ExceptionInfo.
 */

import type { ExpressionNode } from '@rsql/ast';
import { parse } from '@rsql/parser';

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

/** The property a TargetFields name reads; undefined: no such field (own keys only, so `constructor` is none). */
const field = (name: string): string | null | undefined => (Object.hasOwn(FIELDS, name.toLowerCase()) ? FIELDS[name.toLowerCase()] : undefined);

/** rsql-parser's default operators (all hawkBit accepts) → how the lab compares; any other `=x=` is refused while parsing. */
const OPERATORS: Readonly<Record<string, string>> = { '==': '==', '!=': '!=', '=lt=': '<', '<': '<', '=le=': '<=', '<=': '<=', '=gt=': '>', '>': '>', '=ge=': '>=', '>=': '>=', '=in=': 'in', '=out=': 'out' };

type Predicate = (t: Target) => boolean;

/**
 * The AST as a predicate. rsql-parser refuses an unknown operator, or several
 * arguments to a single-value one, while parsing (both RSQLParameterSyntaxException),
 * before hawkBit's visitor ever looks at a field: so syntax problems anywhere
 * win over the first unknown field, which is thrown once the walk is done.
 */
function compile(tree: ExpressionNode): Predicate {
  let unknown: string | undefined;
  const walk = (n: ExpressionNode): Predicate => {
    if (n.type === 'LOGIC') {
      const [l, r] = [walk(n.left), walk(n.right)];
      return n.operator === ';' || n.operator === 'and' ? (t) => l(t) && r(t) : (t) => l(t) || r(t);
    }
    const cmp = OPERATORS[n.operator];
    const args = typeof n.right.value === 'string' ? [n.right.value] : n.right.value;
    if (cmp === undefined) throw syntax(`unknown operator ${n.operator}`);
    if (cmp !== 'in' && cmp !== 'out' && args.length !== 1) throw syntax(`${n.operator} takes one argument`);
    const prop = field(n.left.selector.split('.')[0] ?? ''); // `attribute.key`, `assignedDS.name`: the field is the first part
    if (prop === undefined) unknown ??= n.left.selector;
    return (t) => matches(prop === null || prop === undefined ? undefined : t[prop], cmp, args);
  };
  const p = walk(tree);
  if (unknown !== undefined) {
    throw new QueryError('org.eclipse.hawkbit.repository.exception.RSQLParameterUnsupportedFieldException', 'hawkbit.server.error.rest.param.rsqlInvalidField',
      `The given search parameter field {${unknown}} does not exist, must be one of the following fields ${JSON.stringify(Object.keys(FIELDS).map((k) => k.toUpperCase()))}`);
  }
  return p;
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

function matches(actual: unknown, cmp: string, args: readonly string[]): boolean {
  const present = actual !== undefined && actual !== null;
  if (cmp === 'in') return present && args.some((a) => compare(actual, '==', a));
  if (cmp === 'out') return !present || !args.some((a) => compare(actual, '==', a));
  if (cmp === '!=') return !present || !compare(actual, '==', args[0] ?? '');
  return present && compare(actual, cmp, args[0] ?? '');
}

/** The targets `q` selects (all when it is absent or empty). */
export function filterTargets(targets: readonly Target[], q: string | undefined): Target[] {
  if (q === undefined || q.trim() === '') return [...targets];
  let tree: ExpressionNode;
  try {
    tree = parse(q);
  } catch (e) {
    // @rsql/parser throws a SyntaxError naming the position, as rsql-parser's ParseException does.
    throw syntax(e instanceof Error ? e.message : String(e));
  }
  return targets.filter(compile(tree));
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
    const prop = field(name.trim());
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
