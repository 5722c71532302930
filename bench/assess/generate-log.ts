// Generates a synthetic Vault file-audit-device log (1 GiB by default) in the
// shapes of the real lines (log-templates.ts), with a breach planted in it
// (log-breach.ts), and writes the exact answer beside it (FILE.answer.json,
// log-answer.ts): what `firebreak assess vault-audit --all` must find, with the
// default tenant patterns and no allow-list. Deterministic for a seed; memory
// flat in the size (lines are built from templates, written in 8 MiB chunks).
//
// The log is a merged archive, oldest first: Vault ≤ 0.11 (10 %), 1.13–1.15
// (35 %, some lines through syslog), 1.16+ (55 %, the breach at 80 %). Each era
// starts with the device's own lines (the `sys/audit/test` probe, the enabling
// response). Among them: KMIP entries, `help` without id, a redacted fixture,
// long list responses (~1–5 MB), blank lines, damaged lines, and a last line
// cut off without its newline.
//
//   node bench/assess/generate-log.ts [--size 1GiB] [--out FILE] [--seed 1] [--samples real-samples.jsonl]
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AnswerFile } from './log-answer.ts';
import { plantBreach } from './log-breach.ts';
import { Hashes, Rng } from './log-random.ts';
import { Scenario } from './log-scenario.ts';
import { DEFAULT_SAMPLES, Samples, Templates, type Era } from './log-templates.ts';
import { LogWriter } from './log-writer.ts';

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `100MiB`, `1GiB`, `20MB`, `4096`. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] ?? NaN);
  if (!Number.isFinite(n) || n < 2 ** 20) throw new Error(`--size ${text}: a size of at least 1MiB, as 100MiB or 1GiB`);
  return Math.floor(n);
}

export const answerPath = (log: string): string => `${log}.answer.json`;

export interface GenerateOptions { readonly size: number; readonly out: string; readonly seed: number; readonly samples?: string }

/**
 * The long lines' sizes, in MB, in order: the same longest line (5 MB) in every log of 50 MiB or more, so that
 * peak memory compared across sizes is the memory of the size, not of a longer line.
 */
const LONG_MB = [1, 5, 2.5, 4, 1.5, 3, 2, 4.5];

const ERAS: readonly (readonly [Era, number, number])[] = [
  ['v0', 0, Date.UTC(2018, 3, 9, 21, 4, 29)], ['v1', 0.1, Date.UTC(2024, 1, 6, 22, 0, 0)], ['v2', 0.45, Date.UTC(2026, 10, 30, 8, 0, 0)],
];

export function generateLog(o: GenerateOptions): AnswerFile {
  const rng = new Rng(o.seed);
  const h = new Hashes(rng);
  const t = new Templates(new Samples(o.samples ?? DEFAULT_SAMPLES));
  const s = new Scenario(t, h, rng);
  const breach = plantBreach(s);
  const fd = openSync(o.out, 'w');
  try {
    const w = new LogWriter(fd, t, rng);
    const longCount = Math.max(3, Math.round(o.size / 2 ** 27));
    const problemEvery = o.size / 12;
    let nextProblem = problemEvery / 2;
    let problems = 0;
    let long = 0;
    let blanks = 0;
    let era = -1;
    let redacted = false;
    let burst = 0;
    const damaged = (): string | Buffer => {
      const line = w.lostLine(s.benign(w.era)[0] ?? s.longList(w.era, 100));
      const cut = line.slice(0, 20 + rng.int(line.length - 40));
      switch (problems++ % 5) {
        case 0: return cut; // a write cut off (a crash, a full disk)
        case 1: return cut + w.lostLine(s.benign(w.era)[0] ?? s.longList(w.era, 100)); // …and the next write on the same line
        case 2: return Buffer.from(Array.from({ length: 120 }, () => 0x80 + rng.int(128))); // not UTF-8 (a damaged block)
        case 3: return '-- MARK --'; // a syslog mark
        default: return '["not","an","object"]';
      }
    };
    while (w.bytes < o.size) {
      const f = w.bytes / o.size;
      const e = f < (ERAS[1]?.[1] ?? 0) ? 0 : f < (ERAS[2]?.[1] ?? 0) ? 1 : 2;
      if (e !== era) {
        era = e;
        const [name, , start] = ERAS[e] ?? ['v2', 0, 0];
        w.setEra(name, start);
        w.syslogShare = name === 'v1' ? 0.01 : 0;
        for (const op of s.eraStart()) w.emit(op);
        if (name !== 'v0') w.kmip();
      } else if (f >= (long + 0.5) / longCount) {
        long++;
        w.emit(s.longList(w.era, Math.min((LONG_MB[(long - 1) % LONG_MB.length] ?? 1) * 1e6, o.size / 16)));
      } else if (w.bytes >= nextProblem) {
        nextProblem += problemEvery;
        w.problem(damaged());
      } else if (f >= 0.3 + 0.2 * blanks && blanks < 3) {
        blanks++;
        w.blank();
      } else if (w.era === 'v2' && !redacted && f >= 0.6) {
        redacted = true;
        for (const op of s.redacted('v2')) w.emit(op);
      } else if (w.era === 'v2' && f >= 0.8 && burst < breach.bursts.length && rng.chance(0.3)) {
        for (const op of breach.bursts[burst++] ?? []) w.emit(op);
      } else if (w.era !== 'v0' && rng.chance(0.001)) {
        w.kmip();
      } else {
        for (const op of s.benign(w.era)) w.emit(op);
      }
    }
    // Whatever of the breach the size left out (a small log).
    if (w.era !== 'v2') w.setEra('v2', ERAS[2]?.[2] ?? 0);
    if (!redacted) for (const op of s.redacted('v2')) w.emit(op);
    for (; burst < breach.bursts.length; burst++) for (const op of breach.bursts[burst] ?? []) w.emit(op);
    const last = w.lostLine(s.benign('v2')[0] ?? s.longList('v2', 100));
    w.close(last.slice(0, 30 + rng.int(last.length - 60)));
    const answer: AnswerFile = {
      ...w.tally.answer(),
      generator: { seed: o.seed, bytes: w.bytes, breach: { attackerAccessor: breach.attacker.accessor, attackerAddress: breach.address, tenants: breach.tenants } },
    };
    writeFileSync(answerPath(o.out), `${JSON.stringify(answer, null, 2)}\n`);
    return answer;
  } finally {
    closeSync(fd);
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '1GiB' }, out: { type: 'string' }, seed: { type: 'string', default: '1' }, samples: { type: 'string' } } });
  const size = parseSize(values.size);
  const out = values.out ?? `/tmp/vault-audit-${values.size}.log`;
  const t = performance.now();
  const a = generateLog({ size, out, seed: Number(values.seed), ...(values.samples === undefined ? {} : { samples: values.samples }) });
  const s = (performance.now() - t) / 1000;
  console.log(`${out}: ${(a.generator.bytes / 2 ** 20).toFixed(0)} MiB, ${a.input.lines.toLocaleString('en-US')} lines in ${s.toFixed(1)} s (${(a.generator.bytes / 1e6 / s).toFixed(0)} MB/s); answer: ${answerPath(out)}`);
  console.log(`  operations ${a.input.operations.all.toLocaleString('en-US')}, suspicious ${a.suspicious.total.toLocaleString('en-US')}, secret reads ${a.secretsRead.reads.toLocaleString('en-US')} + lists ${a.secretsRead.lists.toLocaleString('en-US')} on ${a.secretsRead.distinctPaths} paths; ${a.tenants.affected.length} tenants affected (${a.tenants.scope})`);
}
