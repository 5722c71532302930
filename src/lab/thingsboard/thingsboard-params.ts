/**
 * Query parameters as Spring binds them for ThingsBoard's controllers
 * (`@RequestParam int pageSize`…), and the page-link checks of its
 * BaseController, with the 400 messages they produce.
 */

export class ParamError extends Error {}

const LIMITS = { int: [-2147483648, 2147483647], long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] } as const;

/** A Java int/long parameter: missing (when required) and not-a-number are Spring's 400s. */
export function javaInt(q: Readonly<Record<string, string | undefined>>, name: string, kind: 'int' | 'long', required: boolean): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') {
    if (required) throw new ParamError(`Required request parameter '${name}' for method parameter type ${kind} is not present`);
    return undefined;
  }
  const [min, max] = LIMITS[kind];
  // Long.parseLong beyond 2^53 is still a long; the lab keeps to what a JS number holds exactly.
  if (!/^[+-]?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ParamError(`Method parameter '${name}': Failed to convert value of type 'java.lang.String' to required type '${kind}'; For input string: "${v}"`);
  }
  return Number(v);
}

/** A Java boolean parameter as Spring converts it (true/false/on/off/yes/no/1/0, any case). */
export function javaBool(q: Readonly<Record<string, string | undefined>>, name: string): boolean | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const l = v.toLowerCase();
  if (['true', 'on', 'yes', '1'].includes(l)) return true;
  if (['false', 'off', 'no', '0'].includes(l)) return false;
  throw new ParamError(`Method parameter '${name}': Failed to convert value of type 'java.lang.String' to required type 'boolean'; Invalid boolean value [${v}]`);
}

export interface PageLink {
  readonly pageSize: number;
  readonly page: number;
  readonly textSearch: string | undefined;
  readonly sortProperty: string | undefined;
  readonly sortOrder: 'ASC' | 'DESC';
}

/** createPageLink: pageSize ≥ 1, page ≥ 0, a known sort property, ASC/DESC in any case. */
export function pageLink(q: Readonly<Record<string, string | undefined>>, sortProperties: readonly string[]): PageLink {
  const pageSize = javaInt(q, 'pageSize', 'int', true) ?? 0;
  const page = javaInt(q, 'page', 'int', true) ?? 0;
  if (pageSize < 1) throw new ParamError('Page size must not be less than one');
  if (page < 0) throw new ParamError('Page index must not be less than zero');
  const order = q['sortOrder'];
  const sortOrder = order === undefined || order === '' ? 'ASC' : order.toUpperCase();
  if (sortOrder !== 'ASC' && sortOrder !== 'DESC') throw new ParamError(`Unsupported sort order '${order ?? ''}'! Only 'ASC' or 'DESC' types are allowed.`);
  const sortProperty = q['sortProperty'] === '' ? undefined : q['sortProperty'];
  if (sortProperty !== undefined && !sortProperties.includes(sortProperty)) throw new ParamError(`Invalid page link sort property: ${sortProperty}`);
  return { pageSize, page, textSearch: q['textSearch'] === '' ? undefined : q['textSearch'], sortProperty, sortOrder };
}

/** One page of `all`, sorted by the link's property (values from `key`), as ThingsBoard's PageData. */
export function pageOf<T>(all: readonly T[], link: PageLink, key: (item: T, property: string) => string | number): { data: T[]; totalPages: number; totalElements: number; hasNext: boolean } {
  const sorted = link.sortProperty === undefined ? [...all] : [...all].sort((a, b) => {
    const x = key(a, link.sortProperty ?? '');
    const y = key(b, link.sortProperty ?? '');
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return link.sortOrder === 'ASC' ? c : -c;
  });
  const start = link.page * link.pageSize;
  return { data: sorted.slice(start, start + link.pageSize), totalPages: Math.ceil(sorted.length / link.pageSize), totalElements: sorted.length, hasNext: start + link.pageSize < sorted.length };
}

/** ThingsBoard's EntityType names (4.x), for routes that take `{entityType}`. */
export const ENTITY_TYPES: ReadonlySet<string> = new Set([
  'TENANT', 'CUSTOMER', 'USER', 'DASHBOARD', 'ASSET', 'DEVICE', 'ALARM', 'RULE_CHAIN', 'RULE_NODE', 'ENTITY_VIEW', 'WIDGETS_BUNDLE', 'WIDGET_TYPE',
  'TENANT_PROFILE', 'DEVICE_PROFILE', 'ASSET_PROFILE', 'API_USAGE_STATE', 'TB_RESOURCE', 'OTA_PACKAGE', 'EDGE', 'RPC', 'QUEUE', 'NOTIFICATION_TARGET',
  'NOTIFICATION_TEMPLATE', 'NOTIFICATION_REQUEST', 'NOTIFICATION', 'NOTIFICATION_RULE', 'QUEUE_STATS', 'OAUTH2_CLIENT', 'DOMAIN', 'MOBILE_APP',
  'MOBILE_APP_BUNDLE', 'CALCULATED_FIELD', 'JOB', 'ADMIN_SETTINGS', 'AI_MODEL', 'API_KEY',
]);
