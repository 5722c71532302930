import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/report/report-render.ts';
import type { IncidentReport } from '../../src/report/report-model.ts';

const hostile = '<script>alert(1)</script> | `x`';
const report: IncidentReport = {
  generatedAt: '2026-11-25T00:00:10.000Z',
  incident: { id: 'INC-1', kind: 'device-compromise', title: `Compromised device: ${hostile}`, severity: 'high', status: 'contained', detectedAt: '2026-11-25T00:00:00.000Z', openedAt: '2026-11-25T00:00:00.000Z', closedAt: null, entities: [{ type: 'device', id: hostile }], rto: { containment: 300_000 } },
  timeline: [{ ts: '2026-11-25T00:00:01.000Z', kind: 'run.started', message: `run r1 started for ${hostile}`, data: {} }],
  phases: [{ phase: 'containment', targetMs: 300_000, completedAt: '2026-11-25T00:06:00.000Z', elapsedMs: 360_000, met: false }],
  runs: [{ id: 'r1', playbook: 'device-compromise', status: 'failed', initiator: 'alice', createdAt: '2026-11-25T00:00:01.000Z', endedAt: '2026-11-25T00:06:00.000Z', planHash: 'ab'.repeat(32), error: { code: 'UNAVAILABLE', message: 'hawkbit down', retryable: true },
    actions: [{ stepId: 'delete-hawkbit-target', title: 'Delete the OTA target', phase: 'containment', system: 'hawkbit', effect: 'irreversible', status: 'failed', attempts: 4, startedAt: null, endedAt: null, durationMs: null, error: { code: 'UNAVAILABLE', message: `answered 503 ${hostile}`, retryable: true } }],
    approvals: [{ step: 'delete-hawkbit-target', approver: 'bob', at: '2026-11-25T00:00:02.000Z', auto: false, planHash: 'ab'.repeat(32) }], failures: [] }],
  evidence: [], remaining: [`r1: Delete the OTA target failed: ${hostile}`], audit: { entries: 12, verified: true, detail: 'intact' },
};

test('HTML escapes everything that came from the outside', () => {
  const html = renderReport(report, 'html');
  assert.ok(!html.includes('<script>alert(1)</script>'));
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /class="MISSED">MISSED/);
});

test('Markdown keeps tables intact, states missed RTOs, failures, approvals; JSON round-trips', () => {
  const md = renderReport(report, 'md');
  assert.match(md, /\| containment \| 5 min 0 s \| 6 min 0 s \| 2026-11-25T00:06:00.000Z \| MISSED \|/);
  assert.match(md, /\| Delete the OTA target \| containment \| hawkbit \| irreversible \| failed: answered 503 <script>alert\(1\)<\/script> \\\| `x` \| 4 \|/);
  assert.match(md, /- delete-hawkbit-target: approved by bob at/);
  assert.match(md, /## Failures and what remains\n\n- r1: Delete the OTA target failed/);
  assert.deepEqual(JSON.parse(renderReport(report, 'json')), JSON.parse(JSON.stringify(report)));
});
