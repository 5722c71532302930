import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AppQueries, type AuditReader, type IncidentReader, type JournalReader } from '../../src/app/app-queries.ts';
import type { RecordedEvent, RunRecord, StepRecord } from '../../src/engine/runtime-types.ts';
import type { Incident, IncidentEvent } from '../../src/incidents/incident-store.ts';
import type { AuditEntry } from '../../src/audit/audit-log.ts';

const T0 = '2026-11-25T00:00:00.000Z';
const INC_ID = 'INC-20261125-abc123';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

const run = (id: string, o: Partial<RunRecord> = {}): RunRecord => ({
  id, workflow: 'device-compromise', incidentId: INC_ID, input: {}, status: 'completed', initiator: 'alice', createdAt: at(1), updatedAt: at(9), endedAt: at(9), owner: null, result: null, error: null, ...o,
});
const step = (runId: string, stepId: string, o: Partial<StepRecord> = {}): StepRecord => ({
  runId, stepId, parentId: null, kind: 'step', status: 'completed', attempts: 1, meta: {}, output: null, error: null, startedAt: at(2), endedAt: at(3), ...o,
});

const RUNS = [run('run-20261125-aaaa0001'), run('run-20261125-aaaa0002', { status: 'waiting', endedAt: null }), run('run-20261126-bbbb0001', { incidentId: null })];
const STEPS: Record<string, StepRecord[]> = {
  'run-20261125-aaaa0001': [
    step('run-20261125-aaaa0001', 'plan', { output: { playbook: 'device-compromise', version: 1, hash: 'ab'.repeat(32), entries: [] } }),
    // A store's row carries more than the record (a sealed value): the queries hand out the record only.
    { ...step('run-20261125-aaaa0001', 'revoke-certificate', { output: { outcome: 'applied', verified: 'revoked' }, meta: { title: 'Revoke', phase: 'containment' } }), sealed: 'v1:secret-ciphertext' } as StepRecord,
    step('run-20261125-aaaa0001', 'delete-target', { output: { outcome: 'already' } }),
    step('run-20261125-aaaa0001', 'notify', { status: 'failed', error: { code: 'UNAVAILABLE', message: 'down', retryable: true } }),
    step('run-20261125-aaaa0001', 'approve-revoke-certificate', { kind: 'signal', output: { approver: 'bob', planHash: 'ab'.repeat(32) } }),
  ],
  'run-20261125-aaaa0002': [step('run-20261125-aaaa0002', 'plan', { status: 'failed', output: null })],
};
const EVENTS: RecordedEvent[] = [
  { id: 1, at: at(1), event: { type: 'run', runId: 'run-20261125-aaaa0001', status: 'running' } },
  { id: 2, at: at(1), event: { type: 'step', runId: 'run-20261125-aaaa0001', stepId: 'x', parentId: null, kind: 'generate', status: 'completed', attempt: 1, meta: {} } },
  { id: 3, at: at(2), event: { type: 'signal', runId: 'run-20261125-aaaa0001', stepId: 'approve-x', name: 'approve:x', payload: { approver: 'bob' } } },
  { id: 4, at: at(2), event: { type: 'step', runId: 'run-20261125-aaaa0001', stepId: 'plan', parentId: null, kind: 'step', status: 'completed', attempt: 1, meta: {} } },
  { id: 5, at: at(3), event: { type: 'run', runId: 'run-20261125-aaaa0002', status: 'running' } },
];

const later = <T>(v: T): Promise<T> => new Promise((r) => setImmediate(() => { r(v); }));

/** A journal that answers asynchronously, as a runtime over another database would. */
const journal: JournalReader = {
  getRun: (id) => later(RUNS.find((r) => r.id === id)),
  findRuns: (prefix) => later(RUNS.filter((r) => r.id.startsWith(prefix))),
  listRuns: (f = {}) => later(RUNS.filter((r) => (f.incidentId === undefined || r.incidentId === f.incidentId) && (f.status === undefined || r.status === f.status)).reverse().slice(0, f.limit ?? 100)),
  getStep: (runId, stepId) => later(STEPS[runId]?.find((s) => s.stepId === stepId)),
  listSteps: (runId) => later(STEPS[runId] ?? []),
  attempts: (runId) => later((STEPS[runId] ?? []).map((s) => ({ stepId: s.stepId, attempt: 1, startedAt: s.startedAt ?? T0, endedAt: s.endedAt, outcome: s.status, error: s.error }))),
  signals: (runId) => later(runId === 'run-20261125-aaaa0001' ? [{ name: 'approve:revoke-certificate', payload: { approver: 'bob', note: 'private' }, createdAt: at(2), consumedBy: 'approve-revoke-certificate' }] : []),
  events: (f) => later(EVENTS.filter((e) => (f.runId === undefined || e.event.runId === f.runId) && e.id > (f.afterId ?? 0)).slice(0, f.limit ?? 1000)),
};

