import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupPath, readEnvValue, readEnvVariable, rewriteEnvVariable, setEnvValue } from '../../src/connectors/dotenv/dotenv-file.ts';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import { Secret } from '../../src/lib/secret.ts';

const FILE = [
  '# provider stack',
  'TSDB_HOST=tsdb',
  '',
  'TSDB_TELEGRAF_PASSWORD=old-secret   # rotated 2026-01',
  "export TSDB_GRAFANA_PASSWORD='old grafana'",
  '  OTHER = "keep me"',
  'ESCAPED="say \\"hi\\" \\\\ done" # comment',
].join('\n') + '\n';

const codeOf = (code: string, re: RegExp) => (e: unknown) => {
  const err = e as { code?: string; message?: string };
  return err.code === code && re.test(err.message ?? '');
};

test('dotenv: one variable changes and every other byte stays (comments, blank lines, spacing, export, quotes)', () => {
  const out = setEnvValue(FILE, 'TSDB_TELEGRAF_PASSWORD', 'N3w-P4ss_word');
  assert.equal(out, FILE.replace('=old-secret   #', '=N3w-P4ss_word   #'));
  assert.equal(readEnvValue(out, 'TSDB_TELEGRAF_PASSWORD'), 'N3w-P4ss_word');
  assert.equal(setEnvValue(FILE, 'TSDB_GRAFANA_PASSWORD', 'abc def'), FILE.replace("'old grafana'", "'abc def'"), 'export prefix and single quotes kept');
  assert.equal(setEnvValue(FILE, 'OTHER', 'x y'), FILE.replace('"keep me"', '"x y"'), 'indentation, spaces around = and double quotes kept');
  assert.equal(readEnvValue(FILE, 'OTHER'), 'keep me');
  assert.equal(readEnvValue(FILE, 'ESCAPED'), 'say "hi" \\ done', 'escapes inside double quotes are decoded; the escaped quote does not end the value');
  assert.equal(setEnvValue(FILE, 'ESCAPED', 'plain'), FILE.replace('"say \\"hi\\" \\\\ done"', '"plain"'), 'the comment after an escaped value survives');
  assert.equal(readEnvValue(FILE, 'MISSING'), undefined);
});

test('dotenv: CRLF and mixed line endings are kept line by line', () => {
  const crlf = FILE.replace(/\n/g, '\r\n');
  assert.equal(setEnvValue(crlf, 'TSDB_HOST', 'db2'), crlf.replace('TSDB_HOST=tsdb', 'TSDB_HOST=db2'));
  assert.equal(readEnvValue(crlf, 'TSDB_GRAFANA_PASSWORD'), 'old grafana', 'no \\r in the value read');
  const mixed = 'A=1\r\nB=2\nC=3';
  assert.equal(setEnvValue(mixed, 'B', '9'), 'A=1\r\nB=9\nC=3', 'no trailing newline added, no ending normalised');
});

test('dotenv: the quoting decision — bare when safe, single quotes otherwise, double quotes for a value with \' only', () => {
  assert.match(setEnvValue(FILE, 'TSDB_HOST', 'a b#c'), /^TSDB_HOST='a b#c'$/m);
  assert.match(setEnvValue(FILE, 'TSDB_HOST', 'p$ss'), /^TSDB_HOST='p\$ss'$/m, '$ is never left to interpolation');
  assert.match(setEnvValue(FILE, 'OTHER', 'a$b'), /^ {2}OTHER = 'a\$b'$/m, 'double quotes give way to single quotes when the value holds $');
  assert.match(setEnvValue(FILE, 'OTHER', "it's"), /^ {2}OTHER = "it's"$/m);
  assert.match(setEnvValue(FILE, 'TSDB_GRAFANA_PASSWORD', "it's"), /^export TSDB_GRAFANA_PASSWORD="it's"$/m);
  assert.throws(() => setEnvValue(FILE, 'TSDB_HOST', `it's "$x"`), codeOf('INVALID_INPUT', /cannot be quoted safely/));
  assert.throws(() => setEnvValue(FILE, 'TSDB_HOST', 'x\ny'), codeOf('INVALID_INPUT', /line break/));
  assert.throws(() => setEnvValue(FILE, 'MISSING', 'x'), codeOf('NOT_FOUND', /MISSING is not set in the file; nothing was written/));
  assert.throws(() => setEnvValue(FILE, 'BAD NAME', 'x'), codeOf('INVALID_INPUT', /not an environment variable name/));
  assert.throws(() => setEnvValue('A="line one\nline two"\n', 'A', 'x'), codeOf('INVALID_INPUT', /multi-line/));
  for (const v of ['Zx9-_aB', 'a b#c', 'p$ss', "it's", 'x\\y`z']) {
    assert.equal(readEnvValue(setEnvValue(FILE, 'OTHER', v), 'OTHER'), v, `round trip of ${v}`);
  }
  assert.equal(readEnvValue('A=1\nA=2\n', 'A'), '2', 'the last assignment wins, as in docker compose');
  assert.equal(setEnvValue('A=1\nA=2\n', 'A', '3'), 'A=3\nA=3\n', 'every assignment is replaced: no stale copy survives');
  assert.equal(setEnvValue('AB=1\nA=2\n', 'A', '3'), 'AB=1\nA=3\n', 'a longer name with the same prefix is not touched');
});

