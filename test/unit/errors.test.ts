import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorCodes, FirebreakError, fromErrorData, toErrorData, exitCodeFor } from '../../src/lib/errors.ts';
import { errorsMarkdown } from '../../src/lib/errors-doc.ts';

test('docs/errors.md is in sync with the catalogue', () => {
  assert.equal(readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8'), errorsMarkdown(), 'run: node scripts/gen-errors-doc.ts');
});

test('every code has a distinct meaning, a non-zero exit code and an HTTP status', () => {
  for (const [code, e] of Object.entries(ErrorCodes)) {
    assert.ok(e.exit > 0 && e.exit < 126, `${code} exit`);
    assert.ok(e.http >= 200 && e.http < 600, `${code} http`);
    assert.ok(e.summary.length > 20, `${code} summary`);
  }
});

test('errors cross the durable boundary as data and come back with the same code and message', () => {
  const err = new FirebreakError('UNAVAILABLE', 'step-ca at https://ca:9000 is unreachable', { details: { system: 'step-ca' } });
  const data = JSON.parse(JSON.stringify(toErrorData(err))) as ReturnType<typeof toErrorData>;
  assert.deepEqual(data, { code: 'UNAVAILABLE', message: 'step-ca at https://ca:9000 is unreachable', retryable: true, details: { system: 'step-ca' } });
  const back = fromErrorData(data);
  assert.equal(back.code, 'UNAVAILABLE');
  assert.equal(back.retryable, true);
  assert.equal(exitCodeFor(back.code), 7);
});

test('unknown throwables become INTERNAL with their message; aborts become CANCELLED', () => {
  assert.deepEqual(toErrorData(new TypeError('boom')), { code: 'INTERNAL', message: 'boom', retryable: false });
  assert.equal(toErrorData(Object.assign(new Error('stop'), { name: 'AbortError' })).code, 'CANCELLED');
  assert.equal(toErrorData('plain string').message, 'plain string');
});
