// `firebreak assess vault-audit --incident`: the assessment run by hand stored as evidence of an open incident (a
// file with its SHA-256, the incident's timeline, the report, the audit trail under the person's name); an incident
// that does not exist or is closed refused before the logs are read.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { openApp } from '../../src/app/app-open.ts';
import { definePlaybook } from '../../src/engine/playbook-types.ts';
import type { Assessment } from '../../src/assess/vault-audit-types.ts';
import { run } from '../e2e/cli-helpers.ts';
import { pair } from './assess-entries.ts';

const noop = definePlaybook<{ n: number }, null>({
  id: 'test-noop', title: 'Test', summary: 'test', version: 1, incidentKind: 'vault-breach', severity: 'high',
  input: z.object({ n: z.number() }), rto: {}, connect: async () => null,
  steps: [{ id: 'look', title: 'Look', phase: 'assessment', system: 'test', effect: 'read', idempotency: 'natural', apply: async () => ({ ok: true }) }],
});

/** A state directory with two incidents (one closed) and an audit log beside it. */
async function setUp(t: TestContext): Promise<{ dir: string; log: string; open: string; closed: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-inc-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  writeFileSync(join(dir, 'firebreak.yaml'), 'version: 1\nstateDir: state\n');
  const log = join(dir, 'audit.log');
  writeFileSync(log, `${[...pair({ path: 'secret/data/tenants/acme/smtp' }), ...pair({ path: 'secret/data/tenants/beta/smtp' })].join('\n')}\n`);
  const app = await openApp({ configPath: join(dir, 'firebreak.yaml'), playbooks: [noop] });
  try {
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const h = await app.start({ playbook: 'test-noop', input: { n }, initiator: 'alice', yes: true });
      assert.equal((await h.outcome).status, 'completed');
      ids.push(h.incidentId ?? '');
    }
    await app.closeIncident(ids[1] ?? '', 'alice', 'reviewed');
    return { dir, log, open: ids[0] ?? '', closed: ids[1] ?? '' };
  } finally {
    await app.close();
  }
}

test('--incident stores the assessment as evidence: the file\'s SHA-256 as printed, in the timeline and the report, audited under the person\'s name', async (t) => {
  const { dir, log, open } = await setUp(t);
  const r = await run(['assess', 'vault-audit', '--log', log, '--all', '--incident', open, '--as', 'bob', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Assessment;
  assert.deepEqual(out.tenants.affected.map((a) => a.tenant), ['acme', 'beta']);
  const ev = out.evidence;
  assert.ok(ev !== undefined);
  assert.equal(ev.incidentId, open);
  const body = readFileSync(join(dir, 'state', ev.ref));
  assert.equal(createHash('sha256').update(body).digest('hex'), ev.sha256);
  const stored = JSON.parse(body.toString('utf8')) as { name: string; data: Assessment };
  assert.equal(stored.name, 'vault-audit-assessment');
  assert.deepEqual(stored.data.tenants, out.tenants);
  assert.equal(stored.data.evidence, undefined, 'the stored assessment does not cite itself');

  const app = await openApp({ configPath: join(dir, 'firebreak.yaml'), playbooks: [noop] });
  try {
    const files = await app.queries.evidence(open);
    assert.deepEqual(files.map((f) => [f.name, f.sha256, f.step]), [['vault-audit-assessment', ev.sha256, 'assess-vault-audit']]);
    const report = await app.queries.report(open);
    assert.ok(report.evidence.some((e) => e.sha256 === ev.sha256));
    const audited = (await app.queries.auditTail({ lines: 5 })).filter((e) => e.kind === 'evidence.captured');
    assert.deepEqual(audited.map((e) => [e.actor, e.incidentId, e.data?.['sha256']]), [['bob', open, ev.sha256]]);
  } finally {
    await app.close();
  }

  // The readable form says where it went.
  const text = await run(['assess', 'vault-audit', '--log', log, '--all', '--incident', open], { cwd: dir });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`Stored as evidence of incident ${open}: evidence/\\S+ \\(SHA-256 [0-9a-f]{64}\\)`));
});

test('--incident naming no incident, or a closed one, is refused before the logs are read', async (t) => {
  const { dir, closed } = await setUp(t);
  // The log does not exist: the incident is checked first, so its error is the one reported.
  const missing = await run(['assess', 'vault-audit', '--log', join(dir, 'nope.log'), '--all', '--incident', 'inc-nope'], { cwd: dir });
  assert.equal(missing.code, 4, missing.stderr);
  assert.match(missing.stderr, /no incident "inc-nope"/);
  const shut = await run(['assess', 'vault-audit', '--log', join(dir, 'nope.log'), '--all', '--incident', closed], { cwd: dir });
  assert.equal(shut.code, 5, shut.stderr);
  assert.match(shut.stderr, new RegExp(`--incident ${closed}: the incident is closed`));
});
