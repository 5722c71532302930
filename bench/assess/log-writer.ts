// Writes the synthetic Vault audit log: renders each operation's entries from
// the templates, holds responses back a few operations (concurrent requests
// interleave), writes in big chunks, and counts what it wrote into the answer.
import { writeSync } from 'node:fs';
import { Tally } from './log-answer.ts';
import { fullPath, kindsOf, type Op } from './log-ops.ts';
import { requestId, type Rng } from './log-random.ts';
import { render, type Era, type Templates } from './log-templates.ts';

const CHUNK = 8 << 20;
const DELAY = 16;
const KMIP_TYPES = ['kmip-request', 'kmip-response', 'kmip-response', 'kmip-response'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class LogWriter {
  readonly tally = new Tally();
  era: Era = 'v0';
  private parts: string[] = [];
  private pending = 0;
  private written = 0;
  private ids = 0;
  private ms = 0;
  private sec = -1;
  private secText = '';
  private step = 0;
  private readonly held: string[][] = Array.from({ length: DELAY }, () => []);
  private readonly empty = new Map<string, string>();
  /** The share of lines with a syslog prefix (a node forwarded through rsyslog, merged in). */
  syslogShare = 0;

  private readonly fd: number;
  private readonly t: Templates;
  private readonly rng: Rng;

  constructor(fd: number, t: Templates, rng: Rng) {
    this.fd = fd;
    this.t = t;
    this.rng = rng;
  }

  /** Bytes written so far, and about to be. */
  get bytes(): number { return this.written + this.pending; }

  setEra(era: Era, startMs: number): void {
    this.drain();
    this.era = era;
    this.ms = startMs;
  }

  private stamp(ms: number): string {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.sec) { this.sec = sec; this.secText = new Date(sec * 1000).toISOString().slice(0, 19); }
    // RFC 3339 with nanoseconds, trailing zeros trimmed (0–9 digits); some nodes write 7 (FORMAT.md §3).
    let frac = String(((ms % 1000) * 1e6) + this.rng.int(1e6)).padStart(9, '0');
    if (this.rng.chance(0.05)) frac = frac.slice(0, 7);
    frac = frac.replace(/0+$/, '');
    return frac === '' ? `"${this.secText}Z"` : `"${this.secText}.${frac}Z"`;
  }

  private out(line: string, entry = true): void {
    if (entry && this.syslogShare > 0 && this.rng.chance(this.syslogShare)) {
      const d = new Date(this.ms);
      line = `${MONTHS[d.getUTCMonth()] ?? ''} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} vault-2 vault[1742]: ${line}`;
    }
    this.parts.push(line, '\n');
    this.pending += line.length + 1;
    this.tally.lines++;
    if (this.pending >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.writeBytes(Buffer.from(this.parts.join('')));
    this.parts = [];
    this.pending = 0;
  }

  private writeBytes(b: Buffer): void {
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
    this.written += b.length;
  }

  /** The line of one entry of `op`. */
  render(op: Op, which: 'request' | 'response', id: string | null, time: string): string {
    const era = this.era;
    const a = op.actor;
    const caller = which === 'response' ? op.respActor ?? a : a;
    const auth = (op.denied === true ? caller.denied : caller.auth)[era];
    const err = which === 'request' ? op.reqError : op.error;
    const tpl = this.t.entry(era, {
      type: which, operation: op.operation, mount: op.mount, auth: auth !== null, id: id !== null, clientId: a.clientId !== null,
      tokens: a.tokens, ns: op.ns !== undefined, data: op.data !== undefined, remote: a.remotes.length > 0, wrap: op.wrap !== undefined, error: err !== undefined,
    });
    let body = op.body;
    if (which === 'response' && body === undefined) {
      const key = `${era}|${op.mount?.point ?? ''}`;
      body = this.empty.get(key);
      if (body === undefined) this.empty.set(key, body = this.t.response(era, op.mount, {}));
    }
    return render(tpl, {
      time, id: id ?? '', auth: auth ?? '', ct: a.ct, cta: a.cta, cid: a.clientId ?? '', ns: op.ns?.json ?? '', path: `"${op.path}"`,
      data: op.data ?? '', ra: a.remotes.length === 0 ? '' : this.rng.pick(a.remotes), rp: String(32768 + this.rng.int(28000)),
      wt: String(op.wrap ?? 0), resp: body ?? '', err: err === undefined ? '' : JSON.stringify(err),
    });
  }

  /** Writes the operation's entries (the response a few operations later) and counts it. */
  emit(op: Op): void {
    this.ms += 1 + this.rng.int(80);
    let emit = op.emit ?? 'pair';
    if (op.emit === undefined) emit = this.rng.chance(0.002) ? 'request' : this.rng.chance(0.0005) ? 'response' : 'pair';
    const id = emit === 'noid' ? (op.id === undefined ? null : `"${op.id}"`) : `"${op.id ?? requestId(this.rng, this.ids++)}"`;
    const reqTime = this.stamp(this.ms);
    const respTime = this.stamp(this.ms + 1 + this.rng.int(30));
    if (emit !== 'response') { this.out(this.render(op, 'request', id, reqTime)); this.tally.entry('request'); }
    if (emit !== 'request') {
      const line = this.render(op, 'response', id, respTime);
      this.held[(this.step + this.rng.int(DELAY)) % DELAY]?.push(line);
      this.tally.entry('response');
    }
    const due = this.held[this.step % DELAY] ?? [];
    for (const line of due) this.out(line);
    due.length = 0;
    this.step++;
    if (emit === 'noid') { this.count(op, 'request'); this.count(op, 'response'); this.tally.withoutId += 2; }
    else if (emit === 'request') { this.count(op, 'request'); this.tally.requestOnly++; }
    else this.count(op, 'response');
  }

  private count(op: Op, which: 'request' | 'response'): void {
    this.tally.operation(kindsOf(op, which));
    const err = (which === 'request' ? op.reqError : op.error) ?? '';
    if (which === 'response' && err === '' && op.kv !== undefined) this.tally.secret(fullPath(op), op.kv, op.tenant);
  }

  /** A Vault Enterprise KMIP exchange (L22–L25): other types, counted and skipped. */
  kmip(): void {
    this.t.kmip.forEach((tpl, i) => {
      this.ms += 1 + this.rng.int(5);
      this.out(render(tpl, { time: this.stamp(this.ms) }));
      this.tally.entry(KMIP_TYPES[i] ?? '');
    });
  }

  /** Every response held back, written. */
  drain(): void {
    for (let i = 0; i < DELAY; i++) {
      const due = this.held[(this.step + i) % DELAY] ?? [];
      for (const line of due) this.out(line);
      due.length = 0;
    }
  }

  blank(): void { this.out('', false); }

  /** A line that is not an entry (a problem of the input): `text`, or raw bytes that are not UTF-8. */
  problem(text: string | Buffer): void {
    if (typeof text === 'string') this.out(text, false);
    else { this.flush(); this.writeBytes(Buffer.concat([text, Buffer.from('\n')])); this.tally.lines++; }
    this.tally.problems++;
  }

  /** The end: everything written, and a last line cut off without its newline (a crash mid-write). */
  close(cut: string): void {
    this.drain();
    this.flush();
    this.writeBytes(Buffer.from(cut));
    this.tally.lines++;
    this.tally.problems++;
  }

  /** An entry written, damaged, as a problem line: the operation is lost (never counted). */
  lostLine(op: Op): string {
    return this.render(op, 'response', `"${requestId(this.rng, 0x80000000 + this.ids++)}"`, this.stamp(this.ms));
  }
}
