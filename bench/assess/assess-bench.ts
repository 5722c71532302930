// Vault audit assessment benchmark: `assessVaultAudit` (src/assess) on a
// synthetic file-audit-device log of 1 GiB and one of 100 MiB (generate-log.ts,
// a breach planted in each, the exact answer beside), against, in the same run
// and on the same files: `cat FILE > /dev/null` (the disk and page cache's
// ceiling), jq 1.6 (jq-baseline.jq, one streaming pass) and naive Node
// (naive-baseline.ts: readline + JSON.parse). Each measured run is its own
// child process: wall time of the whole process, MB/s, peak RSS (getrusage in
// Node's children, `/usr/bin/time -f %M` for cat and jq). Firebreak's child
// runs with the CLI's V8 flags and heap tuning (bin/firebreak.js).
//
// Prints Firebreak / jq (goal ≥ 10×) and Firebreak / naive in MB/s, and
// Firebreak's peak RSS at the big size / at the small one (goal ≤ 1.20); checks
// that Firebreak's, jq's and the naive result equal the planted answer field by
// field, and exits non-zero naming every field that does not.
//
//   node bench/assess/assess-bench.ts [--size 1GiB] [--small 100MiB] [--log FILE] [--small-log FILE] [--runs 1] [--keep] [--no-jq]
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import { tuneHeap } from '../../src/lib/heap-tuning.ts';
import { cliNodeFlags } from '../cli-node-flags.ts';
import { answerPath, parseSize } from './generate-log.ts';
import { BENCH_OPTIONS, differences, type AnswerFile } from './log-answer.ts';

const { values } = parseArgs({ options: {
  size: { type: 'string', default: '1GiB' }, small: { type: 'string', default: '100MiB' },
  log: { type: 'string' }, 'small-log': { type: 'string' }, runs: { type: 'string', default: '1' },
  keep: { type: 'boolean', default: false }, 'no-jq': { type: 'boolean', default: false }, child: { type: 'string' },
} });

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const SELF = here('assess-bench.ts');
const GENERATE = here('generate-log.ts');
const NAIVE = here('naive-baseline.ts');
const JQ = here('jq-baseline.jq');
// A Node child reports its own peak RSS (getrusage: KiB on Linux) as it exits.
const PROBE = `data:text/javascript,${encodeURIComponent('process.on("exit", () => { process.stderr.write(`\\nfb-bench-maxrss-kib=${process.resourceUsage().maxRSS}\\n`); });')}`;
const TIME = ['/usr/bin/time', '-f', '\nfb-bench-maxrss-kib=%M'] as const;

interface Run { readonly ms: number; readonly rssMiB: number; readonly result: unknown }
type Tool = 'cat' | 'jq' | 'naive' | 'firebreak';
const TOOLS: readonly Tool[] = ['cat', 'jq', 'naive', 'firebreak'];