const INCIDENT: Incident = { id: INC_ID, kind: 'device-compromise', title: 'Compromised device', severity: 'high', status: 'contained', detectedAt: T0, openedAt: T0, closedAt: null, entities: [], rto: { containment: 300_000 } };
const TIMELINE: IncidentEvent[] = [
  { ts: at(1), kind: 'run.started', message: 'run started', data: {} },
  { ts: at(4), kind: 'evidence.captured', message: 'evidence wireguard-peer captured by remove-peer', data: { name: 'wireguard-peer', ref: 'evidence/INC-1/run-1/remove-peer.wireguard-peer.json', sha256: 'cd'.repeat(32) } },
  { ts: at(5), kind: 'phase.completed', message: 'containment completed', data: { phase: 'containment' } },
];
const incidents: IncidentReader = {
  get: (ref) => {
    if (INCIDENT.id.includes(ref)) return INCIDENT;
    throw Object.assign(new Error(`no incident "${ref}"`), { code: 'NOT_FOUND' });
  },
  list: () => [INCIDENT],
  events: (id) => later(id === INCIDENT.id ? TIMELINE : []),
};

const ENTRIES: AuditEntry[] = [1, 2, 3, 4].map((seq) => ({ seq, ts: at(seq), hash: `h${seq}`, kind: 'run.requested', actor: 'alice', ...(seq % 2 === 0 ? { incidentId: INCIDENT.id } : {}) }));
const audit: AuditReader = {
  verify: () => Promise.resolve({ ok: false, entries: 3, checkpoints: 1, firstBad: { seq: 4, reason: 'hash mismatch' }, problems: [{ seq: 4, reason: 'hash mismatch' }], warnings: [] }),
  list: (f = {}) => ENTRIES.filter((e) => f.incidentId === undefined || e.incidentId === f.incidentId),
  tail: (n) => ENTRIES.slice(-n),
  export: (out) => { out.end('{"seq":1}\n'); return Promise.resolve(1); },
};

const queries = new AppQueries({ journal, incidents, audit, playbooks: [], settings: { stateDir: '/var/lib/firebreak' } });

const plain = (v: unknown) => { assert.deepEqual(JSON.parse(JSON.stringify(v)), v, 'plain JSON data'); };

