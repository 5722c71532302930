import { hash as digest } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Writable } from 'node:stream';
import { canonicalJson } from '../lib/canonical.ts';
import { FirebreakError } from '../lib/errors.ts';
import { redact } from '../lib/redact.ts';
import { transaction } from '../store/sqlite-db.ts';
import { verifySignature, type CheckpointSigner } from './audit-signer.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  readonly kind: string;
  readonly actor: string;
  readonly incidentId?: string;
  readonly runId?: string;
  readonly stepId?: string;
  readonly data?: Record<string, unknown>;
}

export interface AuditEntry extends AuditInput {
  readonly seq: number;
  readonly ts: string;
  readonly hash: string;
}

export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  readonly keyId: string;
  readonly signature: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly head: string }
  | { readonly ok: false; readonly entries: number; readonly checkpoints: number; readonly firstBad: { readonly seq: number; readonly reason: string } };

/** The hash of an entry: SHA-256 (hex) over the previous hash, a newline and the entry's canonical JSON. */
export function chainHash(prev: string, entryText: string): string {
  return digest('sha256', `${prev}\n${entryText}`, 'hex');
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ seq: c.seq, hash: c.hash, ts: c.ts, keyId: c.keyId }));
}

export interface AuditLogOptions {
  readonly db: DatabaseSync;
  readonly signer: CheckpointSigner;
  /** A signed checkpoint every this many entries (and on {@link AuditLog.checkpoint}). */
  readonly checkpointEvery?: number;
  /** Latest checkpoint kept outside the database too, so truncating the log (and its checkpoints) is detected. */
  readonly anchorFile?: string;
  readonly now?: () => Date;
}

/**
 * The append-only, hash-chained audit log. Each entry's data is redacted
 * before it is encoded, so no secret can enter the log; the canonical text is
 * stored as hashed. Appends join the caller's transaction when there is one
 * (a journal write and its audit entry commit together); several processes
 * may append: the head is read inside the write transaction.
 */
export class AuditLog {
  readonly #db: DatabaseSync;
  readonly #signer: CheckpointSigner;
  readonly #every: number;
  readonly #anchor: string | undefined;
  readonly #now: () => Date;
  readonly #head: StatementSync;
  readonly #insert: StatementSync;

  constructor(o: AuditLogOptions) {
    this.#db = o.db;
    this.#signer = o.signer;
    this.#every = o.checkpointEvery ?? 1000;
    this.#anchor = o.anchorFile;
    this.#now = o.now ?? (() => new Date());
    this.#head = o.db.prepare('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1');
    this.#insert = o.db.prepare('INSERT INTO audit_entries (seq, ts, kind, incident_id, run_id, entry, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  get publicKeyPem(): string {
    return this.#signer.publicKeyPem;
  }

  get keyId(): string {
    return this.#signer.keyId;
  }

  append(input: AuditInput): AuditEntry {
    return this.appendMany([input])[0] as AuditEntry;
  }

