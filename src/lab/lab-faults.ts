/**
 * Latency and fault injection for lab simulators, deterministic from a seed
 * so that a drill or a test can be replayed exactly.
 */
export interface FaultRule {
  /** HTTP method to match; any when omitted. */
  readonly method?: string;
  /** Regular expression (source) matched against the request path. */
  readonly path: string;
  /** Answer this status instead of the real one… */
  readonly status?: number;
  /** …or hang until the client gives up. */
  readonly hang?: boolean;
  /** How many matching calls are affected (default: all). */
  readonly times?: number;
  /** Headers sent with the injected status (e.g. a standby's `location` with a 307). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FaultSettings {
  /** Added to every call. */
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  /** Probability (0..1) of answering 503 instead. */
  readonly errorRate?: number;
  /** Probability (0..1) of never answering. */
  readonly timeoutRate?: number;
  readonly rules?: readonly FaultRule[];
}

export type FaultDecision = { readonly kind: 'pass'; readonly delayMs: number } | { readonly kind: 'status'; readonly status: number; readonly delayMs: number; readonly headers?: Readonly<Record<string, string>> } | { readonly kind: 'hang' };

/** A small seeded PRNG (mulberry32): fast and reproducible; not for secrets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultController {
  #settings: FaultSettings;
  #remaining: (number | undefined)[];
  readonly #random: () => number;

  constructor(settings: FaultSettings = {}, seed = 1) {
    this.#settings = settings;
    this.#remaining = (settings.rules ?? []).map((r) => r.times);
    this.#random = seededRandom(seed);
  }

  get settings(): FaultSettings {
    return this.#settings;
  }

  /** Replaces the settings (rules start counting again). */
  set(settings: FaultSettings): void {
    this.#settings = settings;
    this.#remaining = (settings.rules ?? []).map((r) => r.times);
  }

  /** Adds one rule, e.g. "the next call to DELETE /rest/v1/targets/x answers 500". */
  add(rule: FaultRule): void {
    this.#settings = { ...this.#settings, rules: [...(this.#settings.rules ?? []), rule] };
    this.#remaining.push(rule.times);
  }

  clear(): void {
    this.set({});
  }

  decide(method: string, path: string): FaultDecision {
    const s = this.#settings;
    const delayMs = Math.max(0, (s.latencyMs ?? 0) + (s.jitterMs ?? 0) * (this.#random() * 2 - 1));
    const rules = s.rules ?? [];
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i] as FaultRule;
      const left = this.#remaining[i];
      if (left === 0) continue;
      if (r.method !== undefined && r.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!new RegExp(r.path).test(path)) continue;
      if (left !== undefined) this.#remaining[i] = left - 1;
      if (r.hang === true) return { kind: 'hang' };
      if (r.status !== undefined) return { kind: 'status', status: r.status, delayMs, ...(r.headers === undefined ? {} : { headers: r.headers }) };
    }
    if ((s.timeoutRate ?? 0) > 0 && this.#random() < (s.timeoutRate ?? 0)) return { kind: 'hang' };
    if ((s.errorRate ?? 0) > 0 && this.#random() < (s.errorRate ?? 0)) return { kind: 'status', status: 503, delayMs };
    return { kind: 'pass', delayMs };
  }
}
