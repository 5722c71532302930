import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labFor, run } from './cli-helpers.ts';
import { parse, stringify } from 'yaml';

const DEVICE = ['device-compromise', '--tenant', 'acme', '--device', 'device-001'];

test('bad input is refused with a clear message, the right exit code, and nothing changed', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  writeFileSync(join(lab.dir, 'garbage.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  writeFileSync(join(lab.dir, 'not-pem.crt'), 'hello');
  const cases: [string[], number, RegExp][] = [
    [['plan', 'device-compromise', '--tenant', 'nope', '--device', 'device-001'], 4, /unknown tenant "nope"; firebreak.yaml defines: acme/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', '../../etc/passwd'], 4, /device "..\/..\/etc\/passwd" is unknown to tenant acme/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', `a'"; $(rm -rf /)`], 4, /is unknown to tenant acme/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'gerät-ü-🚀'], 4, /is unknown to tenant acme/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'x'.repeat(10_000)], 2, /device: device id is longer than 256 characters/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--serial', '12abz'], 2, /serial "12abz" is not a number/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', join(lab.dir, 'garbage.crt')], 2, /is not a valid X.509 certificate/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', join(lab.dir, 'not-pem.crt')], 2, /is not a PEM certificate/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', join(lab.dir, 'device-002.crt')], 2, /is for "device-002", not for device "device-001"/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', join(lab.dir, 'root_ca.crt')], 2, /was not issued by the acme Sub-CA/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', '/nonexistent.crt'], 2, /cannot read certificate \/nonexistent.crt: ENOENT/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--cert', 'a', '--serial', '1'], 2, /give --cert or --serial, not both/],
    [['plan', 'device-compromise', '--tenant', 'acme', '--devices', 'x'], 2, /has no input "--devices"; its inputs are: --tenant, --device/],
    [['plan', 'no-such-playbook'], 4, /no playbook "no-such-playbook"; known: device-compromise/],
    [['runs', 'show', 'run-does-not-exist'], 4, /no run "run-does-not-exist"/],
    [['runs', 'list', '--status', 'sideways'], 2, /--status must be one of pending, running/],
    [['incidents', 'show', 'INC-nope'], 4, /no incident "INC-nope"/],
    [['report', 'INC-nope', '--format', 'pdf'], 2, /--format must be one of md, html, json/],
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
  ];
  for (const [args, code, message] of cases) {
    const r = await run([...c, ...args]);
    assert.equal(r.code, code, `${args.join(' ').slice(0, 120)}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' ').slice(0, 120));
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.ts:\d+/, 'no stack trace for user errors');
  }
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0);
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.method === 'POST').length, 0);
  const hostile = lab.simulators.thingsboard.calls().map((x) => x.path).filter((p) => p.includes('deviceName='));
  assert.ok(hostile.some((p) => p.includes('deviceName=..%2F..%2Fetc%2Fpasswd')), 'the hostile id travelled as one encoded query value');
  assert.ok(lab.simulators.hawkbit.calls().some((x) => x.path === '/rest/v1/targets/..%2F..%2Fetc%2Fpasswd'), 'and as one encoded path segment');
});

test('a wrong CA provisioner password, an unreachable ThingsBoard and a malformed cdm_peers.json are each named', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const original = readFileSync(lab.configPath, 'utf8');
  writeFileSync(lab.configPath, original.replace(/(provisionerPassword:\n\s+value: ).*/, '$1wrong-password'));
  const wrong = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--yes', '--json']);
  assert.equal(wrong.code, 6, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, /cannot decrypt the key of provisioner \\"firebreak\\" at acme Sub-CA: wrong provisioner password\?/);

  writeFileSync(lab.configPath, original.replace(/url: (http:\/\/127\.0\.0\.1:\d+)\n(\s+username: tenant@)/, 'url: http://127.0.0.1:9\n$2'));
  const down = await run([...c, 'plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001']);
  assert.equal(down.code, 7, down.stderr);
  assert.match(down.stderr, /thingsboard at http:\/\/127\.0\.0\.1:9 is unreachable for POST \/?api\/auth\/login: ECONNREFUSED/);

  writeFileSync(lab.configPath, original);
  writeFileSync(join(lab.dir, 'cdm_peers.json'), '{"peers": {"device-001": ');
  const malformed = await run([...c, 'plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001']);
  assert.equal(malformed.code, 7, malformed.stderr);
  assert.match(malformed.stderr, /cdm_peers.json on lab wireguard host is not valid JSON .*; nothing was changed/);
  rmSync(join(lab.dir, 'cdm_peers.json'));
  const missing = await run([...c, 'plan', 'device-compromise', '--tenant', 'acme', '--device', 'device-001']);
  assert.equal(missing.code, 4, missing.stderr);
  assert.match(missing.stderr, /cannot read .*cdm_peers.json \(local\): ENOENT/);
});

test('config problems are listed as path: message with exit 3; init writes a file that check accepts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-cfg-'));
  try {
    const cfg = join(dir, 'firebreak.yaml');
    writeFileSync(cfg, 'version: 1\ntenants:\n  acme:\n    thingsboard: {url: "http://tb", username: u, password: hunter2}\n');
    const bad = await run(['--config', cfg, 'check']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /line 4: tenants\.acme\.thingsboard\.password: must be a reference: env:NAME, file:\/absolute\/path or vault:mount\/path#key/);
    assert.ok(!bad.stderr.includes('hunter2'), 'the inline secret is not echoed');
    const missing = await run(['--config', join(dir, 'nope.yaml'), 'runs']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /does not exist: create one with `firebreak init`/);
    const init = await run(['--config', join(dir, 'new.yaml'), 'init']);
    assert.equal(init.code, 0, init.stderr);
    const again = await run(['--config', join(dir, 'new.yaml'), 'init']);
    assert.equal(again.code, 5);
    const check = await run(['--config', join(dir, 'new.yaml'), 'check', '--no-probe', '--json']);
    assert.equal(check.code, 0, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { valid: boolean }).valid, true);
    const probe = await run(['--config', join(dir, 'new.yaml'), 'check', '--json'], { env: { ACME_TB_PASSWORD: 'x' } });
    assert.equal(probe.code, 7, 'example hosts do not resolve here');
    const systems = (JSON.parse(probe.stdout) as { systems: { system: string; ok: boolean; detail: string }[] }).systems;
    assert.ok(systems.some((s) => s.system === 'thingsboard credential' && s.ok));
    assert.ok(systems.some((s) => s.system === 'hawkbit credential' && !s.ok && /ACME_HAWKBIT_PASSWORD is not set/.test(s.detail)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help teaches with examples; NO_COLOR output has no escape codes; --version works', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Quick tour:/);
  assert.match(help.stdout, /Exit codes/);
  const runHelp = await run(['run', '--help']);
  assert.match(runHelp.stdout, /Examples:\n {2}firebreak run device-compromise --tenant acme --device device-001/);
  assert.match(runHelp.stdout, /--device <value> +device id/);
  for (const cmd of [['resume'], ['approve'], ['audit', 'export'], ['lab', 'up'], ['drill'], ['plan']]) {
    const h = await run([...cmd, '--help']);
    assert.equal(h.code, 0, cmd.join(' '));
    assert.match(h.stdout, new RegExp(`Examples:\n {2}(\\S+=\\S+ )?firebreak ${cmd.join(' ')}`), `${cmd.join(' ')} --help teaches by example`);
  }
  assert.ok(!help.stdout.includes('\u001b['));
  assert.match((await run(['--version'])).stdout, /^\d+\.\d+\.\d+/);
});

test('a gateway without `wg` stops the run before anything changes; a CA that does not answer fails its step while the other containment steps finish', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const original = readFileSync(lab.configPath, 'utf8');
  const edit = (f: (cfg: { tenants: { acme: { stepCa: { url: string }; wireguard: { executor: string } } } }) => void) => {
    const cfg = parse(original) as Parameters<typeof f>[0];
    f(cfg);
    writeFileSync(lab.configPath, stringify(cfg));
  };
  // No `wg` on the gateway (a PATH without it): the evidence of the peer cannot be taken, so nothing is deleted.
  edit((cfg) => { cfg.tenants.acme.wireguard.executor = 'local'; });
  const noWg = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--yes'], { env: { PATH: '/nonexistent' } });
  assert.equal(noWg.code, 7, noWg.stdout + noWg.stderr);
  assert.match(noWg.stdout, /UNAVAILABLE: wg \(wireguard-tools\) not found on local: install wireguard-tools there/);
  assert.doesNotMatch(noWg.stdout, /attempt 2/, 'a missing binary is not retried');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0);
  assert.equal(lab.simulators['step-ca'].calls().filter((x) => x.method === 'POST').length, 0);

  // The CA does not answer: its step fails after its retries, the independent branches complete.
  edit((cfg) => { cfg.tenants.acme.stepCa.url = 'http://127.0.0.1:9'; });
  const r = await run([...c, 'run', 'device-compromise', '--tenant', 'acme', '--device', 'device-001', '--yes', '--json']);
  assert.equal(r.code, 7, r.stdout);
  const out = JSON.parse(r.stdout) as { error: { details?: { failures?: { stepId: string; error: { message: string } }[] } } };
  const failures = Object.fromEntries((out.error.details?.failures ?? []).map((f) => [f.stepId, f.error.message]));
  assert.deepEqual(Object.keys(failures), ['revoke-certificate']);
  assert.match(failures['revoke-certificate'] ?? '', /step-ca at http:\/\/127\.0\.0\.1:9 is unreachable .*ECONNREFUSED/);
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE' && x.status === 200).length, 1, 'ThingsBoard device deleted');
  assert.equal(lab.simulators.hawkbit.calls().filter((x) => x.method === 'DELETE' && x.status < 300).length, 1, 'hawkBit target deleted');
});

test('an identity must name someone: empty, blank or control-character --as and $FIREBREAK_USER are refused before anything is recorded', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--as', '', 'run', ...DEVICE, '--yes'], {}, /--as is empty/],
    [['--as', '   ', 'run', ...DEVICE, '--yes'], {}, /--as is only whitespace/],
    [['--as', 'bob\u0007', 'run', ...DEVICE, '--yes'], {}, /--as contains a control or invisible formatting character/],
    [['--as', 'bob\u202e', 'run', ...DEVICE, '--yes'], {}, /--as contains a control or invisible formatting character/],
    [['--as', ' bob', 'run', ...DEVICE, '--yes'], {}, /--as has leading or trailing whitespace/],
    [['--as=', 'runs'], {}, /--as is empty/],
    [['run', ...DEVICE, '--yes'], { FIREBREAK_USER: '' }, /\$FIREBREAK_USER is empty/],
    [['run', ...DEVICE, '--yes'], { FIREBREAK_USER: '\t\n' }, /\$FIREBREAK_USER is only whitespace/],
    [['run', ...DEVICE, '--yes'], { FIREBREAK_USER: 'al\u001bice' }, /\$FIREBREAK_USER contains a control/],
  ];
  for (const [args, env, message] of cases) {
    const r = await run([...c, ...args], { env });
    assert.equal(r.code, 2, `${JSON.stringify(args)} ${JSON.stringify(env)}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /names who acts/);
  }
  const runs = JSON.parse((await run([...c, 'runs', '--json'])).stdout) as unknown[];
  assert.equal(runs.length, 0, 'no run was started');
  assert.equal(lab.simulators.thingsboard.calls().filter((x) => x.method === 'DELETE').length, 0);
});