function spawn(tool: Tool, file: string): SpawnSyncReturns<string> {
  const opts = { encoding: 'utf8', maxBuffer: 1 << 30 } as const;
  switch (tool) {
    case 'cat': return spawnSync(TIME[0], [...TIME.slice(1), 'cat', file], { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
    case 'jq': return spawnSync(TIME[0], [...TIME.slice(1), 'jq', '-R', '-n', '-c', '-f', JQ, file], opts);
    case 'naive': return spawnSync(process.execPath, ['--import', PROBE, NAIVE, file], opts);
    case 'firebreak': return spawnSync(process.execPath, [...cliNodeFlags(), '--import', PROBE, SELF, '--child', file], opts);
  }
}

function measure(tool: Tool, file: string): Run {
  const t = performance.now();
  const r = spawn(tool, file);
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${tool} on ${file} exited ${String(r.status ?? r.signal)}: ${r.stderr.slice(-2000)}`);
  const rss = /fb-bench-maxrss-kib=(\d+)/.exec(r.stderr);
  if (rss === null) throw new Error(`${tool}: no peak RSS reported: ${r.stderr.slice(-500)}`);
  return { ms, rssMiB: Number(rss[1]) / 1024, result: tool === 'cat' ? null : JSON.parse(r.stdout) as unknown };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

/** The log (generated unless given) and its planted answer. */
function logOf(label: string, size: string, given: string | undefined, dir: string): { file: string; answer: AnswerFile } {
  let file = given;
  if (file === undefined) {
    file = join(dir, `vault-audit-${size}.log`);
    const r = spawnSync(process.execPath, [GENERATE, '--size', size, '--out', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`generating the ${label} log failed (exit ${String(r.status)})`);
    console.log(r.stdout.trimEnd().replace(/^/gm, '  '));
  }
  if (!existsSync(answerPath(file))) throw new Error(`${file}: no answer beside it (${answerPath(file)}); generate it with bench/assess/generate-log.ts`);
  return { file, answer: JSON.parse(readFileSync(answerPath(file), 'utf8')) as AnswerFile };
}

async function child(file: string): Promise<void> {
  tuneHeap();
  const a = await assessVaultAudit([file], BENCH_OPTIONS);
  process.stdout.write(`${JSON.stringify(a)}\n`);
}

async function main(): Promise<number> {
  parseSize(values.size);
  parseSize(values.small);
  const runs = Number(values.runs);
  const tools = TOOLS.filter((t) => !(values['no-jq'] && t === 'jq'));
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-bench-'));
  const failures: string[] = [];
  try {
    console.log('logs (synthetic Vault file audit device, generate-log.ts):');
    const sizes = [
      { label: 'small', ...logOf('small', values.small, values['small-log'], dir) },
      { label: 'big', ...logOf('big', values.size, values.log, dir) },
    ];
    const figures = new Map<string, { ms: number; rssMiB: number; mbs: number }>();
    for (const s of sizes) {
      const bytes = statSync(s.file).size;
      for (const tool of tools) {
        const rs: Run[] = [];
        for (let i = 0; i < runs; i++) {
          try {
            rs.push(measure(tool, s.file));
          } catch (err) {
            failures.push(`${tool} (${s.label}): ${(err as Error).message}`);
            break;
          }
        }
        const last = rs.at(-1);
        if (last === undefined) continue;
        const ms = median(rs.map((r) => r.ms));
        figures.set(`${tool}/${s.label}`, { ms, rssMiB: Math.max(...rs.map((r) => r.rssMiB)), mbs: bytes / 1e6 / (ms / 1000) });
        if (tool !== 'cat') for (const d of differences(s.answer, last.result)) failures.push(`${tool} (${s.label}): ${d}`);
      }
    }
    const fmt = (tool: Tool, label: string) => {
      const f = figures.get(`${tool}/${label}`);
      return f === undefined ? 'failed'.padStart(30) : `${(f.ms / 1000).toFixed(2).padStart(7)} s ${f.mbs.toFixed(0).padStart(6)} MB/s ${f.rssMiB.toFixed(0).padStart(6)} MiB`;
    };
    const [small, big] = sizes;
    console.log(`\nassess vault-audit --all (whole process, ${runs === 1 ? 'one run' : `median of ${runs}`}; peak RSS of the child)`);
    console.log(`  ${''.padEnd(10)} ${`small: ${values.small} (${(statSync(small?.file ?? '').size / 2 ** 20).toFixed(0)} MiB)`.padEnd(30)}   ${`big: ${values.size} (${(statSync(big?.file ?? '').size / 2 ** 20).toFixed(0)} MiB)`.padEnd(30)}`);
    for (const tool of tools) console.log(`  ${tool.padEnd(10)} ${fmt(tool, 'small')}   ${fmt(tool, 'big')}`);
    const ratio = (a: string, b: string, k: 'mbs' | 'rssMiB') => {
      const [x, y] = [figures.get(a)?.[k], figures.get(b)?.[k]];
      return x === undefined || y === undefined ? 'n/a' : (x / y).toFixed(2);
    };
    console.log(`Firebreak / jq, MB/s:            ${ratio('firebreak/big', 'jq/big', 'mbs')} at ${values.size}, ${ratio('firebreak/small', 'jq/small', 'mbs')} at ${values.small}   (goal ≥ 10)`);
    console.log(`Firebreak / naive Node, MB/s:    ${ratio('firebreak/big', 'naive/big', 'mbs')} at ${values.size}, ${ratio('firebreak/small', 'naive/small', 'mbs')} at ${values.small}`);
    console.log(`Firebreak / cat, MB/s:           ${ratio('firebreak/big', 'cat/big', 'mbs')} at ${values.size}`);
    console.log(`Firebreak peak RSS, ${values.size} / ${values.small}: ${ratio('firebreak/big', 'firebreak/small', 'rssMiB')}   (goal ≤ 1.20)`);
    const tenants = big?.answer.generator.breach.tenants ?? [];
    console.log(`planted: ${tenants.length} tenants (${tenants.join(', ')}), attacker ${big?.answer.generator.breach.attackerAddress ?? ''}`);
    if (failures.length === 0) console.log(`answers: ${tools.filter((t) => t !== 'cat').join(', ')} equal the planted answer on both logs, field by field`);
    else console.log(`answers: ${failures.length} difference(s) from the planted answer:\n  ${failures.join('\n  ')}`);
    if (values.keep) console.log(`logs kept: ${sizes.map((s) => s.file).join(', ')}`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child !== undefined) await child(values.child);
else process.exitCode = await main();
