import { isUtf8 } from 'node:buffer';
import { forEachLine } from './audit-lines.ts';
import { allowList, classify, tenantMatchers, type ClassifyRules, type Operation } from './vault-audit-classify.ts';
import {
  ASSESS_SCHEMA, SUSPICIOUS_KINDS, type AssessOptions, type Assessment, type FileSummary, type FindMatch, type InputProblem, type SuspiciousEvent, type SuspiciousKind,
} from './vault-audit-types.ts';

/**
 * `firebreak assess vault-audit` and the vault-breach assessment: Vault's
 * file audit logs, streamed, as the breach's figures (docs/assess.md). A
 * request and its response are one operation, counted once; bad lines are
 * counted and listed, never fatal.
 */

/** How many problems and suspicious events are listed (all are counted). */
const LISTED_PROBLEMS = 100;
const LISTED_EVENTS = 100_000;
/** Request ids remembered once their operation was counted (a duplicated entry is counted once within them). */
const REMEMBERED_IDS = 65_536;

interface Located extends Operation { readonly file: string; readonly fileIndex: number; readonly line: number }

export interface AssessProgress { readonly file: string; readonly bytes: number; readonly lines: number }

export async function assessVaultAudit(files: readonly string[], o: AssessOptions, onFile?: (p: AssessProgress) => void): Promise<Assessment> {
  const rules: ClassifyRules = { allowed: allowList(o.allowedNetworks, 'the allow-list'), kvMounts: [...o.kvMounts].sort((a, b) => b.length - a.length) };
  const tenantOf = tenantMatchers(o.tenantPaths, 'the tenant paths');
  const test = new Set(o.testTenants);
  const finds = (o.find ?? []).flatMap((f) => f.hashes.map((h) => [h, f.label] as const));
  const findLabel = new Map(finds);

  const summaries: FileSummary[] = [];
  const entries = { request: 0, response: 0 };
  const otherTypes: Record<string, number> = {};
  const problems: InputProblem[] = [];
  const problemKinds: Record<string, number> = {};
  let problemTotal = 0;
  const byKind = Object.fromEntries(SUSPICIOUS_KINDS.map((k) => [k, 0])) as Record<SuspiciousKind, number>;
  const events: Located[] = [];
  let suspicious = 0;
  const ops = { all: 0, inWindow: 0, requestOnly: 0, withoutId: 0 };
  const paths = new Map<string, { reads: number; lists: number }>();
  const tenants = new Map<string, { reads: number; lists: number; paths: Set<string> }>();
  const excluded = new Set<string>();
  const matches: FindMatch[] = [];
  // Requests waiting for their response; ids whose operation was counted (oldest first, bounded).
  const pending = new Map<string, Located>();
  const done = new Set<string>();
  const doneOrder: string[] = [];
  let doneHead = 0;

  const problem = (p: InputProblem) => {
    problemTotal++;
    problemKinds[p.problem] = (problemKinds[p.problem] ?? 0) + 1;
    if (problems.length < LISTED_PROBLEMS) problems.push(p);
  };
  const remember = (id: string) => {
    done.add(id);
    doneOrder.push(id);
    if (doneOrder.length - doneHead > REMEMBERED_IDS) {
      done.delete(doneOrder[doneHead] ?? '');
      doneHead++;
      if (doneHead > REMEMBERED_IDS) { doneOrder.splice(0, doneHead); doneHead = 0; }
    }
  };
  const count = (op: Located) => {
    ops.all++;
    if (Number.isNaN(op.ms)) { problem({ file: op.file, line: op.line, problem: 'bad-time', detail: `time ${JSON.stringify(op.time)} is not an RFC 3339 time` }); return; }
    if ((o.since !== undefined && op.ms < o.since) || (o.until !== undefined && op.ms >= o.until)) return;
    ops.inWindow++;
    if (op.kinds.length > 0) {
      suspicious++;
      for (const k of op.kinds) byKind[k]++;
      if (events.length < LISTED_EVENTS) events.push(op);
    }
    if (op.secret === null) return;
    const p = paths.get(op.path) ?? { reads: 0, lists: 0 };
    if (op.secret === 'read') p.reads++; else p.lists++;
    paths.set(op.path, p);
    for (const of of tenantOf) {
      const tenant = of(op.path);
      if (tenant === undefined) continue;
      if (test.has(tenant)) { excluded.add(tenant); break; }
      const t = tenants.get(tenant) ?? { reads: 0, lists: 0, paths: new Set<string>() };
      if (op.secret === 'read') t.reads++; else t.lists++;
      t.paths.add(op.path);
      tenants.set(tenant, t);
      break;
    }
  };
  const findIn = (v: unknown, ptr: string, at: { file: string; line: number; e: Record<string, unknown> }) => {
    if (typeof v === 'string') {
      const label = findLabel.get(v);
      if (label !== undefined) {
        const req = at.e['request'] as Record<string, unknown> | undefined;
        const text = (x: unknown) => (typeof x === 'string' ? x : '');
        matches.push({ file: at.file, line: at.line, label, time: text(at.e['time']), type: text(at.e['type']), path: text(req?.['path']), field: ptr });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => { findIn(x, `${ptr}/${i}`, at); });
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) findIn(x, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, at);
    }
  };

  for (const [fileIndex, file] of files.entries()) {
    const onLine = (buf: Buffer, line: number, last: boolean) => {
      let start = 0;
      while (start < buf.length && (buf[start] === 0x20 || buf[start] === 0x09 || buf[start] === 0x0d)) start++;
      if (start === buf.length) return;
      if (buf[start] !== 0x7b) {
        // A syslog or prefix= prefix: the entry starts at the first `{`.
        const brace = buf.indexOf(0x7b, start);
        if (brace === -1) { problem({ file, line, problem: 'not-json', detail: 'no JSON object on this line' }); return; }
        start = brace;
      }
      const bytes = start === 0 ? buf : buf.subarray(start);
      if (!isUtf8(bytes)) { problem({ file, line, problem: 'not-utf8', detail: 'the line is not valid UTF-8' }); return; }
      let e: unknown;
      try {
        e = JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        problem({ file, line, problem: last ? 'incomplete' : 'not-json', detail: last ? 'the last line has no newline and is not a whole JSON object (cut off, or the file is still being written)' : (err as Error).message });
        return;
      }
      if (typeof e !== 'object' || e === null || Array.isArray(e)) { problem({ file, line, problem: 'not-json', detail: 'the line is JSON but not an object' }); return; }
      const entry = e as Record<string, unknown>;
      if (finds.length > 0) findIn(entry, '', { file, line, e: entry });
      const type = entry['type'];
      if (type !== 'request' && type !== 'response') { const t = typeof type === 'string' ? type : '(none)'; otherTypes[t] = (otherTypes[t] ?? 0) + 1; return; }
      entries[type]++;
      const op: Located = { ...classify(entry, type, rules), file, fileIndex, line };
      if (op.id === null) { ops.withoutId++; count(op); return; }
      if (done.has(op.id)) return;
      if (type === 'request') { if (!pending.has(op.id)) pending.set(op.id, op); return; }
      pending.delete(op.id);
      remember(op.id);
      count(op);
    };
    const r = await forEachLine(file, onLine);
    summaries.push({ file, gzip: r.gzip, bytes: r.bytes, lines: r.lines });
    if (r.damaged !== undefined) problem({ file, line: r.lines + 1, problem: 'incomplete', detail: r.damaged });
    onFile?.({ file, bytes: r.bytes, lines: r.lines });
  }
  // Requests whose response never came: each is the operation on its own.
  for (const op of pending.values()) { ops.requestOnly++; count(op); }

  const order = (a: Located, b: Located) => a.fileIndex - b.fileIndex || a.line - b.line;
  const affected = [...tenants].map(([tenant, t]) => ({ tenant, reads: t.reads, lists: t.lists, paths: t.paths.size })).sort((a, b) => a.tenant.localeCompare(b.tenant));
  return {
    schema: ASSESS_SCHEMA,
    window: { since: o.since === undefined ? null : new Date(o.since).toISOString(), until: o.until === undefined ? null : new Date(o.until).toISOString() },
    input: {
      files: summaries, lines: summaries.reduce((n, f) => n + f.lines, 0), entries, otherTypes,
      problems: { total: problemTotal, byKind: problemKinds, first: problems }, operations: ops,
    },
    suspicious: {
      total: suspicious, byKind, allowListChecked: rules.allowed !== undefined, omitted: suspicious - events.length,
      events: events.sort(order).map((x): SuspiciousEvent => ({
        file: x.file, line: x.line, kinds: [...x.kinds], time: x.time, type: x.type, operation: x.operation, path: x.path,
        remoteAddress: x.remoteAddress, accessor: x.accessor, displayName: x.displayName, error: x.error,
      })),
    },
    secretsRead: {
      reads: [...paths.values()].reduce((n, p) => n + p.reads, 0), lists: [...paths.values()].reduce((n, p) => n + p.lists, 0), distinctPaths: paths.size,
      paths: [...paths].map(([path, p]) => ({ path, ...p })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    },
    tenants: {
      patterns: [...o.tenantPaths], affected, excludedTest: [...excluded].sort(), threshold: o.widespreadAbove,
      scope: affected.length > o.widespreadAbove ? 'widespread' : affected.length > 0 ? 'limited' : 'none',
    },
    ...(finds.length > 0 ? { matches } : {}),
  };
}
