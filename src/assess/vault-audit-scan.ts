import { isUtf8 } from 'node:buffer';
import { allowList, classify, tenantMatchers, type ClassifyRules, type Operation } from './vault-audit-classify.ts';
import { IdWindow, hashesOf, holds, idHash, packIds, packedHas, type PackedIds } from './vault-audit-ids.ts';
import { SUSPICIOUS_KINDS, type AssessOptions, type SuspiciousKind } from './vault-audit-kinds.ts';
import type { FindMatch, InputProblem } from './vault-audit-types.ts';

/**
 * The assessment's state over the lines read so far: the figures, and the
 * pairing of requests with responses (a request and its response are one
 * operation, counted once). One scan reads lines in order; a range of a file
 * can be scanned on its own from an empty state (on a worker thread) and its
 * part absorbed into the scan of what comes before it, giving exactly what
 * one scan of both would (docs/assess.md, "Speed").
 */

/** How many problems and suspicious events are listed (all are counted). */
export const LISTED_PROBLEMS = 100;
export const LISTED_EVENTS = 100_000;

export interface Located extends Operation { readonly file: string; readonly fileIndex: number; line: number }
interface PathFigures { reads: number; lists: number }
interface TenantFigures extends PathFigures { readonly paths: Set<string> }

/**
 * What a scan of one range found, for the scan of what came before it to absorb. Line numbers are from the range's
 * first line (1). Structured-cloneable: it crosses from a worker thread.
 */
export interface ScanPart {
  readonly lines: number;
  readonly entries: { request: number; response: number };
  readonly otherTypes: Record<string, number>;
  readonly problems: InputProblem[];
  readonly problemKinds: Record<string, number>;
  readonly problemTotal: number;
  readonly byKind: Record<SuspiciousKind, number>;
  readonly suspicious: number;
  readonly events: Located[];
  readonly ops: { all: number; inWindow: number; withoutId: number };
  readonly paths: Map<string, PathFigures>;
  readonly tenants: Map<string, TenantFigures>;
  readonly excluded: Set<string>;
  readonly matches: FindMatch[];
  /** Requests still waiting for their response, in the order they came. */
  readonly pending: [string, Located][];
  /** Ids whose operation was counted, in order, and their hashes sorted (vault-audit-ids.ts). */
  readonly remembered: PackedIds;
  readonly rememberedHashes: Float64Array;
  /** The hashes of every id the range took as not counted before it: one the scan before it had counted makes the part wrong. */
  readonly seenHashes: Float64Array;
}

const LEADING_SPACE = new Set([0x20, 0x09, 0x0d]);

export class AuditScan {
  readonly #o: AssessOptions;
  readonly #rules: ClassifyRules;
  readonly #tenantOf: ((path: string) => string | undefined)[];
  readonly #test: Set<string>;
  readonly #findLabel: Map<string, string>;
  readonly #seen: Set<string> | undefined;

  lines = 0;
  readonly entries = { request: 0, response: 0 };
  readonly otherTypes: Record<string, number> = {};
  readonly problems: InputProblem[] = [];
  readonly problemKinds: Record<string, number> = {};
  problemTotal = 0;
  readonly byKind = Object.fromEntries(SUSPICIOUS_KINDS.map((k) => [k, 0])) as Record<SuspiciousKind, number>;
  readonly events: Located[] = [];
  suspicious = 0;
  readonly ops = { all: 0, inWindow: 0, requestOnly: 0, withoutId: 0 };
  readonly paths = new Map<string, PathFigures>();
  readonly tenants = new Map<string, TenantFigures>();
  readonly excluded = new Set<string>();
  readonly matches: FindMatch[] = [];
  // Requests waiting for their response; ids whose operation was counted (oldest first, bounded).
  readonly pending = new Map<string, Located>();
  readonly #done = new IdWindow();
  /** All ids counted, in order: only for a part (the scan before it needs them). */
  readonly #remembered: string[] | undefined;

