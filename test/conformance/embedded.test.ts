import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformance } from './runtime-conformance.ts';
import { createRuntime } from './embedded-factory.ts';

runConformance('embedded SQLite runtime', fileURLToPath(new URL('./embedded-factory.ts', import.meta.url)), createRuntime, (dir) => join(dir, 'journal.db'));
