import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptApproval, type PromptDeps } from '../../src/cli/approval-prompt.ts';

function deps(over: Partial<PromptDeps>): PromptDeps & { decisions: string[]; reports: string[] } {
  const decisions: string[] = [];
  const reports: string[] = [];
  return {
    decisions, reports,
    ask: over.ask ?? (() => Promise.resolve('y')),
    approve: over.approve ?? ((d) => { decisions.push(d); return Promise.resolve(); }),
    report: (m) => { reports.push(m); },
  };
}

test('the answer at the prompt becomes the decision: y / yes approve, anything else rejects', async () => {
  for (const [answer, decision] of [['y', 'approve'], [' YES ', 'approve'], ['', 'reject'], ['no', 'reject'], ['yess', 'reject']] as const) {
    const d = deps({ ask: () => Promise.resolve(answer) });
    await promptApproval('run-1', d);
    assert.deepEqual(d.decisions, [decision], `answer "${answer}"`);
    assert.deepEqual(d.reports, []);
  }
});

test('an approval that fails is reported to the operator with the way out, and the prompt never rejects', async () => {
  let unhandled: unknown;
  const onUnhandled = (reason: unknown) => { unhandled = reason; };
  process.on('unhandledRejection', onUnhandled);
  try {
    const d = deps({ approve: () => Promise.reject(new Error('the store is locked')) });
    await promptApproval('run-7', d);
    assert.equal(d.reports.length, 1);
    assert.match(d.reports[0] ?? '', /not recorded: the store is locked; approve from another terminal: firebreak approve run-7/);
    // Fire-and-forget as the CLI calls it: still nothing unhandled once the event loop has turned.
    void promptApproval('run-8', deps({ approve: () => Promise.reject(new Error('refused')) }));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(unhandled, undefined);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a terminal that closes before the answer is reported, and nothing is decided', async () => {
  const d = deps({ ask: () => Promise.reject(new Error('readline was closed')) });
  await promptApproval('run-2', d);
  assert.deepEqual(d.decisions, []);
  assert.match(d.reports[0] ?? '', /readline was closed; approve from another terminal: firebreak approve run-2/);
});