  /** `part`: a scan of a range on its own, to be absorbed (it keeps what absorbing needs). */
  constructor(o: AssessOptions, part = false) {
    this.#o = o;
    this.#rules = { allowed: allowList(o.allowedNetworks, 'the allow-list'), kvMounts: [...o.kvMounts].sort((a, b) => b.length - a.length) };
    this.#tenantOf = tenantMatchers(o.tenantPaths, 'the tenant paths');
    this.#test = new Set(o.testTenants);
    this.#findLabel = new Map((o.find ?? []).flatMap((f) => f.hashes.map((h) => [h, f.label] as const)));
    this.#seen = part ? new Set() : undefined;
    this.#remembered = part ? [] : undefined;
  }

  problem(p: InputProblem): void {
    this.problemTotal++;
    this.problemKinds[p.problem] = (this.problemKinds[p.problem] ?? 0) + 1;
    if (this.problems.length < LISTED_PROBLEMS) this.problems.push(p);
  }

  #remember(id: string): void {
    this.#done.add(id);
    this.#remembered?.push(id);
  }

  #count(op: Located): void {
    this.ops.all++;
    if (Number.isNaN(op.ms)) { this.problem({ file: op.file, line: op.line, problem: 'bad-time', detail: `time ${JSON.stringify(op.time)} is not an RFC 3339 time` }); return; }
    const o = this.#o;
    if ((o.since !== undefined && op.ms < o.since) || (o.until !== undefined && op.ms >= o.until)) return;
    this.ops.inWindow++;
    if (op.kinds.length > 0) {
      this.suspicious++;
      for (const k of op.kinds) this.byKind[k]++;
      if (this.events.length < LISTED_EVENTS) this.events.push(op);
    }
    if (op.secret === null) return;
    let p = this.paths.get(op.path);
    if (p === undefined) this.paths.set(op.path, p = { reads: 0, lists: 0 });
    if (op.secret === 'read') p.reads++; else p.lists++;
    for (const of of this.#tenantOf) {
      const tenant = of(op.path);
      if (tenant === undefined) continue;
      if (this.#test.has(tenant)) { this.excluded.add(tenant); break; }
      let t = this.tenants.get(tenant);
      if (t === undefined) this.tenants.set(tenant, t = { reads: 0, lists: 0, paths: new Set<string>() });
      if (op.secret === 'read') t.reads++; else t.lists++;
      t.paths.add(op.path);
      break;
    }
  }

  #findIn(v: unknown, ptr: string, at: { file: string; line: number; e: Record<string, unknown> }): void {
    if (typeof v === 'string') {
      const label = this.#findLabel.get(v);
      if (label !== undefined) {
        const req = at.e['request'] as Record<string, unknown> | undefined;
        const text = (x: unknown) => (typeof x === 'string' ? x : '');
        this.matches.push({ file: at.file, line: at.line, label, time: text(at.e['time']), type: text(at.e['type']), path: text(req?.['path']), field: ptr });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => { this.#findIn(x, `${ptr}/${i}`, at); });
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) this.#findIn(x, `${ptr}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, at);
    }
  }

  /** One line (without its newline) of `file`; `last`: a final line without a newline. */
  line(buf: Buffer, file: string, fileIndex: number, line: number, last: boolean): void {
    this.lines++;
    let start = 0;
    while (start < buf.length && LEADING_SPACE.has(buf[start] ?? 0)) start++;
    if (start === buf.length) return;
    if (buf[start] !== 0x7b) {
      // A syslog or prefix= prefix: the entry starts at the first `{`.
      const brace = buf.indexOf(0x7b, start);
      if (brace === -1) { this.problem({ file, line, problem: 'not-json', detail: 'no JSON object on this line' }); return; }
      start = brace;
    }
    const bytes = start === 0 ? buf : buf.subarray(start);
    if (!isUtf8(bytes)) { this.problem({ file, line, problem: 'not-utf8', detail: 'the line is not valid UTF-8' }); return; }
    let e: unknown;
    try {
      e = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      this.problem({ file, line, problem: last ? 'incomplete' : 'not-json', detail: last ? 'the last line has no newline and is not a whole JSON object (cut off, or the file is still being written)' : (err as Error).message });
      return;
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) { this.problem({ file, line, problem: 'not-json', detail: 'the line is JSON but not an object' }); return; }
    const entry = e as Record<string, unknown>;
    if (this.#findLabel.size > 0) this.#findIn(entry, '', { file, line, e: entry });
    const type = entry['type'];
    if (type !== 'request' && type !== 'response') { const t = typeof type === 'string' ? type : '(none)'; this.otherTypes[t] = (this.otherTypes[t] ?? 0) + 1; return; }
    this.entries[type]++;
    const op: Located = { ...classify(entry, type, this.#rules), file, fileIndex, line };
    if (op.id === null) { this.ops.withoutId++; this.#count(op); return; }
    if (this.#done.has(op.id)) return;
    this.#seen?.add(op.id);
    if (type === 'request') { if (!this.pending.has(op.id)) this.pending.set(op.id, op); return; }
    this.pending.delete(op.id);
    this.#remember(op.id);
    this.#count(op);
  }

  /** What this scan (of a range on its own) found, for the scan before it. */
  part(): ScanPart {
    return {
      lines: this.lines, entries: this.entries, otherTypes: this.otherTypes, problems: this.problems, problemKinds: this.problemKinds,
      problemTotal: this.problemTotal, byKind: this.byKind, suspicious: this.suspicious, events: this.events,
      ops: { all: this.ops.all, inWindow: this.ops.inWindow, withoutId: this.ops.withoutId }, paths: this.paths, tenants: this.tenants,
      excluded: this.excluded, matches: this.matches, pending: [...this.pending], remembered: packIds(this.#remembered ?? []), rememberedHashes: hashesOf(this.#remembered ?? []), seenHashes: hashesOf(this.#seen ?? []),
    };
  }

  /**
   * Takes in the part of the range that follows what this scan read, whose first line is line `offset + 1` of its
   * file. False, with nothing changed, when the part cannot be exact: it took an id as new that this scan had
   * already counted (a duplicated entry across the boundary); the range is then scanned again after this one.
   */
  absorb(p: ScanPart, offset: number): boolean {
    if (this.#done.mayHold(p.seenHashes)) return false;
    this.lines += p.lines;
    this.entries.request += p.entries.request;
    this.entries.response += p.entries.response;
    for (const [t, n] of Object.entries(p.otherTypes)) this.otherTypes[t] = (this.otherTypes[t] ?? 0) + n;
    for (const x of p.problems) if (this.problems.length < LISTED_PROBLEMS) this.problems.push({ ...x, line: x.line + offset });
    for (const [k, n] of Object.entries(p.problemKinds)) this.problemKinds[k] = (this.problemKinds[k] ?? 0) + n;
    this.problemTotal += p.problemTotal;
    for (const k of SUSPICIOUS_KINDS) this.byKind[k] += p.byKind[k];
    this.suspicious += p.suspicious;
    for (const x of p.events) if (this.events.length < LISTED_EVENTS) { x.line += offset; this.events.push(x); }
    this.ops.all += p.ops.all;
    this.ops.inWindow += p.ops.inWindow;
    this.ops.withoutId += p.ops.withoutId;
    for (const [path, f] of p.paths) {
      const mine = this.paths.get(path);
      if (mine === undefined) this.paths.set(path, f);
      else { mine.reads += f.reads; mine.lists += f.lists; }
    }
    for (const [tenant, f] of p.tenants) {
      const mine = this.tenants.get(tenant);
      if (mine === undefined) { this.tenants.set(tenant, f); continue; }
      mine.reads += f.reads;
      mine.lists += f.lists;
      for (const path of f.paths) mine.paths.add(path);
    }
    for (const t of p.excluded) this.excluded.add(t);
    for (const m of p.matches) this.matches.push({ ...m, line: m.line + offset });
    // A response in the range ends a request this scan was waiting for; a request this scan already waits for stays the first.
    for (const id of this.pending.keys()) if (holds(p.rememberedHashes, idHash(id)) && packedHas(p.remembered, id)) this.pending.delete(id);
    this.#done.take(p.remembered, p.rememberedHashes);
    for (const [id, op] of p.pending) if (!this.pending.has(id)) { op.line += offset; this.pending.set(id, op); }
    return true;
  }

  /** At the end of the input: requests whose response never came are each the operation on its own. */
  finish(): void {
    for (const op of this.pending.values()) { this.ops.requestOnly++; this.#count(op); }
    this.pending.clear();
  }
}
