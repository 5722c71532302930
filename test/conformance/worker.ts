// Child process for the conformance suite: `worker.ts <factory module> <db> <dir> start|resume <workflow> <runId> [input json]`.
import { registerConformanceWorkflows } from './workflows.ts';
import type { RuntimeFactory } from './runtime-conformance.ts';

const [factoryModule, db, dir, command, workflow, runId, input] = process.argv.slice(2);
if (factoryModule === undefined || db === undefined || dir === undefined || command === undefined || workflow === undefined || runId === undefined) {
  throw new Error('usage: worker.ts <factory> <db> <dir> start|resume <workflow> <runId> [input]');
}
const { createRuntime } = await import(factoryModule) as { createRuntime: RuntimeFactory };
const rt = await createRuntime(db);
registerConformanceWorkflows(rt, dir);
const outcome = command === 'start'
  ? await rt.start({ runId, workflow, input: input === undefined ? null : JSON.parse(input) as unknown, initiator: 'conformance' })
  : await rt.resume(runId);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await rt.close();
