// Worker thread: the whole assessment, when its files are read in ranges on threads of their own (vault-audit.ts):
// the ranges are absorbed here, and the caller's thread only receives the progress and the result.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../lib/errors.ts';
import { assessHere, type ReadPlan, type ThreadMessage } from './vault-audit.ts';
import type { AssessOptions } from './vault-audit-kinds.ts';

const { files, options, plan } = workerData as { files: string[]; options: AssessOptions; plan: ReadPlan };
const send = (m: ThreadMessage) => { parentPort?.postMessage(m); };
try {
  const result = await assessHere(files, options, plan, {
    onFile: (progress) => { send({ progress }); }, onReading: (reading) => { send({ reading }); }, onRescan: (file, k) => { send({ rescan: { file, k } }); },
  });
  send({ result });
} catch (err) {
  send({ error: toErrorData(err) });
}
