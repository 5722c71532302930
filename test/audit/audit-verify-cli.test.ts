// `firebreak audit verify` as an operator runs it: what it prints and its exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { loadSigner } from '../../src/audit/audit-signer.ts';
import { loadConfig } from '../../src/config/config-load.ts';
import { starterConfig } from '../../src/config/index.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import { fill } from './audit-helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/firebreak.js', import.meta.url));

test('audit verify prints every problem and exits 12; an unsigned tail is a warning with exit 0', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-audit-cli-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const config = join(dir, 'firebreak.yaml');
  writeFileSync(config, starterConfig());
  const loaded = loadConfig(config);
  mkdirSync(loaded.stateDir, { recursive: true });
  const db = openDatabase(join(loaded.stateDir, 'firebreak.db'));
  t.after(() => { db.close(); });
  const log = new AuditLog({ db, signer: loadSigner(loaded.signingKeyFile), checkpointEvery: 1000, anchorFile: loaded.anchorFile });
  const verify = () => spawnSync(process.execPath, [BIN, '--config', config, 'audit', 'verify'], { encoding: 'utf8', cwd: dir });

  fill(log, 20); // no close(): #2–#20 are the tail of a killed process
  const tail = verify();
  assert.equal(tail.status, 0, tail.stdout + tail.stderr);
  assert.match(tail.stdout, /✔ audit trail intact: 20 entries, 1 signed checkpoint\(s\)/);
  assert.match(tail.stdout, /warning: 19 entries after the last checkpoint are not yet signed/);
  assert.match(verify().stdout, /warning: 19 entries after the last checkpoint/, 'verify signs nothing itself');

  log.checkpoint();
  db.prepare('DELETE FROM audit_entries WHERE seq > 15').run();
  db.prepare('DELETE FROM audit_checkpoints').run();
  rmSync(loaded.anchorFile);
  const bad = verify();
  assert.equal(bad.status, 12, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /✖ audit trail fails verification after 0 good entries: first bad entry #1: 15 entries but no signed checkpoint/);
  assert.match(bad.stdout, /also at #1: the anchor file .*audit\.anchor is missing although the store has been checkpointed/);
  // Verifying must not heal the store (a new checkpoint and anchor would hide what it just found).
  const again = verify();
  assert.equal(again.status, 12, again.stdout);
  assert.match(again.stdout, /also at #1: the anchor file .* is missing/);
});
