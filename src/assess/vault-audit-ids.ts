/**
 * The request ids whose operation was counted, as the last REMEMBERED_IDS of
 * them (vault-audit-scan.ts): an entry whose id is among them is a duplicate
 * and is not counted again. Ranges scanned on worker threads hand theirs over
 * whole; they are taken in as they are and replayed one by one only when a
 * line is read here again. Checks against the ranges use 53-bit hashes of the
 * ids: two equal ids always match, and a chance match between different ids
 * (about one in 10⁸ per range) only makes the range be read again.
 */

/** Request ids remembered once their operation was counted (a duplicated entry is counted once within them). */
export const REMEMBERED_IDS = 65_536;

/** Two 32-bit FNV-1a hashes of the id, as one number below 2^53. */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 2 ** 21 + ((b >>> 0) >>> 11);
}

/** The ids' hashes, sorted. */
export function hashesOf(ids: Iterable<string>): Float64Array {
  const h = Float64Array.from(ids, idHash);
  return h.sort();
}

/** Whether two sorted hash arrays share a value. */
function meet(a: Float64Array, b: Float64Array): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] ?? 0;
    const y = b[j] ?? 0;
    if (x === y) return true;
    if (x < y) i++; else j++;
  }
  return false;
}

/** Whether the sorted array holds the value. */
export function holds(a: Float64Array, x: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const y = a[mid] ?? 0;
    if (y === x) return true;
    if (y < x) lo = mid + 1; else hi = mid - 1;
  }
  return false;
}

/**
 * Ids in order as one string and where each ends: what a range hands over (thousands of short strings would each be
 * an object to copy across and to collect).
 */
export interface PackedIds { readonly text: string; readonly ends: Uint32Array }

export function packIds(ids: readonly string[]): PackedIds {
  const ends = new Uint32Array(ids.length);
  let at = 0;
  ids.forEach((id, i) => { at += id.length; ends[i] = at; });
  return { text: ids.join(''), ends };
}

function* unpack(p: PackedIds): Generator<string> {
  let from = 0;
  for (const end of p.ends) { yield p.text.slice(from, end); from = end; }
}

/** Whether the packed ids hold this one. */
export function packedHas(p: PackedIds, id: string): boolean {
  let from = 0;
  for (const end of p.ends) {
    if (end - from === id.length && p.text.startsWith(id, from)) return true;
    from = end;
  }
  return false;
}

interface Handed { readonly ids: PackedIds; readonly hashes: Float64Array }

export class IdWindow {
  readonly #set = new Set<string>();
  #order: string[] = [];
  #head = 0;
  /** The hashes of #set, sorted, while it does not change. */
  #hashes: Float64Array | undefined;
  /** Ranges' ids taken in since #set was last brought up to date, oldest first. */
  #handed: Handed[] = [];
  #handedIds = 0;

  has(id: string): boolean {
    if (this.#handed.length > 0) this.#replay();
    return this.#set.has(id);
  }

  add(id: string): void {
    if (this.#handed.length > 0) this.#replay();
    this.#push(id);
  }

  #push(id: string): void {
    this.#hashes = undefined;
    this.#set.add(id);
    this.#order.push(id);
    if (this.#order.length - this.#head > REMEMBERED_IDS) {
      this.#set.delete(this.#order[this.#head] ?? '');
      this.#head++;
      if (this.#head > REMEMBERED_IDS) { this.#order = this.#order.slice(this.#head); this.#head = 0; }
    }
  }

  #replay(): void {
    for (const h of this.#handed) for (const id of unpack(h.ids)) this.#push(id);
    this.#handed = [];
    this.#handedIds = 0;
  }

  /** Whether any of these hashes (sorted) may be of an id in the window. */
  mayHold(hashes: Float64Array): boolean {
    if (hashes.length === 0) return false;
    if (this.#set.size > 0) {
      this.#hashes ??= hashesOf(this.#set);
      if (meet(hashes, this.#hashes)) return true;
    }
    return this.#handed.some((h) => meet(hashes, h.hashes));
  }

  /** A range's counted ids, in order, with their sorted hashes. */
  take(ids: PackedIds, hashes: Float64Array): void {
    if (ids.ends.length === 0) return;
    this.#handed.push({ ids, hashes });
    this.#handedIds += ids.ends.length;
    // What the newer ranges alone fill the window with leaves the older ones, and the ids before them, out of it.
    while (this.#handed.length > 1 && this.#handedIds - (this.#handed[0]?.ids.ends.length ?? 0) >= REMEMBERED_IDS) {
      this.#handedIds -= this.#handed.shift()?.ids.ends.length ?? 0;
    }
    if (this.#handedIds >= REMEMBERED_IDS && this.#set.size > 0) {
      this.#set.clear();
      this.#order = [];
      this.#head = 0;
      this.#hashes = undefined;
    }
  }
}
