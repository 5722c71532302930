import { createHash } from 'node:crypto';
import { createEmbeddedRuntime } from '../../src/runtime/embedded/embedded-runtime.ts';
import { createSealer } from '../../src/lib/sealer.ts';
import { openDatabase } from '../../src/store/sqlite-db.ts';
import type { RuntimeFactory } from './runtime-conformance.ts';

// The parent and its children must share the journal key; derive it from the DB path (tests only).
export const createRuntime: RuntimeFactory = async (location) => {
  const key = createHash('sha256').update(`conformance:${location}`).digest();
  return createEmbeddedRuntime({ db: openDatabase(location), sealer: createSealer(key), pollMs: 25, heartbeatMs: 100 });
};
