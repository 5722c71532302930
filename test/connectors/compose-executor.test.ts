import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComposeExecutor } from '../../src/connectors/executor/compose-executor.ts';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import type { ExecRequest, Executor } from '../../src/connectors/executor/executor-types.ts';
import { removeFromPeersJson } from '../../src/connectors/wireguard/peers-json.ts';

/**
 * No Docker engine runs here: this host executor records the `docker compose
 * exec` command line and then runs the in-container part locally, so the
 * argv Firebreak builds and the shell it sends into the container are both
 * exercised for real.
 */
function fakeDockerHost(seen: ExecRequest[]): Executor {
  const local = createLocalExecutor();
  return {
    ...local,
    describe: 'recording host',
    exec: async (req) => {
      seen.push(req);
      const i = req.argv.indexOf('-T');
      const args = req.argv.slice(i + 1);
      while (args[0] === '-e' || args[0] === '-w') args.splice(0, 2);
      return local.exec({ argv: args.slice(1), ...(req.stdin === undefined ? {} : { stdin: req.stdin }) });
    },
  };
}

test('compose executor: docker compose exec -T in the project directory, files replaced atomically inside the container', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-compose-'));
  try {
    const seen: ExecRequest[] = [];
    const ex = createComposeExecutor({ projectDir: '/srv/tenant-stack', service: 'tenant-iot-bridge-api' }, { via: fakeDockerHost(seen) });
    const r = await ex.exec({ argv: ['echo', "it's $(not) expanded"], env: { A: 'b' } });
    assert.equal(r.stdout, "it's $(not) expanded\n");
    assert.deepEqual(seen[0]?.argv, ['docker', 'compose', 'exec', '-T', '-e', 'A=b', 'tenant-iot-bridge-api', 'echo', "it's $(not) expanded"]);
    assert.equal(seen[0]?.cwd, '/srv/tenant-stack');

    const file = join(dir, 'cdm_peers.json');
    writeFileSync(file, '{\n  "peers": {\n    "device-001": {"publicKey": "k1"},\n    "device-002": {"publicKey": "k2"}\n  }\n}\n');
    chmodSync(file, 0o640);
    assert.deepEqual(await removeFromPeersJson(ex, file, 'device-001'), { removed: { publicKey: 'k1' } });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { peers: { 'device-002': { publicKey: 'k2' } } });
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.ok(seen.some((s) => s.argv.includes('mkdir')), 'the lock is taken inside the container');
    await assert.rejects(ex.readFile(join(dir, 'missing')), (e: { code?: string }) => e.code === 'NOT_FOUND');
    await assert.rejects(ex.exec({ argv: ['definitely-not-a-command-xyz'] }), /definitely-not-a-command-xyz not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