test('a run by id or unique prefix; an ambiguous or unknown prefix is refused with its code', async () => {
  assert.equal((await queries.run('run-20261125-aaaa0002')).status, 'waiting');
  assert.equal((await queries.run('run-20261126')).id, 'run-20261126-bbbb0001');
  await assert.rejects(queries.run('run-20261125'), (e: unknown) => (e as { code?: string }).code === 'CONFLICT' && /ambiguous: run-20261125-aaaa0001, run-20261125-aaaa0002/.test(String(e)));
  await assert.rejects(queries.run('run-2027'), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
});

test('runs of an incident given by a part of its id, newest first', async () => {
  const list = await queries.runs({ incident: 'abc123' });
  assert.deepEqual(list.map((r) => r.id), ['run-20261125-aaaa0002', 'run-20261125-aaaa0001']);
  await assert.rejects(queries.runs({ incident: 'nope' }), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
  const all = await queries.runs({ status: 'completed' });
  assert.deepEqual(all.map((r) => r.id), ['run-20261126-bbbb0001', 'run-20261125-aaaa0001']);
});

test('a run\'s detail is plain data: no sealed values, no signal payloads', async () => {
  const d = await queries.runDetail('run-20261125-aaaa0001');
  plain(d);
  assert.equal(d.steps.length, 5);
  assert.ok(d.steps.every((s) => !('sealed' in s)), 'the sealed value stays in the store');
  assert.ok(!JSON.stringify(d).includes('secret-ciphertext'));
  assert.deepEqual(d.signals, [{ name: 'approve:revoke-certificate', createdAt: at(2), consumedBy: 'approve-revoke-certificate' }]);
  assert.equal(d.attempts.length, 5);
});

test('a run\'s summary counts what it applied, found in place, verified and failed', async () => {
  const s = await queries.runSummary('run-20261125-aaaa0001');
  assert.deepEqual({ applied: s.applied, alreadyDone: s.alreadyDone, verified: s.verified, failed: s.failed, durationMs: s.durationMs, planRefused: s.planRefused }, { applied: 1, alreadyDone: 1, verified: 1, failed: 1, durationMs: 8000, planRefused: false });
  assert.equal((await queries.runSummary('run-20261125-aaaa0002')).planRefused, true);
});

test('a run\'s plan once made; a refused or missing plan is null with the plan step\'s status', async () => {
  const p = await queries.plan('run-20261125-aaaa0001');
  assert.equal(p.status, 'completed');
  assert.equal(p.plan?.hash, 'ab'.repeat(32));
  assert.deepEqual(await queries.plan('run-20261125-aaaa0002'), { runId: 'run-20261125-aaaa0002', status: 'failed', plan: null });
  assert.deepEqual(await queries.plan('run-20261126-bbbb0001'), { runId: 'run-20261126-bbbb0001', status: null, plan: null });
});

test('progress recorded so far counts what a follower is delivered (no signals, no generated values)', async () => {
  assert.equal(await queries.progressRecorded('run-20261125-aaaa0001'), 2);
  assert.equal(await queries.progressRecorded('run-20261126-bbbb0001'), 0);
});

test('evidence of an incident with its file on this host; the report built from the queries alone', async () => {
  const ev = await queries.evidence('abc123');
  assert.deepEqual(ev, [{ name: 'wireguard-peer', ref: 'evidence/INC-1/run-1/remove-peer.wireguard-peer.json', sha256: 'cd'.repeat(32), step: 'remove-peer', at: at(4), path: '/var/lib/firebreak/evidence/INC-1/run-1/remove-peer.wireguard-peer.json' }]);
  const unchecked = await queries.report('abc123', { now: new Date(at(100)) });
  plain(unchecked);
  assert.deepEqual(unchecked.audit, { entries: 0, verified: null, detail: 'not checked here' });
  assert.deepEqual(unchecked.phases.map((p) => [p.phase, p.met]), [['containment', true]]);
  const checked = await queries.report(INCIDENT.id, { verifyAudit: true });
  assert.deepEqual(checked.audit, { entries: 3, verified: false, detail: 'first bad entry #4: hash mismatch' });
});

test('the report lists an incident\'s runs oldest first, with what remains', async () => {
  const r = await queries.report('abc123');
  assert.deepEqual(r.runs.map((x) => x.id), ['run-20261125-aaaa0001', 'run-20261125-aaaa0002']);
  assert.equal(r.runs[0]?.planHash, 'ab'.repeat(32));
  assert.deepEqual(r.runs[0]?.approvals.map((a) => [a.step, a.approver]), [['revoke-certificate', 'bob']]);
  assert.ok(r.remaining.includes('run-20261125-aaaa0002: run is waiting (firebreak resume run-20261125-aaaa0002)'), r.remaining.join('\n'));
  assert.ok(r.remaining.some((x) => x.startsWith('run-20261125-aaaa0001: notify failed')), r.remaining.join('\n'));
});

test('audit tail: the latest entries, of one incident when asked; a count that is not positive is refused', async () => {
  assert.deepEqual((await queries.auditTail({ lines: 2 })).map((e) => e.seq), [3, 4]);
  assert.deepEqual((await queries.auditTail({ lines: 5, incident: 'abc123' })).map((e) => e.seq), [2, 4]);
  await assert.rejects(queries.auditTail({ lines: 0 }), (e: unknown) => (e as { code?: string }).code === 'USAGE');
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (d: Buffer) => { text += d.toString(); });
  assert.equal(await queries.auditExport(sink), 1);
  assert.equal(text, '{"seq":1}\n');
});
