import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { filesBelow, labFor, run } from './cli-helpers.ts';

test('canary: no secret reaches logs, CLI output, errors, the journal, audit entries, evidence or reports', async (t) => {
  const lab = await labFor(t);
  const config = readFileSync(lab.configPath, 'utf8');
  const canaries = [...config.matchAll(/value: (\S+)/g)].map((m) => m[1] ?? '').filter((v) => v.length >= 12);
  assert.equal(canaries.length, 4, 'the tenant and provider CA provisioners\', ThingsBoard\'s and hawkBit\'s passwords');
  const envCanary = 'CANARY-env-7f3a9c1e5b2d';
  const c = ['--config', lab.configPath, '--verbose'];
  const outputs: string[] = [];
  const keep = <R extends { stdout: string; stderr: string }>(r: R): R => { outputs.push(r.stdout, r.stderr); return r; };

  keep(await run([...c, 'plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001']));
  const ran = keep(await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--yes', '--json']));
  const { runId, incidentId } = JSON.parse(ran.stdout) as { runId: string; incidentId: string };
  keep(await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-002', '--yes']));
  keep(await run([...c, 'runs', 'show', runId, '--json']));
  keep(await run([...c, 'runs', 'list', '--json']));
  keep(await run([...c, 'incidents', 'timeline', incidentId, '--json']));
  for (const f of ['md', 'html', 'json']) keep(await run([...c, 'report', incidentId, '--format', f]));
  // subca-compromise hands each device a one-time token of the tenant CA: it goes to the device, nowhere else.
  const subca = keep(await run([...c, 'run', 'subca-compromise', '--tenant', 'acme', '--yes']));
  assert.equal(subca.code, 0, subca.stdout + subca.stderr);
  const tb = lab.simulators.thingsboard;
  const tokens = [...tb.attributes.values()].map((a) => (a.SHARED_SCOPE.get('enrollment')?.value as { token?: string } | undefined)?.token).filter((x): x is string => x !== undefined);
  assert.equal(tokens.length, lab.devices.length - 2, 'every device left after two compromises got a token');
  canaries.push(...tokens);
  keep(await run([...c, 'audit', 'export']));
  keep(await run([...c, 'audit', 'tail', '-n', '100', '--json']));

  // Failure paths: a wrong ThingsBoard password (login refused) and a missing credential variable.
  writeFileSync(lab.configPath, config.replace(/(username: tenant@acme\.lab\n\s+password:\n\s+value: ).*/, `$1${envCanary}`));
  const refused = keep(await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-003', '--yes']));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /refused the login of tenant@acme\.lab/);
  writeFileSync(lab.configPath, config);

  assert.ok(outputs.join('').includes('"level":"debug"'), '--verbose produced debug logs to scan');
  const stored = filesBelow(lab.dir, [lab.configPath]) /* the lab's own config holds its inline secrets by design */.map((p) => ({ p, text: readFileSync(p).toString('latin1') }));
  assert.ok(stored.some((s) => s.p.endsWith('firebreak.db')), 'the journal database is scanned');
  assert.ok(stored.some((s) => s.p.includes('/evidence/')), 'evidence files are scanned');
  for (const secret of [...canaries, envCanary]) {
    for (const [i, o] of outputs.entries()) assert.ok(!o.includes(secret), `secret leaked in CLI output #${i}: …${o.slice(Math.max(0, o.indexOf(secret) - 80), o.indexOf(secret) + 20)}`);
    for (const s of stored) assert.ok(!s.text.includes(secret), `secret leaked into ${s.p}`);
  }
});
