import { isNode, type Document, type LineCounter } from 'yaml';
import type { z } from 'zod';

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

/**
 * Turns one zod issue into `path: message` problems with their YAML line.
 * `raw` is the document as zod saw it: whether a key is absent ("is required")
 * or present with the wrong type ("expected a string, got a number") is read
 * from it, because zod does not keep the input it rejected.
 */
export function issueProblems(issue: z.core.$ZodIssue, raw: unknown, doc: Document, lines: LineCounter): ConfigProblem[] {
  const path = issue.path.map(String);
  const at = (message: string): ConfigProblem => ({ path: path.join('.') || '(root)', message, ...lineOf(doc, lines, path) });
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: [...path, k].join('.') || '(root)', message: 'unknown key (misspelt? see docs/configuration.md)', ...lineOf(doc, lines, [...path, k]) }));
  }
  const found = valueAt(raw, path);
  if ((issue.code === 'invalid_union' || issue.code === 'invalid_type') && path.length > 0 && !found.present) return [at('is required')];
  if (issue.code === 'invalid_union') {
    // Every branch refused the value's type itself: name the types accepted.
    const rootTypes = issue.errors.map((branch) => branch.find((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (issue.errors.length > 0 && rootTypes.every((i) => i !== undefined)) {
      return [at(`expected ${[...new Set(rootTypes.map((i) => expectedName((i as z.core.$ZodIssueInvalidType).expected)))].join(' or ')}, got ${foundName(found.value)}`)];
    }
    // Report the branch that got furthest rather than "invalid input".
    const deepest = issue.errors.map((branch) => branch.filter((i) => i.code !== 'invalid_type' || i.path.length > 0)).sort((a, b) => b.length - a.length)[0];
    const firstRef = issue.errors.flat().find((i) => i.message.startsWith('must be a reference'));
    if (firstRef !== undefined) return [at(firstRef.message)];
    if (deepest !== undefined && deepest.length > 0) return deepest.flatMap((i) => issueProblems({ ...i, path: [...issue.path, ...i.path] }, raw, doc, lines));
  }
  if (issue.code === 'invalid_key') {
    return issue.issues.map((i) => ({ path: path.join('.'), message: `bad key: ${i.message}`, ...lineOf(doc, lines, path) }));
  }
  if (issue.code === 'invalid_type') return [at(`expected ${expectedName(issue.expected)}, got ${foundName(found.value, issue.expected)}`)];
  return [at(issue.message)];
}

/** The value at `path` in the parsed document, and whether the key is there at all (`key:` with no value is present, as null). */
function valueAt(raw: unknown, path: readonly string[]): { present: boolean; value: unknown } {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return { present: false, value: undefined };
    value = (value as Record<string, unknown>)[key];
  }
  return { present: value !== undefined, value };
}

/** zod's type names in the words of a YAML file. */
function expectedName(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string', number: 'a number', int: 'an integer', boolean: 'a boolean (true or false)',
    object: 'a mapping (key: value)', record: 'a mapping (key: value)', map: 'a mapping (key: value)', array: 'a list', tuple: 'a list',
  };
  return names[expected] ?? expected;
}

/** The YAML type of what was found; never the value itself (it might be a secret put in the wrong place). */
function foundName(value: unknown, expected?: string): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN (.nan)';
    if (!Number.isFinite(value)) return 'an infinity (.inf)';
    return expected === 'int' && !Number.isInteger(value) ? 'a fractional number' : 'a number';
  }
  if (typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** The line of the deepest node of `path` that exists in the document. */
export function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): { line?: number } {
  for (let n = path.length; n > 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) return { line: lines.linePos(node.range[0]).line };
  }
  return {};
}
