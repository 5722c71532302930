// The published schema of `assess vault-audit --json` (docs/assess.schema.json)
// is generated from the definition the code's types come from, and what the
// command prints conforms to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assessVaultAudit } from '../../src/assess/vault-audit.ts';
import { assessmentJsonSchema, assessmentSchema, SUSPICIOUS_KINDS } from '../../src/assess/vault-audit-types.ts';
import { isSecretKey } from '../../src/lib/redact.ts';
import { repoRoot, sharedFile } from '../helpers/shared.ts';
import { ALL } from './assess-entries.ts';

test('docs/assess.schema.json is generated from the definition (node src/assess/vault-audit-types.ts --write)', () => {
  assert.equal(readFileSync(join(repoRoot, 'docs', 'assess.schema.json'), 'utf8'), assessmentJsonSchema());
});

test('the assessment of the real samples, with an allow-list and a search, conforms to the published schema; a result with a field changed does not', async (t) => {
  const file = sharedFile(t, 'data/vault-audit/real-samples.jsonl');
  if (file === undefined) return;
  const r = await assessVaultAudit([file], { ...ALL, allowedNetworks: ['10.0.0.0/8'], find: [{ label: 'token', hashes: ['hmac-sha256:3c5e878019363f51f7d322738206e1996373bd69b5460c0db6cd46abe0b111ab'] }] });
  assert.ok((r.matches ?? []).length > 0);
  const printed = JSON.parse(JSON.stringify(r)) as unknown;
  assert.equal(assessmentSchema.safeParse(printed).success, true, JSON.stringify(assessmentSchema.safeParse(printed).error?.issues.slice(0, 3)));
  const broken = JSON.parse(JSON.stringify(r)) as { tenants: { scope: string } };
  broken.tenants.scope = 'everywhere';
  assert.equal(assessmentSchema.safeParse(broken).success, false);
});

test('no suspicious kind looks like a secret\'s key: the output\'s redaction by key would hide its count', () => {
  for (const k of SUSPICIOUS_KINDS) assert.equal(isSecretKey(k), false, k);
});
