// The generator of bench/assess writes a synthetic audit log in the real lines' shapes (several Vault eras, KMIP,
// syslog prefixes, lines of megabytes, damaged lines) with a breach planted in it, and the exact answer beside it:
// the assessment must find that answer, field by field, in one pass and in ranges on threads.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import { generateLog } from '../../bench/assess/generate-log.ts';
import { BENCH_OPTIONS, differences } from '../../bench/assess/log-answer.ts';
import { sharedFile } from '../helpers/shared.ts';

function dirFor(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-planted-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

test('the planted breach of a generated 24 MiB log is found exactly, in one pass and in ranges on two threads', async (t) => {
  const samples = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (samples === undefined) return;
  const out = join(dirFor(t), 'audit.log');
  const answer = generateLog({ size: 24 * 2 ** 20, out, seed: 7, samples });
  const one = await assessVaultAudit([out], BENCH_OPTIONS, undefined, { workers: 1 });
  assert.deepEqual(differences(answer, one), []);
  const ranges = await assessVaultAudit([out], BENCH_OPTIONS, undefined, { workers: 2, chunk: 2 ** 20 });
  assert.deepEqual(ranges, one);

  // What an incident lead reads first: the planted tenants, and the attacker's address and accessor on the listed events.
  const { breach } = answer.generator;
  assert.deepEqual(one.tenants.affected.map((a) => a.tenant), [...breach.tenants].sort());
  assert.equal(one.tenants.scope, 'widespread');
  const fromAttacker = one.suspicious.events.filter((e) => e.remoteAddress === breach.attackerAddress);
  assert.ok(fromAttacker.some((e) => e.kinds.includes('failed-login')), 'the password spraying is listed');
  assert.ok(one.suspicious.events.some((e) => e.path === 'sys/audit/socket-siem' && e.operation === 'delete' && e.kinds.includes('root-policy') && e.kinds.includes('audit-change')), 'the audit device disabled with the root token is listed');
  assert.ok(one.suspicious.events.some((e) => e.accessor === breach.attackerAccessor && e.kinds.includes('permission-denied')), 'the stolen accessor\'s probes are listed');
  assert.ok(one.input.problems.total >= 3, `the damaged lines are counted (${one.input.problems.total})`);
});
