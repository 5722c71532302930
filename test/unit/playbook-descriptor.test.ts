// Each playbook is listed from its descriptor and run from its definition:
// the two must say the same, and a descriptor that no longer does is refused
// when its playbook loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLAYBOOK_DESCRIPTORS } from '../../src/playbooks/playbook-list.ts';
import { loadPlaybook, outlineOf, type PlaybookDescriptor } from '../../src/playbooks/playbook-descriptor.ts';
import { inputFields } from '../../src/cli/playbook-options.ts';
import { toErrorData } from '../../src/lib/errors.ts';

for (const d of PLAYBOOK_DESCRIPTORS) {
  test(`${d.id}: the descriptor outlines the definition, steps and options alike`, async () => {
    const p = await loadPlaybook(d);
    assert.deepEqual(outlineOf(d), outlineOf(p));
    assert.deepEqual(inputFields({ id: d.id, input: await d.input() }), inputFields(p));
    assert.ok(inputFields(p).length > 0, 'the options are read from a zod object');
  });
}

test('a descriptor that says something else than its definition is refused when the playbook loads, naming the difference', async () => {
  const d = PLAYBOOK_DESCRIPTORS[0] as PlaybookDescriptor;
  const [first, ...others] = d.steps;
  assert.ok(first !== undefined);
  const cases: [PlaybookDescriptor, RegExp][] = [
    [{ ...d, steps: [{ ...first, title: 'Something else' }, ...others] }, new RegExp(`step ${first.id}: .*"Something else"`)],
    [{ ...d, steps: others }, /steps: /],
    [{ ...d, steps: [{ ...first, effect: 'irreversible' }, ...others] }, new RegExp(`step ${first.id}: `)],
    [{ ...d, rto: {} }, /rto: /],
    [{ ...d, input: async () => (await import('../../src/playbooks/subca-compromise/subca-inputs.ts')).subcaCompromiseInput }, /input fields: tenant described/],
  ];
  for (const [wrong, says] of cases) {
    await assert.rejects(loadPlaybook(wrong), (err: unknown) => {
      assert.equal(toErrorData(err).code, 'INTERNAL');
      assert.match(toErrorData(err).message, says);
      return true;
    });
  }
});
