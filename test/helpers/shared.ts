import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `../shared` beside the checkout: public specs and data, read in place, never copied. */
export const sharedDir = process.env['FIREBREAK_SHARED_DIR'] ?? join(repoRoot, '..', 'shared');

export const inCI = process.env['CI'] === 'true';

/**
 * Path of a file under ../shared. Under CI=true a missing file fails the test
 * (CI always has ../shared); elsewhere the test is skipped and says why.
 * Returns undefined when skipped.
 */
export function sharedFile(t: TestContext, relative: string): string | undefined {
  const path = join(sharedDir, relative);
  if (existsSync(path)) return path;
  const why = `${path} is missing: this test reads public material from ../shared beside the checkout`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return undefined;
}

/**
 * Declares that a test needs a real component (PostgreSQL, step-ca, wg...).
 * `problem` is undefined when it is available. Under CI=true a missing
 * component is a failure, never a silent skip; elsewhere the test is skipped
 * with the reason. Returns true when the test may go on.
 */
export function requireComponent(t: TestContext, name: string, problem: string | undefined): boolean {
  if (problem === undefined) return true;
  const why = `${name} is not available: ${problem} (bash scripts/setup-test.sh installs it)`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}