test('dotenv file: atomic rewrite keeps mode and owner, leaves a 0600 timestamped backup; readEnvVariable gives a Secret', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-env-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const ex = createLocalExecutor();
  const env = join(dir, '.env');
  writeFileSync(env, FILE);
  chmodSync(env, 0o640);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(env, 65534, 65534);
  const now = new Date('2026-11-25T05:00:00.123Z');
  const { backup, changed } = await rewriteEnvVariable(ex, env, 'TSDB_TELEGRAF_PASSWORD', new Secret('fresh-value-123'), now);
  assert.equal(changed, true);
  assert.equal(backup, join(dir, '.env.firebreak-2026-11-25T05-00-00-123Z.bak'));
  assert.equal(backup, backupPath(env, now));
  assert.equal(readFileSync(env, 'utf8'), FILE.replace('old-secret', 'fresh-value-123'));
  const st = statSync(env);
  assert.equal(st.mode & 0o777, 0o640, 'mode kept');
  if (asRoot) assert.deepEqual([st.uid, st.gid], [65534, 65534], 'owner kept');
  else t.diagnostic('owner check skipped: not root');
  assert.equal(readFileSync(backup, 'utf8'), FILE);
  assert.equal(statSync(backup).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir).sort(), ['.env', '.env.firebreak-2026-11-25T05-00-00-123Z.bak'], 'no temp or lock file left behind');
  const read = await readEnvVariable(ex, env, 'TSDB_TELEGRAF_PASSWORD');
  assert.equal(read.reveal(), 'fresh-value-123');
  assert.equal(String(read), '[REDACTED]');
  const again = await rewriteEnvVariable(ex, env, 'TSDB_TELEGRAF_PASSWORD', new Secret('fresh-value-123'), new Date());
  assert.deepEqual(again, { backup: undefined, changed: false }, 'same value: nothing written');
  assert.equal(readdirSync(dir).length, 2);
});

test('dotenv file: missing, unreadable, not UTF-8 or without the variable — a clear error and nothing written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-env-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const ex = createLocalExecutor();
  const env = join(dir, 'stack.env');
  writeFileSync(env, FILE);
  const latin1 = join(dir, 'latin1.env');
  writeFileSync(latin1, Buffer.from('A=caf\xe9\nB=1\n', 'latin1'));
  const unreadable = join(dir, 'dir.env');
  mkdirSync(unreadable); // reading a directory fails even for root, unlike chmod 000
  const listing = readdirSync(dir).sort();
  const pw = new Secret('x-1234567');
  await assert.rejects(rewriteEnvVariable(ex, env, 'NOPE', pw), codeOf('NOT_FOUND', /NOPE is not set in .*stack\.env on local; nothing was written/));
  await assert.rejects(rewriteEnvVariable(ex, join(dir, 'missing.env'), 'A', pw), codeOf('NOT_FOUND', /missing\.env on local does not exist .*nothing was written/));
  await assert.rejects(rewriteEnvVariable(ex, unreadable, 'A', pw), codeOf('UPSTREAM_REJECTED', /dir\.env on local cannot be read .*EISDIR.*nothing was written/));
  await assert.rejects(rewriteEnvVariable(ex, latin1, 'B', pw), codeOf('INVALID_INPUT', /not valid UTF-8; nothing was written/));
  await assert.rejects(readEnvVariable(ex, env, 'NOPE'), codeOf('NOT_FOUND', /NOPE is not set in/));
  await assert.rejects(readEnvVariable(ex, join(dir, 'missing.env'), 'A'), codeOf('NOT_FOUND', /does not exist/));
  assert.deepEqual(readdirSync(dir).sort(), listing, 'no file created, no backup, no lock left');
  assert.equal(readFileSync(env, 'utf8'), FILE);
});
