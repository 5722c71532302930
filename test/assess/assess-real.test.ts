// The assessment of the 1,447 real audit lines (../shared/data/vault-audit,
// Vault 0.7 to 1.21), every figure checked against answers worked out line by
// line from the file (an independent script, then each tricky line by hand;
// the reasons are beside the figures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import type { Assessment } from '../../src/assess/vault-audit-types.ts';
import { sharedFile } from '../helpers/shared.ts';
import { ALL } from './assess-entries.ts';

const linesOf = (r: Assessment, kind: string): number[] => r.suspicious.events.filter((e) => e.kinds.some((k) => k === kind)).map((e) => e.line);

test('the real samples: operations, suspicious events, secrets read and tenants, exactly', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  const r = await assessVaultAudit([file], ALL);
  assert.equal(r.input.lines, 1447);
  assert.deepEqual(r.input.entries, { request: 720, response: 723 });
  assert.deepEqual(r.input.otherTypes, { 'kmip-request': 1, 'kmip-response': 3 }, 'lines 22–25, Vault Enterprise KMIP');
  // 712 pairs (request on the line before its response), 10 responses whose request is not in the file
  // (26, 28, 29, 32–34, 47, 49–51), 6 requests never answered (9, 12, 27, 30, 31, 48), 3 without a usable id
  // (21 a `help`, 35 and 36 with ids redacted to ****).
  assert.deepEqual(r.input.operations, { all: 731, inWindow: 731, requestOnly: 6, withoutId: 3 });
  assert.equal(r.input.problems.total, 0);

  assert.equal(r.suspicious.total, 31);
  assert.equal(r.suspicious.allowListChecked, false);
  assert.deepEqual(r.suspicious.byKind, {
    'permission-denied': 5, 'token-missing': 1, 'token-invalid': 0, 'unsupported-path': 1, 'error-other': 1, 'failed-login': 2,
    'remote-not-allowed': 0, 'root-policy': 20, 'policy-change': 3, 'audit-change': 4, 'auth-change': 2,
  });
  // 16: pki issue denied, the multi-line `1 error occurred:\n\t* permission denied`; 50: OpenBao transit read with
  // policy_results.allowed false and the error (once); 1421: the plain form, for an invalid token (auth holds only
  // client_token and token_type default: still permission denied, not token-invalid); 1441, 1443: sys/mounts denied.
  assert.deepEqual(linesOf(r, 'permission-denied'), [16, 50, 1421, 1441, 1443]);
  assert.deepEqual(linesOf(r, 'token-missing'), [1423]);
  assert.deepEqual(linesOf(r, 'unsupported-path'), [1429], 'a list of approle/role/ refused: not a list of secrets either');
  assert.deepEqual(linesOf(r, 'error-other'), [6], 'the fixture\'s "this is an error"');
  // 1437, 1439: approle logins answered without response.auth, the error only as an HMAC in response.data.error (0.8 era).
  assert.deepEqual(linesOf(r, 'failed-login'), [1437, 1439]);
  assert.deepEqual(linesOf(r, 'root-policy'), [2, 6, 8, 9, 28, 29, 31, 47, 49, 51, 53, 55, 57, 59, 971, 973, 975, 977, 979, 981]);
  assert.deepEqual(linesOf(r, 'policy-change'), [9, 53, 55], 'sys/policies/acl/… updated (9 never answered: the request is the operation)');
  // 28, 29, 49, 51: an audit device enabled (sys/audit/socket, …/file). Not 27, 30, 48: the sys/audit/test request Vault
  // itself writes to a device it is enabling (no remote address, never answered).
  assert.deepEqual(linesOf(r, 'audit-change'), [28, 29, 49, 51]);
  assert.deepEqual(linesOf(r, 'auth-change'), [61, 83], 'sys/auth/approle enabled by the admins token');
  const l16 = r.suspicious.events.find((e) => e.line === 16);
  assert.deepEqual(l16 && { time: l16.time, type: l16.type, operation: l16.operation, path: l16.path, remote: l16.remoteAddress },
    { time: '2021-07-19T17:19:00.674663552Z', type: 'response', operation: 'update', path: 'internal-ca/issue/internal-server', remote: '10.6.8.34' });
  assert.ok(!r.suspicious.events.some((e) => e.line === 15), 'line 15 is the request of line 16: one operation');

  // KV v2 data reads (18, 20, 33, 34, 44, 47, 929, 933, 937), namespaced at the full path (32: blue/ + kv/data/app/config);
  // KV v1 reads: 2 and 8 under secret/ (a log without mount_type), 26 on a kv mount without mount_point (its first segment).
  // Not reads: sys/internal/ui/mounts/… (1413, the CLI's preflight), metadata reads, the refused list (1429), writes.
  assert.equal(r.secretsRead.reads, 13);
  assert.equal(r.secretsRead.lists, 90, '89 lists of kv-v2/metadata/ and one of kv-v2/metadata/lab/');
  assert.deepEqual(r.secretsRead.paths, [
    { path: 'blue/kv/data/app/config', reads: 1, lists: 0 },
    { path: 'kv-v2/data/lab/lab-credential-1', reads: 3, lists: 0 },
    { path: 'kv-v2/metadata/', reads: 0, lists: 89 },
    { path: 'kv-v2/metadata/lab/', reads: 0, lists: 1 },
    { path: 'kv/retail/app1', reads: 1, lists: 0 },
    { path: 'red/kv/data/app/config', reads: 1, lists: 0 },
    { path: 'sample/data/hello', reads: 1, lists: 0 },
    { path: 'secret/data/apps/continuous-delivery/aws-bucket-sse-c', reads: 1, lists: 0 },
    { path: 'secret/data/apps/home-assistant/secrets_yaml', reads: 1, lists: 0 },
    { path: 'secret/data/mysimplesecret', reads: 1, lists: 0 },
    { path: 'secret/data/s3', reads: 1, lists: 0 },
    { path: 'secret/hello', reads: 1, lists: 0 },
    { path: 'secret/password', reads: 1, lists: 0 },
  ]);
  assert.equal(r.secretsRead.distinctPaths, 13);
  assert.deepEqual(r.tenants.affected, [], 'no path of the samples is a tenant\'s');
  assert.equal(r.tenants.scope, 'none');
});

