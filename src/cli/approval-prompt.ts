import { createInterface } from 'node:readline/promises';

/** What the approval prompt needs: a question to the operator, the approval, and where to report a failure. */
export interface PromptDeps {
  /** Asks the operator; resolves with the answer (rejects when the terminal closes). */
  readonly ask: (question: string) => Promise<string>;
  readonly approve: (decision: 'approve' | 'reject') => Promise<unknown>;
  readonly report: (message: string) => void;
}

/**
 * Asks the operator at the terminal whether to approve the plan, and records
 * the answer. The run waits meanwhile and the caller does not await this:
 * it never rejects. Whatever fails (the terminal closed, the approval
 * refused, the store unavailable) is reported to the operator with the
 * command that approves from elsewhere, never left as an unhandled rejection
 * that would end a long-running process.
 */
export async function promptApproval(runId: string, deps: PromptDeps): Promise<void> {
  try {
    const answer = await deps.ask('Approve this plan and continue? [y/N] ');
    await deps.approve(/^y(es)?$/i.test(answer.trim()) ? 'approve' : 'reject');
  } catch (err) {
    deps.report(`firebreak: the answer at the prompt was not recorded: ${err instanceof Error ? err.message : String(err)}; approve from another terminal: firebreak approve ${runId}`);
  }
}

/** One question at this process's terminal; the terminal is released afterwards, also when the question fails. */
export async function askTerminal(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
