// The CLI runs with the V8 flags that keep a long run's memory flat
// (docs/BENCHMARKS.md, fan-out): its first line gives them to node, and the
// npm scripts that start it give the same ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/shared.ts';

const BIN = join(repoRoot, 'bin', 'firebreak.js');
const FLAGS = ['--max-semi-space-size=16'];

test('bin/firebreak.js, run as a program, starts node with the flags of its first line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-flags-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  // A `node` first on PATH that records how it was called, then runs the real one.
  const seen = join(dir, 'args');
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${seen}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(join(dir, 'node'), 0o755);
  const r = spawnSync(BIN, ['--version'], { env: { ...process.env, PATH: `${dir}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.deepEqual(readFileSync(seen, 'utf8').split('\n').filter((l) => l !== ''), [...FLAGS, BIN, '--version']);
});

test('the npm scripts that start the CLI give node the same flags', () => {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['firebreak', 'drill']) assert.match(scripts[name] ?? '', new RegExp(`node ${FLAGS.join(' ')} bin/firebreak\\.js`), `npm run ${name}`);
});
