import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFor, run } from './cli-helpers.ts';

const DC = ['device-compromise', '--tenant', 'acme', '--device', 'device-001'];

test('run --idempotency-key: a repeated trigger joins the first run instead of opening a second incident', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const first = await run([...c, 'run', ...DC, '--yes', '--idempotency-key', 'alert-4711', '--json']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const a = JSON.parse(first.stdout) as { runId: string; incidentId: string; status: string; duplicate?: boolean };
  assert.equal(a.status, 'completed');
  assert.equal(a.duplicate, undefined, 'the first start is not a duplicate');

  // The retried alert, in human form: it says that it joined, follows the run and ends as the run ended.
  const again = await run([...c, 'run', ...DC, '--yes', '--idempotency-key', 'alert-4711']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, new RegExp(`Joined run ${a.runId} of incident ${a.incidentId}: an earlier start with idempotency key "alert-4711" made it`));
  assert.match(again.stdout, new RegExp(`Run ${a.runId} completed`));

  const json = await run([...c, 'run', ...DC, '--yes', '--idempotency-key', 'alert-4711', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((({ runId, incidentId, status, duplicate }) => ({ runId, incidentId, status, duplicate }))(JSON.parse(json.stdout) as typeof a), { runId: a.runId, incidentId: a.incidentId, status: 'completed', duplicate: true });

  const runs = JSON.parse((await run([...c, 'runs', 'list', '--json'])).stdout) as { id: string }[];
  assert.deepEqual(runs.map((r) => r.id), [a.runId], 'one run');
  const incidents = JSON.parse((await run([...c, 'incidents', 'list', '--json'])).stdout) as { id: string }[];
  assert.deepEqual(incidents.map((i) => i.id), [a.incidentId], 'one incident');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200).length, 1, 'the device was deleted once');
});
