import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordRotation } from '../../src/playbooks/db-credential-leak/db-credential-leak.ts';
import type { DbCredentialLeakInput, DbDeps } from '../../src/playbooks/db-credential-leak/db-deps.ts';
import type { StepContext } from '../../src/engine/playbook-types.ts';
import { generatePassword } from '../../src/lib/password.ts';
import { silentLogger } from '../../src/lib/log.ts';

test('the rotation\'s verify loop stops as soon as the run is cancelled, long before its reconnect timeout', async () => {
  const polls: number[] = [];
  const cancel = new AbortController();
  // A consumer that never reconnects: only the cancellation (or the 10 min timeout) can end the loop.
  const db = {
    terminateSessions: async () => [],
    sessionsOf: async () => { polls.push(Date.now()); if (polls.length === 2) cancel.abort(new Error('run cancelled')); return []; },
  };
  const ctx = {
    signal: cancel.signal, log: silentLogger,
    deps: { db, role: 'telegraf', applicationName: 'telegraf', reconnectTimeoutMs: 600_000 },
  } as unknown as StepContext<DbCredentialLeakInput, DbDeps>;
  const started = Date.now();
  await assert.rejects(passwordRotation.verify(ctx, generatePassword(24), new Date()), /run cancelled/);
  assert.equal(polls.length, 2, 'no poll after the cancellation');
  assert.ok(Date.now() - started < 5_000, 'ended at once, not at the reconnect timeout');
});

test('generatePassword draws URL- and .env-safe characters of the asked length', () => {
  const p = generatePassword(40).reveal();
  assert.equal(p.length, 40);
  assert.match(p, /^[A-Za-z0-9_-]{40}$/);
  assert.notEqual(generatePassword(40).reveal(), p);
  assert.throws(() => generatePassword(0), RangeError);
});
