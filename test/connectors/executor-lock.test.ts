import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withMkdirLock } from '../../src/connectors/executor/executor-lock.ts';
import type { ExecResult } from '../../src/connectors/executor/executor-types.ts';

test('the mkdir lock of command executors: mkdir/rmdir with "--" (a path starting with "-" stays a path), released after a failure, CONFLICT naming the lock when held', async () => {
  const seen: string[][] = [];
  const held = new Set<string>();
  const exec = async (argv: readonly string[]): Promise<ExecResult> => {
    seen.push([...argv]);
    const [cmd, , dir = ''] = argv;
    if (cmd === 'mkdir') { if (held.has(dir)) return { exitCode: 1, stdout: '', stderr: 'File exists' }; held.add(dir); }
    if (cmd === 'rmdir') held.delete(dir);
    return { exitCode: 0, stdout: '', stderr: '' };
  };
  assert.equal(await withMkdirLock(exec, '-odd/peers.json', 'on test', async () => 'done'), 'done');
  assert.deepEqual(seen, [['mkdir', '--', '-odd/peers.json.lock'], ['rmdir', '--', '-odd/peers.json.lock']]);
  await assert.rejects(withMkdirLock(exec, '/p', 'on test', () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(held.size, 0, 'released after fn failed');
  held.add('/busy.lock');
  await assert.rejects(withMkdirLock(exec, '/busy', 'in compose x', async () => 'never', 200), (e: { code?: string; message?: string }) => e.code === 'CONFLICT' && /\/busy is locked by another writer in compose x \(\/busy\.lock exists; remove it if no writer is running\)/.test(e.message ?? ''));
});
