// CLI start-up benchmark: the whole-process wall time of the commands an
// on-call engineer types dozens of times per incident, each the median of N
// runs, against `node -e 0` measured in the same run (rounds interleaved, so
// that a change of load hits every command alike). The read commands run on a
// fresh `firebreak init` configuration in a temporary directory.
//
// Two series. "cached": Node's compile cache, which bin/firebreak.js enables,
// in a fresh directory warmed by one unmeasured call per command (every call
// after the first). "uncached": NODE_DISABLE_COMPILE_CACHE=1 (the first call
// after an install or an edit, or a cache that cannot be written).
//
//   node bench/cli/cli-bench.ts [--runs 10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliNodeFlags } from '../cli-node-flags.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const BIN = fileURLToPath(new URL('../../bin/firebreak.js', import.meta.url));
// As its first line starts it (`firebreak …` on the PATH).
const CLI = [...cliNodeFlags(), BIN];

const COMMANDS: readonly (readonly string[])[] = [['--help'], ['playbooks'], ['runs'], ['incidents'], ['audit', 'tail']];
/** What the ratio is held to (issue 9): the commands that open nothing. */
const TARGETS: Readonly<Record<string, number>> = { '--help': 3, playbooks: 3 };

const dir = mkdtempSync(join(tmpdir(), 'fb-cli-bench-'));

/** Runs one process to its end; returns its wall time in ms, or throws with its stderr when it failed. */
function timed(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${String(r.status)}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] ?? 0 : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** The environment of a series: the configuration in the temp dir, no colour, and the compile cache on (in `cache`) or off. */
function seriesEnv(cache: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FIREBREAK_USER: 'bench', FIREBREAK_CONFIG: join(dir, 'firebreak.yaml') };
  delete env['NODE_COMPILE_CACHE'];
  delete env['NODE_DISABLE_COMPILE_CACHE'];
  if (cache === undefined) env['NODE_DISABLE_COMPILE_CACHE'] = '1';
  else env['NODE_COMPILE_CACHE'] = cache;
  return env;
}

/** Medians (ms) of `node -e 0` and of every command, in interleaved rounds. */
function series(env: NodeJS.ProcessEnv, warm: boolean): { baseline: number; commands: number[] } {
  // An unmeasured call of each warms what the series is about (the compile cache, the page cache) and creates the store.
  if (warm) for (const c of COMMANDS) timed([...CLI, ...c], env);
  const base: number[] = [];
  const per: number[][] = COMMANDS.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    base.push(timed(['-e', '0'], env));
    COMMANDS.forEach((c, j) => { per[j]?.push(timed([...CLI, ...c], env)); });
  }
  return { baseline: median(base), commands: per.map(median) };
}

try {
  timed([...CLI, 'init'], seriesEnv(undefined));
  timed([...CLI, 'runs'], seriesEnv(undefined));
  const cached = series(seriesEnv(join(dir, 'compile-cache')), true);
  const uncached = series(seriesEnv(undefined), false);
  const ms = (x: number) => `${Math.round(x)} ms`.padStart(7);
  const ratio = (x: number, base: number) => `${(x / base).toFixed(2)}×`.padStart(7);
  console.log(`CLI start-up (${process.version}, whole process), median of ${RUNS}; ratio against node -e 0 in the same series`);
  console.log(`  ${'command'.padEnd(22)} ${'cached'.padStart(7)} ${'ratio'.padStart(7)}   ${'uncached'.padStart(8)} ${'ratio'.padStart(7)}`);
  console.log(`  ${'node -e 0'.padEnd(22)} ${ms(cached.baseline)} ${ratio(1, 1)}   ${ms(uncached.baseline).padStart(8)} ${ratio(1, 1)}`);
  COMMANDS.forEach((c, j) => {
    const a = cached.commands[j] ?? 0;
    const b = uncached.commands[j] ?? 0;
    const target = TARGETS[c.join(' ')];
    console.log(`  ${`firebreak ${c.join(' ')}`.padEnd(22)} ${ms(a)} ${ratio(a, cached.baseline)}   ${ms(b).padStart(8)} ${ratio(b, uncached.baseline)}${target === undefined ? '' : `   (target ≤ ${target}× cached)`}`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
