import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { definePlaybook, type StepDefinition } from '../../src/engine/playbook-types.ts';
import { assertValidPlaybook, validatePlaybook } from '../../src/engine/playbook-validate.ts';

const step = (id: string, extra: Partial<StepDefinition> = {}): StepDefinition => ({
  id, title: id, phase: 'containment', system: 'test', effect: 'mutate', idempotency: 'natural', apply: async () => null, ...extra,
});
const playbook = (steps: StepDefinition[], assumes: string[] = []) => definePlaybook({
  id: 't', title: 't', summary: 't', version: 1, incidentKind: 't', severity: 'low', input: z.object({}), rto: {}, assumes,
  connect: async () => ({}), steps,
});

test('a valid DAG has no problems', () => {
  assert.deepEqual(validatePlaybook(playbook([step('a'), step('b', { dependsOn: ['a'] }), step('c', { dependsOn: ['a'] })])), []);
});

test('unknown dependencies, duplicate ids and bad ids are reported', () => {
  const problems = validatePlaybook(playbook([step('a', { dependsOn: ['nope'] }), step('a'), step('Bad_Id')]));
  assert.deepEqual(problems.map((p) => p.message).sort(), ['depends on unknown step "nope"', 'duplicate step id', 'step id must be lower-case letters, digits and dashes'].sort());
});

test('a cycle is reported with its path', () => {
  const problems = validatePlaybook(playbook([step('a', { dependsOn: ['c'] }), step('b', { dependsOn: ['a'] }), step('c', { dependsOn: ['b'] })]));
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /dependency cycle: (a|b|c) → .* → \1/);
});

test('the seed Vault mistake is rejected: sealing unordered with a step that needs Vault unsealed', () => {
  const steps = [
    step('seal', { invalidates: ['vault.unsealed'] }),
    step('revoke-tokens', { requires: ['vault.unsealed'] }),
  ];
  const problems = validatePlaybook(playbook(steps, ['vault.unsealed']));
  assert.equal(problems.length, 1);
  assert.match(problems[0]?.message ?? '', /"seal" \(which invalidates it\) is not ordered after it and may run first/);
  assert.throws(() => { assertValidPlaybook(playbook(steps, ['vault.unsealed'])); }, (e: { code?: string }) => e.code === 'PLAYBOOK_INVALID');
});

test('seal before a step that needs unseal is rejected; seal after it, or unseal in between, is accepted', () => {
  const before = [step('seal', { invalidates: ['vault.unsealed'] }), step('rekey', { dependsOn: ['seal'], requires: ['vault.unsealed'] })];
  assert.match(validatePlaybook(playbook(before, ['vault.unsealed']))[0]?.message ?? '', /"seal" before it invalidates it and nothing re-establishes it/);
  const after = [step('revoke', { requires: ['vault.unsealed'] }), step('seal', { dependsOn: ['revoke'], invalidates: ['vault.unsealed'] })];
  assert.deepEqual(validatePlaybook(playbook(after, ['vault.unsealed'])), []);
  const restored = [
    step('seal', { invalidates: ['vault.unsealed'] }),
    step('unseal', { dependsOn: ['seal'], establishes: ['vault.unsealed'] }),
    step('rekey', { dependsOn: ['unseal'], requires: ['vault.unsealed'] }),
  ];
  assert.deepEqual(validatePlaybook(playbook(restored, ['vault.unsealed'])), []);
});

test('a precondition nothing establishes is reported', () => {
  const problems = validatePlaybook(playbook([step('rekey', { requires: ['vault.unsealed'] })]));
  assert.match(problems[0]?.message ?? '', /requires "vault.unsealed", which nothing before it establishes/);
});

test('a non-idempotent step cannot declare retries', () => {
  const problems = validatePlaybook(playbook([step('send', { idempotency: 'none', retry: { maxAttempts: 3 } })]));
  assert.match(problems[0]?.message ?? '', /cannot be retried/);
});
