// `firebreak assess vault-audit` as an operator runs it: tenants and scope,
// the configuration's assess.vaultAudit, --json, and bad arguments refused
// with what to give instead.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../e2e/cli-helpers.ts';
import type { Assessment } from '../../src/assess/vault-audit-types.ts';
import { HMAC, pair, requestOnly } from './assess-entries.ts';

/** A log in a fresh directory (the cwd of the command: no firebreak.yaml unless written). */
function logIn(t: TestContext, lines: readonly string[]): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fb-assess-cli-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const log = join(dir, 'audit.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  return { dir, log };
}

/** An attacker's token reading the secrets of `n` tenants, and one test tenant's; a failed login from outside; a probe. */
function breach(n: number): string[] {
  const attacker = HMAC(666);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(...pair({ path: `secret/data/tenants/t${String(i).padStart(2, '0')}/smtp`, accessor: attacker, remote: '203.0.113.9', time: `2026-12-01T03:${String(i).padStart(2, '0')}:00Z` }));
  }
  lines.push(...pair({ path: 'api_keys/t00/key-1', accessor: attacker, remote: '203.0.113.9', time: '2026-12-01T04:00:00Z', mountType: 'kv', mountPoint: 'api_keys/' }));
  lines.push(...pair({ path: 'secret/data/tenants/qa-test/smtp', accessor: attacker, remote: '203.0.113.9', time: '2026-12-01T04:01:00Z' }));
  lines.push(...pair({ path: 'auth/approle/login', operation: 'update', remote: '203.0.113.9', time: '2026-12-01T02:00:00Z', error: 'invalid role or secret ID', mountType: 'approle' }));
  lines.push(requestOnly({ path: 'secret/data/tenants/t01/db', accessor: attacker, remote: '203.0.113.9', time: '2026-12-01T04:02:00Z', error: 'permission denied' }));
  return lines;
}