test('the real samples with an allow-list of loopback: every operation from elsewhere is suspicious, those without an address are not judged', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  const r = await assessVaultAudit([file], { ...ALL, allowedNetworks: ['127.0.0.0/8', '::1/128'] });
  assert.equal(r.suspicious.allowListChecked, true);
  // 731 operations: 8 from 127.0.0.1 (2, 6, 9, 28, 29, 31, 49, 50), 3 with no remote address (the audit probes 27, 30, 48).
  assert.equal(r.suspicious.byKind['remote-not-allowed'], 720);
  assert.equal(r.suspicious.total, 728, 'the 8 from loopback are suspicious for other reasons; the 3 probes are not');
  assert.ok(!linesOf(r, 'remote-not-allowed').some((l) => [2, 6, 9, 27, 28, 29, 30, 31, 48, 49, 50].includes(l)));
});

test('the real samples in a window: only operations at or after --since and before --until count', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  // A window of one millisecond around the failed login of line 1437.
  const all = await assessVaultAudit([file], ALL);
  const login = all.suspicious.events.find((e) => e.line === 1437);
  assert.ok(login !== undefined);
  const at = Date.parse(login.time);
  const r = await assessVaultAudit([file], { ...ALL, since: at, until: at + 1 });
  assert.ok(r.input.operations.inWindow >= 1 && r.input.operations.inWindow < 731, `${r.input.operations.inWindow} in a 1 ms window`);
  assert.ok(linesOf(r, 'failed-login').includes(1437));
  const after = await assessVaultAudit([file], { ...ALL, since: at + 1, until: at + 2 });
  assert.ok(!linesOf(after, 'failed-login').includes(1437), 'until is exclusive, since inclusive');
  assert.equal(r.input.operations.all, 731, 'every operation is still read and paired');
});
