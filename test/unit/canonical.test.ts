import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/lib/canonical.ts';

test('canonical JSON: keys by UTF-16 code units at every depth, undefined and functions dropped, no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, undefined, 'x'], c: null }, skip: undefined, f: () => 1 }), '{"a":{"c":null,"d":[3,null,"x"]},"b":1}');
  assert.equal(canonicalJson({ first: undefined, z: 1 }), '{"z":1}', 'a dropped first member leaves no comma');
  // Code units, not code points or locale: U+FF5E sorts after U+1F600's high surrogate (0xD83D).
  assert.equal(canonicalJson({ '\uff5e': 1, '\u{1f600}': 2, B: 3, a: 4 }), '{"B":3,"a":4,"😀":2,"～":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), JSON.stringify({ a: 1, b: 2 }), 'already sorted keys come out as they are');
  assert.throws(() => canonicalJson({ n: Number.NaN }), /non-finite/);
});
