import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { cli, run, until, type CliResult } from './cli-helpers.ts';

interface Login { url: string; username?: string; provisioner?: string; password: string }
interface LabUp {
  dir: string; config: string; tenant: string; devices: string[]; removeOnExit: boolean; examples: string[];
  simulators: Record<'thingsboard' | 'hawkbit' | 'step-ca' | 'provider-ca', Login> & { vault: Login & { caFile: string } };
}

/** Starts `firebreak lab up --json …` and waits for its JSON line (the lab is up when it is printed). */
async function labUp(t: { after: (fn: () => void) => void }, args: string[] = []): Promise<{ lab: LabUp; stop: (signal: NodeJS.Signals) => Promise<CliResult> }> {
  const { child, done } = cli(['lab', 'up', '--json', ...args]);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  let exited = false;
  void done.then(() => { exited = true; });
  t.after(() => { if (!exited) child.kill('SIGKILL'); });
  await until('lab up prints its JSON line', () => stdout.includes('\n') || exited, 60_000);
  if (exited) assert.fail(`lab up exited early: ${JSON.stringify(await done)}`);
  const lab = JSON.parse(stdout.split('\n')[0] ?? '') as LabUp;
  return { lab, stop: async (signal) => { child.kill(signal); return done; } };
}

test('lab up --json: fixed credentials work against the simulators, a playbook plans against the printed config, SIGINT stops it and removes its temp dir', async (t) => {
  const { lab, stop } = await labUp(t);
  assert.equal(lab.removeOnExit, true);
  assert.ok(existsSync(lab.config), 'the printed configuration exists');
  assert.deepEqual(lab.devices, ['device-001', 'device-002', 'device-003']);
  assert.equal(lab.simulators.thingsboard.username, 'tenant@thingsboard.org');
  assert.equal(lab.simulators.thingsboard.password, 'tenant');
  assert.equal(lab.simulators.hawkbit.username, 'admin');
  assert.match(lab.examples[0] ?? '', /^firebreak --config \S+firebreak\.yaml plan device-compromise --tenant acme --device device-001$/);

  // The user's own tools: ThingsBoard login with the printed credentials, hawkBit with HTTP Basic.
  const tb = lab.simulators.thingsboard;
  const login = await fetch(`${tb.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: tb.username, password: tb.password }) });
  assert.equal(login.status, 200);
  const { token } = await login.json() as { token: string };
  const device = await fetch(`${tb.url}/api/tenant/devices?deviceName=device-001`, { headers: { 'x-authorization': `Bearer ${token}` } });
  assert.equal(device.status, 200);
  assert.equal((await device.json() as { name: string }).name, 'device-001');
  const wrong = await fetch(`${tb.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: tb.username, password: 'not-it' }) });
  assert.equal(wrong.status, 401, 'the simulator still checks the password');
  const hb = lab.simulators.hawkbit;
  const targets = await fetch(`${hb.url}/rest/v1/targets`, { headers: { authorization: `Basic ${Buffer.from(`${hb.username ?? ''}:${hb.password}`).toString('base64')}` } });
  assert.equal(targets.status, 200);
  // Vault serves HTTPS: the printed CA file is what the user's client trusts (VAULT_CACERT).
  const vault = lab.simulators.vault;
  assert.match(vault.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const dispatcher = new Agent({ connect: { ca: readFileSync(vault.caFile, 'utf8') } });
  t.after(() => dispatcher.close());
  const health = await undiciFetch(`${vault.url}/v1/sys/health`, { dispatcher });
  assert.equal(health.status, 200);
  assert.ok(lab.examples.includes(`VAULT_ADDR=${vault.url} VAULT_CACERT=${vault.caFile} vault status`), lab.examples.join('\n'));

  // Firebreak itself, from another process, against the printed configuration.
  const plan = await run(['--config', lab.config, 'plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--json']);
  assert.equal(plan.code, 0, plan.stderr);
  const entries = (JSON.parse(plan.stdout) as { entries: { system: string }[] }).entries;
  assert.ok(entries.some((e) => e.system === 'thingsboard') && entries.some((e) => e.system === 'step-ca'), plan.stdout);

  const ended = await stop('SIGINT');
  assert.equal(ended.code, 0, ended.stderr);
  assert.equal(existsSync(lab.dir), false, 'its temporary directory is removed');
  const gone = await fetch(`${tb.url}/api/auth/login`, { method: 'POST' }).then(() => 'answered', (err: unknown) => String(err));
  assert.notEqual(gone, 'answered', 'the simulators are stopped');
});

test('lab up --dir keeps the files after SIGTERM; --devices sizes the tenant; bad --devices is refused', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'fb-labup-'));
  t.after(() => { rmSync(parent, { recursive: true, force: true }); });
  const dir = join(parent, 'lab');
  const { lab, stop } = await labUp(t, ['--dir', dir, '--devices', '5']);
  assert.equal(lab.dir, dir);
  assert.equal(lab.removeOnExit, false);
  assert.equal(lab.devices.length, 5);
  const ended = await stop('SIGTERM');
  assert.equal(ended.code, 0, ended.stderr);
  assert.ok(existsSync(join(dir, 'firebreak.yaml')), 'a --dir lab is left in place');

  const bad = await run(['lab', 'up', '--devices', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--devices must be a number from 1 to 100000 \(got "lots"\)/);
});
