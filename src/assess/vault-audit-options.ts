import { isAbsolute, resolve, dirname } from 'node:path';
import { FirebreakError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { timeOf } from './vault-audit-classify.ts';
import { vaultAuditSchema, type FirebreakConfig } from '../config/config-schema.ts';
import type { AssessOptions } from './vault-audit-types.ts';

/** What the command line (or the playbook) sets over the configuration's assess.vaultAudit. */
export interface AssessOverrides {
  readonly logs?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  readonly all?: boolean;
  readonly allow?: readonly string[];
  readonly tenantPaths?: readonly string[];
  readonly testTenants?: readonly string[];
  readonly widespreadAbove?: string;
  readonly kvMounts?: readonly string[];
}

/** An RFC 3339 time, or a duration back from `now` (`30m`, `24h`, `7d`), as ms since the epoch. */
export function whenOf(text: string, flag: string, now: number): number {
  const back = parseDuration(text.trim());
  if (back !== undefined) return now - back;
  const t = timeOf(text.trim());
  if (Number.isNaN(t)) throw new FirebreakError('USAGE', `${flag} ${JSON.stringify(text)}: give an RFC 3339 time (2026-12-01T00:00:00Z) or a duration back from now (30m, 24h, 7d)`);
  return t;
}


/**
 * The assessment's options: the overrides, else firebreak.yaml's assess.vaultAudit (when there is one), else the
 * defaults (docs/assess.md). Logs in the configuration are relative to the configuration file.
 */
export function assessOptions(config: { readonly path: string; readonly config: FirebreakConfig } | undefined, o: AssessOverrides, now: number): { files: string[]; options: AssessOptions } {
  const c = config?.config.assess.vaultAudit ?? vaultAuditSchema.parse({});
  const files = o.logs !== undefined && o.logs.length > 0 ? [...o.logs]
    : c.logs.map((f) => (isAbsolute(f) || config === undefined ? f : resolve(dirname(config.path), f)));
  if (files.length === 0) throw new FirebreakError('USAGE', 'no audit log to read: give --log FILE (repeat for several), or list them in assess.vaultAudit.logs');
  if (o.all === true && (o.since !== undefined || o.until !== undefined)) throw new FirebreakError('USAGE', '--all reads every entry: it cannot be combined with --since or --until');
  const window = parseDuration(c.window) ?? 86_400_000;
  const since = o.all === true ? undefined : o.since !== undefined ? whenOf(o.since, '--since', now) : now - window;
  const until = o.all === true || o.until === undefined ? undefined : whenOf(o.until, '--until', now);
  if (since !== undefined && until !== undefined && since >= until) throw new FirebreakError('USAGE', `the window is empty: --since ${new Date(since).toISOString()} is not before --until ${new Date(until).toISOString()}`);
  let widespreadAbove = c.widespreadAbove;
  if (o.widespreadAbove !== undefined) {
    if (!/^\d{1,6}$/.test(o.widespreadAbove)) throw new FirebreakError('USAGE', `--widespread-above ${JSON.stringify(o.widespreadAbove)}: must be a whole number (affected tenants), e.g. 10`);
    widespreadAbove = Number(o.widespreadAbove);
  }
  for (const m of o.kvMounts ?? []) if (!/^[^/].*\/$/.test(m)) throw new FirebreakError('USAGE', `--kv-mount ${JSON.stringify(m)}: must be a mount path ending in / (e.g. secret/)`);
  const testTenants = [...c.testTenants, ...Object.entries(config?.config.tenants ?? {}).filter(([, t]) => t.test).map(([id]) => id), ...(o.testTenants ?? [])];
  return {
    files,
    options: {
      since, until, widespreadAbove, testTenants: [...new Set(testTenants)],
      tenantPaths: o.tenantPaths !== undefined && o.tenantPaths.length > 0 ? o.tenantPaths : c.tenantPaths,
      allowedNetworks: o.allow !== undefined && o.allow.length > 0 ? o.allow : c.allowedNetworks,
      kvMounts: o.kvMounts !== undefined && o.kvMounts.length > 0 ? o.kvMounts : c.kvMounts,
    },
  };
}
