// Writes docs/errors.md from the error catalogue (src/lib/errors.ts).
// `node scripts/gen-errors-doc.ts --check` exits 1 when the file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorsMarkdown } from '../src/lib/errors-doc.ts';

const path = fileURLToPath(new URL('../docs/errors.md', import.meta.url));
const text = errorsMarkdown();
if (process.argv.includes('--check')) {
  let current = '';
  try { current = readFileSync(path, 'utf8'); } catch { /* missing counts as stale */ }
  if (current !== text) {
    process.stderr.write('docs/errors.md is out of date: run node scripts/gen-errors-doc.ts\n');
    process.exit(1);
  }
} else {
  writeFileSync(path, text);
}