  /** Appends a batch in one transaction (group commit). */
  appendMany(inputs: readonly AuditInput[]): AuditEntry[] {
    const run = (): AuditEntry[] => {
      const head = this.#head.get();
      let seq = head === undefined ? 0 : Number(head['seq']);
      let prev = head === undefined ? GENESIS_HASH : String(head['hash']);
      const out: AuditEntry[] = [];
      for (const input of inputs) {
        seq += 1;
        const ts = this.#now().toISOString();
        const entry = {
          seq, ts, kind: input.kind, actor: input.actor,
          ...(input.incidentId === undefined ? {} : { incidentId: input.incidentId }),
          ...(input.runId === undefined ? {} : { runId: input.runId }),
          ...(input.stepId === undefined ? {} : { stepId: input.stepId }),
          ...(input.data === undefined ? {} : { data: redact(input.data) as Record<string, unknown> }),
        };
        const text = canonicalJson(entry);
        const hash = chainHash(prev, text);
        this.#insert.run(seq, ts, input.kind, input.incidentId ?? null, input.runId ?? null, text, hash);
        out.push({ ...entry, hash });
        prev = hash;
        if (seq % this.#every === 0) this.#writeCheckpoint(seq, hash);
      }
      return out;
    };
    return this.#db.isTransaction ? run() : transaction(this.#db, run);
  }

  /** Signs the current head (no-op when the log is empty or the head is already signed). */
  checkpoint(): Checkpoint | undefined {
    const run = () => {
      const head = this.#head.get();
      if (head === undefined) return undefined;
      const seq = Number(head['seq']);
      const last = this.#db.prepare('SELECT * FROM audit_checkpoints WHERE seq = ?').get(seq);
      if (last !== undefined) return toCheckpoint(last);
      return this.#writeCheckpoint(seq, String(head['hash']));
    };
    return this.#db.isTransaction ? run() : transaction(this.#db, run);
  }

  #writeCheckpoint(seq: number, hash: string): Checkpoint {
    const base = { seq, hash, ts: this.#now().toISOString(), keyId: this.#signer.keyId };
    const c: Checkpoint = { ...base, signature: this.#signer.sign(checkpointPayload(base)) };
    this.#db.prepare('INSERT OR REPLACE INTO audit_checkpoints (seq, hash, ts, key_id, signature) VALUES (?, ?, ?, ?, ?)').run(c.seq, c.hash, c.ts, c.keyId, c.signature);
    if (this.#anchor !== undefined) {
      const tmp = `${this.#anchor}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(c)}\n`, { mode: 0o600 });
      renameSync(tmp, this.#anchor);
    }
    return c;
  }

  /**
   * Recomputes the chain from the first entry, checks that sequence numbers
   * have no gap, that the indexed columns agree with the hashed text, every
   * checkpoint's signature and hash, and the anchor outside the database.
   * Names the first bad entry.
   */
  verify(): VerifyResult {
    const checkpoints = this.#db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq').all().map(toCheckpoint);
    const bySeq = new Map(checkpoints.map((c) => [c.seq, c]));
    let prev = GENESIS_HASH;
    let expected = 1;
    const bad = (seq: number, reason: string): VerifyResult => ({ ok: false, entries: expected - 1, checkpoints: checkpoints.length, firstBad: { seq, reason } });
    for (const row of this.#db.prepare('SELECT seq, kind, incident_id, run_id, entry, hash FROM audit_entries ORDER BY seq').iterate()) {
      const seq = Number(row['seq']);
      const text = String(row['entry']);
      if (seq !== expected) return bad(expected, seq > expected ? `entries #${expected}–#${seq - 1} are missing (deleted)` : `entry #${seq} is out of order`);
      if (chainHash(prev, text) !== row['hash']) {
        return bad(seq, prev === GENESIS_HASH || seq === 1 ? 'content does not match its hash (edited)' : 'content does not match its hash, or the entry before it was removed or reordered (edited)');
      }
      const parsed = JSON.parse(text) as { seq?: unknown; kind?: unknown; incidentId?: unknown; runId?: unknown };
      if (parsed.seq !== seq || parsed.kind !== row['kind'] || (parsed.incidentId ?? null) !== row['incident_id'] || (parsed.runId ?? null) !== row['run_id']) {
        return bad(seq, 'indexed columns (seq, kind, incident, run) do not match the hashed entry (edited or reordered)');
      }
      const c = bySeq.get(seq);
      if (c !== undefined) {
        if (c.hash !== row['hash']) return bad(seq, `checkpoint at #${seq} records another hash (entry or checkpoint edited)`);
        if (!verifySignature(this.#signer.publicKeyPem, checkpointPayload(c), c.signature)) return bad(seq, `checkpoint at #${seq} has an invalid signature (forged)`);
      }
      prev = row['hash'];
      expected += 1;
    }
    const last = expected - 1;
    const beyond = checkpoints.find((c) => c.seq > last);
    if (beyond !== undefined) return bad(last + 1, `the log ends at #${last} but a checkpoint covers #${beyond.seq} (truncated)`);
    if (this.#anchor !== undefined) {
      let anchor: Checkpoint | undefined;
      try {
        anchor = JSON.parse(readFileSync(this.#anchor, 'utf8')) as Checkpoint;
      } catch {
        anchor = undefined;
      }
      if (anchor !== undefined) {
        if (!verifySignature(this.#signer.publicKeyPem, checkpointPayload(anchor), anchor.signature)) return bad(anchor.seq, `the anchor file ${this.#anchor} has an invalid signature`);
        if (anchor.seq > last) return bad(last + 1, `the log ends at #${last} but the anchor (${this.#anchor}) records #${anchor.seq} (truncated)`);
        const at = this.#db.prepare('SELECT hash FROM audit_entries WHERE seq = ?').get(anchor.seq);
        if (at?.['hash'] !== anchor.hash) return bad(anchor.seq, `entry #${anchor.seq} differs from the anchor's hash (rewritten)`);
      }
    }
    return { ok: true, entries: last, checkpoints: checkpoints.length, head: prev };
  }

  list(filter: { incidentId?: string; runId?: string; afterSeq?: number; limit?: number } = {}): AuditEntry[] {
    const where: string[] = ['seq > ?'];
    const args: (string | number)[] = [filter.afterSeq ?? 0];
    if (filter.incidentId !== undefined) { where.push('incident_id = ?'); args.push(filter.incidentId); }
    if (filter.runId !== undefined) { where.push('run_id = ?'); args.push(filter.runId); }
    args.push(filter.limit ?? 100_000);
    return this.#db.prepare(`SELECT entry, hash FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args).map(toEntry);
  }

  tail(n: number): AuditEntry[] {
    return this.#db.prepare('SELECT entry, hash FROM (SELECT seq, entry, hash FROM audit_entries ORDER BY seq DESC LIMIT ?) ORDER BY seq').all(n).map(toEntry);
  }

  count(): number {
    return Number(this.#db.prepare('SELECT count(*) AS n FROM audit_entries').get()?.['n'] ?? 0);
  }

  /**
   * Writes the whole chain as JSON lines: a header (format, algorithm, public
   * key), one line per entry (the hashed text and its hash), one per
   * checkpoint. Verifiable offline by tools/verify-audit-export.mjs. The whole
   * chain is exported because a filtered subset could not be verified.
   */
  async export(out: Writable): Promise<number> {
    const write = (line: string) => new Promise<void>((resolve, reject) => {
      if (out.write(`${line}\n`)) resolve();
      else out.once('drain', resolve).once('error', reject);
    });
    this.checkpoint();
    await write(JSON.stringify({ type: 'header', format: 'firebreak-audit-export', version: 1, hash: 'sha256(prevHash + "\\n" + entry)', genesis: GENESIS_HASH, signature: 'ed25519 over canonical {seq,hash,ts,keyId}', keyId: this.#signer.keyId, publicKey: this.#signer.publicKeyPem }));
    let n = 0;
    for (const row of this.#db.prepare('SELECT entry, hash FROM audit_entries ORDER BY seq').iterate()) {
      await write(JSON.stringify({ type: 'entry', entry: String(row['entry']), hash: String(row['hash']) }));
      n += 1;
    }
    for (const c of this.#db.prepare('SELECT * FROM audit_checkpoints ORDER BY seq').all().map(toCheckpoint)) await write(JSON.stringify({ type: 'checkpoint', ...c }));
    return n;
  }
}

function toCheckpoint(r: Record<string, unknown>): Checkpoint {
  return { seq: Number(r['seq']), hash: String(r['hash']), ts: String(r['ts']), keyId: String(r['key_id']), signature: String(r['signature']) };
}

function toEntry(r: Record<string, unknown>): AuditEntry {
  const e = JSON.parse(String(r['entry'])) as Omit<AuditEntry, 'hash'>;
  return { ...e, hash: String(r['hash']) };
}

/** Fails with AUDIT_TAMPERED when verification fails. */
export function assertAuditIntact(log: AuditLog): void {
  const v = log.verify();
  if (!v.ok) throw new FirebreakError('AUDIT_TAMPERED', `audit trail fails verification at entry #${v.firstBad.seq}: ${v.firstBad.reason}`);
}
