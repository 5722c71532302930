// Deterministic randomness for the synthetic Vault audit log (generate-log.ts):
// the same seed gives the same bytes.

/** sfc32 (128 bits of state), seeded through splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(xs: readonly T[]): T {
    const x = xs[this.int(xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex(rng: Rng, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i += 4) {
    const v = rng.u32();
    s += (HEX[v & 255] ?? '') + (HEX[(v >>> 8) & 255] ?? '') + (HEX[(v >>> 16) & 255] ?? '') + (HEX[v >>> 24] ?? '');
  }
  return s.slice(0, bytes * 2);
}

/** `hmac-sha256:` + 64 lowercase hex, as the audit device writes a hashed value. */
export const hmac = (rng: Rng): string => `hmac-sha256:${hex(rng, 32)}`;

/** A pool of hashed values, so that a line costs no hashing (each device's salt maps a value to one HMAC anyway). */
export class Hashes {
  private readonly pool: string[];
  private readonly rng: Rng;
  constructor(rng: Rng, size = 8192) {
    this.rng = rng;
    this.pool = Array.from({ length: size }, () => hmac(rng));
  }

  any(): string {
    return this.rng.pick(this.pool);
  }
}

/** A request id, unique for each n below 2^32: random, but for its last 8 hex digits, a bijection of n. */
export function requestId(rng: Rng, n: number): string {
  let x = n >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  const r = hex(rng, 12);
  return `${r.slice(0, 8)}-${r.slice(8, 12)}-${r.slice(12, 16)}-${r.slice(16, 20)}-${r.slice(20, 24)}${x.toString(16).padStart(8, '0')}`;
}
