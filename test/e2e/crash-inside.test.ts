import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labFor, run } from './cli-helpers.ts';
import { crashInside } from '../helpers/crash-run.ts';
import { createCsr } from '../../src/lab/step-ca/step-ca-pki.ts';
import type { Simulator } from '../../src/lab/lab-server.ts';

// A SIGKILL inside every step that must take effect at most once: its effect
// has reached the target, the journal does not know it yet. Resuming must
// either recognise the effect (a natural check) or stop and ask the operator:
// never a silent second effect.

const calls = (sim: Simulator, method: string, path: string, status?: number) => sim.calls().filter((x) => x.method === method && x.path.split('?')[0] === path && (status === undefined || x.status === status)).length;
const json = <T>(stdout: string) => JSON.parse(stdout) as T;

test('device-compromise: killed inside each irreversible step, then resume: every effect once', async (t) => {
  const cases: { step: string; effects: (s: Record<'step-ca' | 'thingsboard' | 'hawkbit', Simulator>) => number }[] = [
    { step: 'revoke-certificate', effects: (s) => calls(s['step-ca'], 'POST', '/1.0/revoke', 200) },
    { step: 'delete-thingsboard-device', effects: (s) => s.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200).length },
    { step: 'delete-hawkbit-target', effects: (s) => s.hawkbit.calls().filter((x) => x.method === 'DELETE' && x.status < 300).length },
  ];
  for (const k of cases) {
    await t.test(`killed inside ${k.step}`, async (tt) => {
      const lab = await labFor(tt);
      const crashed = await crashInside(lab.configPath, k.step, 'device-compromise', { tenant: 'acme', device: 'device-001' });
      assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
      assert.equal(k.effects(lab.simulators), 1, 'the effect landed before the kill');
      const resumed = await run(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      assert.equal(json<{ status: string }>(resumed.stdout).status, 'completed');
      assert.equal(k.effects(lab.simulators), 1, 'and was not repeated by the resume');
    });
  }
});

test('device-compromise: killed inside issue-replacement: the certificate file proves the signature; without it the resume stops in doubt (the CA refuses the token again) instead of signing twice, and the operator\'s word lets it sign', async (t) => {
  const lab = await labFor(t);
  const csr = join(lab.dir, 'device-001b.csr');
  const certOut = join(lab.dir, 'device-001b.crt');
  writeFileSync(csr, await createCsr('device-001b'));
  const c = ['--config', lab.configPath];
  const ca = lab.simulators['step-ca'];
  const input = { tenant: 'acme', device: 'device-001', replacement: 'device-001b', csr, certOut };
  const crashed = await crashInside(lab.configPath, 'issue-replacement', 'device-compromise', input);
  assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
  assert.equal(calls(ca, 'POST', '/1.0/sign', 201), 1);
  // The crash between the CA's answer and the certificate file: the signature happened, nothing shows it.
  rmSync(certOut);

  const resumed = await run([...c, 'resume', crashed.runId, '--detach']);
  assert.equal(resumed.code, 9, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /In doubt: step issue-replacement: .*may have been signed/);
  assert.match(resumed.stdout, new RegExp(`firebreak approve ${crashed.runId} --step issue-replacement`));
  assert.equal(calls(ca, 'POST', '/1.0/sign', 201), 1, 'not signed a second time');
  assert.equal(calls(ca, 'POST', '/1.0/sign', 401), 1, 'the same one-time token was refused');
  const plain = await run([...c, 'resume', crashed.runId, '--detach', '--yes']);
  assert.equal(plain.code, 9, '--yes is not the operator\'s word on a doubt');
  assert.equal(calls(ca, 'POST', '/1.0/sign', 201), 1);

  const confirmed = await run([...c, 'approve', crashed.runId, '--step', 'issue-replacement', '--json']);
  assert.equal(confirmed.code, 0, confirmed.stdout + confirmed.stderr);
  assert.equal(calls(ca, 'POST', '/1.0/sign', 201), 2, 'signed again only after the confirmation');
  assert.ok(existsSync(certOut));
});

test('device-compromise: killed inside issue-replacement after the file was written: the resume sees the certificate and signs nothing more', async (t) => {
  const lab = await labFor(t);
  const csr = join(lab.dir, 'device-001b.csr');
  writeFileSync(csr, await createCsr('device-001b'));
  const crashed = await crashInside(lab.configPath, 'issue-replacement', 'device-compromise', { tenant: 'acme', device: 'device-001', replacement: 'device-001b', csr, certOut: join(lab.dir, 'device-001b.crt') });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
  const resumed = await run(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(calls(lab.simulators['step-ca'], 'POST', '/1.0/sign', 201), 1);
});

test('subca-compromise: killed inside revoke-subca, the resume recognises the revocation; killed inside sign-subca, it stops in doubt instead of a second intermediate', async (t) => {
  await t.test('revoke-subca', async (tt) => {
    const lab = await labFor(tt);
    const provider = lab.simulators['provider-ca'];
    const crashed = await crashInside(lab.configPath, 'revoke-subca', 'subca-compromise', { tenant: 'acme' });
    assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
    const resumed = await run(['--config', lab.configPath, 'resume', crashed.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal(calls(provider, 'POST', '/1.0/revoke', 200), 1, 'revoked once');
    assert.equal(calls(provider, 'POST', '/1.0/sign', 201), 1, 'signed once');
  });
  await t.test('sign-subca', async (tt) => {
    const lab = await labFor(tt);
    const provider = lab.simulators['provider-ca'];
    const c = ['--config', lab.configPath];
    const crashed = await crashInside(lab.configPath, 'sign-subca', 'subca-compromise', { tenant: 'acme' });
    assert.equal(crashed.signal, 'SIGKILL', crashed.stdout + crashed.stderr);
    assert.equal(calls(provider, 'POST', '/1.0/sign', 201), 1);
    const resumed = await run([...c, 'resume', crashed.runId, '--detach', '--json']);
    assert.equal(resumed.code, 9, resumed.stdout + resumed.stderr);
    assert.equal(calls(provider, 'POST', '/1.0/sign', 201), 1, 'no second intermediate certificate');
    const show = json<{ steps: { stepId: string; status: string; meta: Record<string, unknown> }[] }>((await run([...c, 'runs', 'show', crashed.runId, '--json'])).stdout);
    const doubt = show.steps.find((s) => s.status === 'waiting');
    assert.equal(doubt?.meta['step'], 'sign-subca');
    assert.match(String(doubt?.meta['note']), /refused the one-time token .* may have been signed .* Look for it in the provider CA's database/);
    const confirmed = await run([...c, 'approve', crashed.runId, '--step', 'sign-subca', '--json']);
    assert.equal(confirmed.code, 0, confirmed.stdout + confirmed.stderr);
    assert.equal(calls(provider, 'POST', '/1.0/sign', 201), 2, 'signed again after the operator\'s word');
  });
});
