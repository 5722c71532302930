import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { Secret } from '../../src/lib/secret.ts';

test('argv reaches the program byte for byte, with no shell in between', async () => {
  const ex = createLocalExecutor();
  const hostile = ['a b', '$(id)', '`id`', "'; rm -rf / #", 'ünï', '\nnewline', '*'];
  const r = await ex.exec({ argv: [process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...hostile] });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), hostile);
});

test('a secret travels on stdin and never appears on the child\'s command line', async () => {
  const ex = createLocalExecutor();
  const secret = new Secret('canary-stdin-5d1e9a7c3b');
  const script = 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const cmd=require("fs").readFileSync("/proc/self/cmdline","utf8");process.stdout.write(JSON.stringify({got:s, cmdline:cmd}))})';
  const r = await ex.exec({ argv: [process.execPath, '-e', script], stdin: secret });
  const out = JSON.parse(r.stdout) as { got: string; cmdline: string };
  assert.equal(out.got, secret.reveal());
  assert.ok(!out.cmdline.includes(secret.reveal()));
});

test('a missing program, a non-zero exit and a timeout are told apart', async () => {
  const ex = createLocalExecutor();
  await assert.rejects(ex.exec({ argv: ['wg-definitely-missing', 'show'] }), /wg-definitely-missing not found on local host/);
  const r = await ex.exec({ argv: [process.execPath, '-e', 'console.error("boom"); process.exit(3)'] });
  assert.deepEqual([r.exitCode, r.stderr.trim()], [3, 'boom']);
  await assert.rejects(ex.exec({ argv: [process.execPath, '-e', 'setTimeout(()=>{}, 10000)'], timeoutMs: 200 }), (e: { code?: string }) => e.code === 'TIMEOUT');
});

test('atomic writes keep the mode of the file they replace; locks exclude each other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-exec-'));
  try {
    const ex = createLocalExecutor();
    const f = join(dir, 'cdm_peers.json');
    writeFileSync(f, '{"peers":{}}');
    chmodSync(f, 0o640);
    await ex.writeFileAtomic(f, '{"peers":{"a":{}}}');
    assert.equal(statSync(f).mode & 0o777, 0o640);
    assert.equal(readFileSync(f, 'utf8'), '{"peers":{"a":{}}}');
    await assert.rejects(ex.readFile(join(dir, 'missing')), (e: { code?: string }) => e.code === 'NOT_FOUND');
    const order: string[] = [];
    await Promise.all([
      ex.withLock(f, async () => { order.push('a+'); await new Promise((r) => setTimeout(r, 150)); order.push('a-'); }),
      new Promise((r) => setTimeout(r, 20)).then(() => ex.withLock(f, async () => { order.push('b+'); order.push('b-'); })),
    ]);
    assert.deepEqual(order, ['a+', 'a-', 'b+', 'b-']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock held by a writer that was SIGKILLed is taken over once it goes stale, not after a minute', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-lock-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const file = join(dir, 'state.json');
  writeFileSync(file, '{}');
  // A writer in another process takes the lock, says so, and is killed while holding it.
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    const { createLocalExecutor } = await import(${JSON.stringify(new URL('../../src/connectors/executor/local-executor.ts', import.meta.url).href)});
    await createLocalExecutor().withLock(${JSON.stringify(file)}, () => { process.stdout.write('locked\\n'); return new Promise(() => { setInterval(() => undefined, 1000); }); });
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => { holder.stdout.on('data', () => { resolve(); }); });
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('close', r));
  const ex = createLocalExecutor();
  await assert.rejects(ex.withLock(file, () => Promise.resolve('no'), { timeoutMs: 1000 }), /is locked by another writer \(waited 1000 ms\)/, 'a fresh lock is respected');
  const started = Date.now();
  assert.equal(await ex.withLock(file, () => Promise.resolve('taken over')), 'taken over');
  assert.ok(Date.now() - started < 15_000, `taken over after ${Date.now() - started} ms`);
});
