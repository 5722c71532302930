import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlaybook, assertValidPlaybook } from '../../src/engine/playbook-validate.ts';
import type { AnyPlaybook } from '../../src/engine/playbook-types.ts';
import { vaultBreach } from '../../src/playbooks/vault-breach/vault-breach.ts';
import { loadPlaybook } from '../../src/playbooks/playbook-descriptor.ts';
import { vaultBreachDescriptor } from '../../src/playbooks/vault-breach/vault-descriptor.ts';

/** The playbook's own steps rewired into the seed's containment: `vault operator seal` first, then disable, then revoke. */
function seedOrder(): AnyPlaybook {
  const byId = new Map(vaultBreach.steps.map((s) => [s.id, s]));
  const at = (id: string, dependsOn: string[]) => ({ ...byId.get(id), id, dependsOn }) as AnyPlaybook['steps'][number];
  return { ...vaultBreach, steps: [at('record-auth', []), at('seal-vault', ['record-auth']), at('disable-auth', ['seal-vault']), at('revoke-tokens', ['disable-auth'])] };
}

test('vault-breach: the corrected containment order passes static validation, and its descriptor matches it', async () => {
  assert.deepEqual(validatePlaybook(vaultBreach), []);
  assert.equal((await loadPlaybook(vaultBreachDescriptor)).id, 'vault-breach');
});

test('vault-breach: the seed\'s order (seal first) is rejected by static validation, saying that the seal invalidates what revoke and disable need', () => {
  const problems = validatePlaybook(seedOrder());
  assert.deepEqual(problems.map((p) => `${p.step ?? ''}: ${p.message}`), [
    'disable-auth: requires "vault.unsealed", but "seal-vault" before it invalidates it and nothing re-establishes it',
    'revoke-tokens: requires "vault.unsealed", but "seal-vault" before it invalidates it and nothing re-establishes it',
  ]);
  assert.throws(() => { assertValidPlaybook(seedOrder()); }, /playbook vault-breach is invalid:\n {2}disable-auth: requires "vault\.unsealed", but "seal-vault" before it invalidates it/);
});

test('vault-breach: seal unordered with revoke (parallel branches) is rejected too: it may run first', () => {
  const p = seedOrder();
  const steps = p.steps.map((s) => (s.id === 'seal-vault' ? { ...s, dependsOn: ['record-auth'] } : s.id === 'disable-auth' || s.id === 'revoke-tokens' ? { ...s, dependsOn: ['record-auth'] } : s));
  const problems = validatePlaybook({ ...p, steps });
  assert.ok(problems.some((x) => x.step === 'revoke-tokens' && x.message === 'requires "vault.unsealed", but "seal-vault" (which invalidates it) is not ordered after it and may run first'), JSON.stringify(problems));
});

test('vault-breach: the rekey and recovery without the unseal step are rejected (nothing re-establishes "vault.unsealed" after the seal)', () => {
  const steps = vaultBreach.steps.filter((s) => s.id !== 'unseal-vault').map((s) => (s.id === 'rekey-init' ? { ...s, dependsOn: ['seal-vault'] } : s));
  const problems = validatePlaybook({ ...vaultBreach, steps });
  assert.ok(problems.some((x) => x.step === 'rekey-init' && /requires "vault\.unsealed", but "seal-vault" before it invalidates it/.test(x.message)), JSON.stringify(problems));
});