test('an option that takes a value refuses another option in its place (--device --help, --tenant --yes) instead of acting on it', async (t) => {
  const lab = await labFor(t);
  const c = ['--config', lab.configPath];
  const cases: string[][] = [
    ['plan', 'device-compromise', '--tenant', 'acme', '--device', '--help'],
    ['run', 'device-compromise', '--tenant', 'acme', '--device', '--help'],
    ['plan', 'device-compromise', '--device', 'device-001', '--tenant', '--yes'],
    ['run', 'device-compromise', '--tenant', '--yes', '--device', 'device-001'],
    ['run', 'device-compromise', '--device', 'device-001', '--tenant', '-y'],
    ['drill', 'device-compromise', '--device', '--help'],
    ['approve', 'run-x', '--note', '--reject'],
  ];
  for (const args of cases) {
    const r = await run([...c, ...args]);
    const i = args.findIndex((a, k) => k > 0 && (args[k + 1] ?? '').startsWith('-') && a.startsWith('--'));
    const [flag, next] = [args[i] ?? '', args[i + 1] ?? ''];
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.split('\n')[0], `firebreak: ${flag} needs a value, but the next word is the option "${next}" (write ${flag}=<value> for a value that starts with -)`, args.join(' '));
    assert.doesNotMatch(r.stdout, /Usage:/, 'no help printed');
  }
  const runs = JSON.parse((await run([...c, 'runs', '--json'])).stdout) as unknown[];
  assert.equal(runs.length, 0, 'no run was started by a --yes that was meant as a value');
  // The explicit form still passes a value that starts with dashes on to the playbook (which then refuses the unknown device).
  const explicit = await run([...c, 'plan', 'device-compromise', '--tenant=acme', '--device=--help']);
  assert.equal(explicit.code, 4, explicit.stderr);
  assert.match(explicit.stderr, /device "--help" is unknown to tenant acme/);
});