test('assess vault-audit --json: affected tenants from the path patterns, a test tenant excluded, scope against the threshold', async (t) => {
  const { dir, log } = logIn(t, breach(11));
  const r = await run(['assess', 'vault-audit', '--log', log, '--all', '--test-tenant', 'qa-test', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout) as Assessment;
  assert.equal(a.schema, 'firebreak.assess.vault-audit/1');
  for (const [kind, n] of Object.entries(a.suspicious.byKind)) assert.equal(typeof n, 'number', `byKind.${kind} is printed as a count, not redacted`);
  assert.deepEqual(a.tenants.affected.map((x) => x.tenant), ['t00', 't01', 't02', 't03', 't04', 't05', 't06', 't07', 't08', 't09', 't10']);
  assert.deepEqual(a.tenants.affected[0], { tenant: 't00', reads: 2, lists: 0, paths: 2 }, 'its smtp secret and its API key');
  assert.deepEqual(a.tenants.excludedTest, ['qa-test']);
  assert.equal(a.tenants.scope, 'widespread', '11 tenants: more than 10');
  assert.equal(a.secretsRead.reads, 13);
  assert.deepEqual([a.suspicious.total, a.suspicious.byKind['failed-login'], a.suspicious.byKind['permission-denied'], a.suspicious.byKind['error-other']], [2, 1, 1, 1]);
  const denied = a.suspicious.events.find((e) => e.kinds.includes('permission-denied'));
  assert.deepEqual(denied && [denied.line, denied.type, denied.path, denied.remoteAddress, denied.accessor], [29, 'request', 'secret/data/tenants/t01/db', '203.0.113.9', HMAC(666)]);

  const limited = await run(['assess', 'vault-audit', '--log', log, '--all', '--widespread-above', '11', '--json'], { cwd: dir });
  const b = JSON.parse(limited.stdout) as Assessment;
  assert.equal(b.tenants.affected.length, 12, 'qa-test counts when nobody says it is a test tenant');
  assert.equal(b.tenants.scope, 'widespread');
  const high = JSON.parse((await run(['assess', 'vault-audit', '--log', log, '--all', '--widespread-above', '12', '--json'], { cwd: dir })).stdout) as Assessment;
  assert.equal(high.tenants.scope, 'limited');
});

test('assess vault-audit reads firebreak.yaml\'s assess.vaultAudit and the tenants\' test flags, and prints a summary', async (t) => {
  const { dir } = logIn(t, breach(3));
  writeFileSync(join(dir, 'firebreak.yaml'), [
    'version: 1',
    'tenants:',
    '  t02: { test: true }',
    'assess:',
    '  vaultAudit:',
    '    logs: [audit.log]',
    '    widespreadAbove: 1',
    '    allowedNetworks: [10.0.0.0/8]',
  ].join('\n'));
  const r = await run(['assess', 'vault-audit', '--since', '2026-12-01T00:00:00Z', '--until', '2026-12-02T00:00:00Z'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Window: 2026-12-01T00:00:00\.000Z to 2026-12-02T00:00:00\.000Z of the logs/);
  assert.match(r.stdout, /Read: 1 file, 13 lines, 0\.0 MB; 7 request and 6 response entries\n/);
  assert.match(r.stdout, /Suspicious operations: 7\n {2}permission-denied 1 · error-other 1 · failed-login 1 · remote-not-allowed 7\n/);
  assert.match(r.stdout, /2026-12-01T04:02:00Z {2}audit\.log:13 {2}permission-denied,remote-not-allowed {9}read {7}secret\/data\/tenants\/t01\/db {8}203\.0\.113\.9\n/);
  assert.match(r.stdout, /Affected tenants: 3, scope widespread \(widespread above 1\)\nTENANT +READS +LISTS +PATHS\nqa-test +1 +0 +1\nt00 +2 +0 +2\nt01 +1 +0 +1\n/);
  assert.match(r.stdout, /test tenants excluded: t02\n/, 'tenants.t02.test in firebreak.yaml');
  // Outside the window: nothing.
  const before = await run(['assess', 'vault-audit', '--since', '2026-11-01T00:00:00Z', '--until', '2026-11-02T00:00:00Z', '--json'], { cwd: dir });
  const b = JSON.parse(before.stdout) as Assessment;
  assert.deepEqual([b.input.operations.all, b.input.operations.inWindow, b.suspicious.total, b.tenants.scope], [7, 0, 0, 'none']);
});

test('assess vault-audit refuses bad arguments, naming them, before reading anything', async (t) => {
  const { dir, log } = logIn(t, breach(1));
  const cases: [string[], RegExp][] = [
    [['--log', log, '--since', 'yesterday'], /--since "yesterday": give an RFC 3339 time \(2026-12-01T00:00:00Z\) or a duration back from now \(30m, 24h, 7d\)/],
    [['--log', log, '--all', '--since', '2h'], /--all reads every entry: it cannot be combined with --since or --until/],
    [['--log', log, '--since', '2026-12-02T00:00:00Z', '--until', '2026-12-01T00:00:00Z'], /the window is empty: --since 2026-12-02T00:00:00\.000Z is not before --until 2026-12-01T00:00:00\.000Z/],
    [['--log', log, '--allow', '10.0.0.0/33'], /"10\.0\.0\.0\/33" is not an IPv4 or IPv6 network/],
    [['--log', log, '--tenant-path', 'secret/data/*'], /"secret\/data\/\*" must name \{tenant\} exactly once/],
    [['--log', log, '--widespread-above', 'ten'], /--widespread-above "ten": must be a whole number/],
    [['--log', log, '--kv-mount', 'secret'], /--kv-mount "secret": must be a mount path ending in \//],
    [['--log', join(dir, 'missing.log')], /--log .*missing\.log: cannot read it \(no such file\)/],
    [[], /no audit log to read: give --log FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await run(['assess', 'vault-audit', ...args], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', 'nothing printed as a result');
  }
  const named = await run(['--config', join(dir, 'nope.yaml'), 'assess', 'vault-audit', '--log', log], { cwd: dir });
  assert.equal(named.code, 3, named.stderr);
  assert.match(named.stderr, /nope\.yaml does not exist/);
});

test('assess vault-audit --find-token: every line that used the leaked token, by the HMAC the device writes (salt given on a descriptor); the token is never printed', async (t) => {
  const salt = 'a-device-salt';
  const token = 'hvs.CAESILeakedTokenForTheTest';
  const hmac = `hmac-sha256:${createHmac('sha256', salt).update(token).digest('hex')}`;
  const [q, r] = pair({ path: 'secret/data/tenants/acme/db' });
  const used = (line: string) => line.replaceAll(HMAC(1), hmac); // client_token in auth and request
  const { dir, log } = logIn(t, [...pair({ path: 'secret/data/other' }), used(q), used(r)]);
  writeFileSync(join(dir, 'salt'), `${salt}\n`);
  const res = await run(['assess', 'vault-audit', '--log', log, '--all', '--find-token', '--find-fd', '0', '--salt-fd', '3', '--json'], { cwd: dir, input: `${token}\n`, fd3: join(dir, 'salt') });
  assert.equal(res.code, 0, res.stderr);
  const a = JSON.parse(res.stdout) as Assessment;
  assert.deepEqual(a.matches?.map((m) => [m.line, m.type, m.field]), [[3, 'request', '/auth/client_token'], [3, 'request', '/request/client_token'], [4, 'response', '/auth/client_token'], [4, 'response', '/request/client_token']]);
  assert.ok(!res.stdout.includes(token) && !res.stderr.includes(token), 'the token is never printed');
  const refused = await run(['assess', 'vault-audit', '--log', log, '--all', '--find-token', '--find-fd', '0'], { cwd: dir, input: `${token}\n` });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--find-token: the HMAC comes from Vault \(provider\.vault in firebreak\.yaml, none here\) or from the device's salt \(--salt-fd N\)/);
});
