/**
 * Canonical JSON (RFC 8785 style for the values Firebreak stores): object keys
 * sorted by UTF-16 code units, no whitespace, `undefined` members dropped.
 * Used wherever a value is hashed: audit entries, plan hashes.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return canonicalJson(withToJson.toJSON());
      const record = value as Record<string, unknown>;
      // Default sort order: UTF-16 code units, as the format requires.
      const keys = Object.keys(record);
      if (!isSorted(keys)) keys.sort();
      let out = '{';
      for (const k of keys) {
        const v = record[k];
        if (v === undefined || typeof v === 'function') continue;
        out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
  }
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}
