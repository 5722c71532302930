import { z } from 'zod';

/**
 * The result of `firebreak assess vault-audit` (docs/assess.md), as `--json`
 * prints it and as the vault-breach assessment stores it as evidence. The
 * schema is the published one: docs/assess.schema.json is generated from it
 * (`node src/assess/vault-audit-types.ts --write`), and the types are its.
 */


export { ASSESS_SCHEMA, SUSPICIOUS_KINDS, type SuspiciousKind, type AssessOptions } from './vault-audit-kinds.ts';
import { ASSESS_SCHEMA, SUSPICIOUS_KINDS, type SuspiciousKind } from './vault-audit-kinds.ts';

const count = z.number().int().min(0);
const located = { file: z.string().describe('The log file, as given.'), line: z.number().int().min(1).describe('1-based line number in that file (decompressed for .gz).') };
const kind = z.enum(SUSPICIOUS_KINDS);

const suspiciousEvent = z.object({
  ...located,
  kinds: z.array(kind).min(1),
  time: z.string().describe('The entry\'s own time, as Vault wrote it.'),
  type: z.enum(['request', 'response']).describe('The entry used: the response of a pair, the request when no response came.'),
  operation: z.string(),
  path: z.string().describe('namespace.path + request.path.'),
  remoteAddress: z.string().nullable(),
  accessor: z.string().nullable().describe('auth.accessor: an HMAC unless the device has hmac_accessor=false.'),
  displayName: z.string().nullable(),
  error: z.string().nullable(),
});

const inputProblem = z.object({ ...located, problem: z.enum(['not-utf8', 'not-json', 'incomplete', 'bad-time']), detail: z.string() });

const findMatch = z.object({
  ...located, label: z.string().describe('token or value'), time: z.string(), type: z.string(), path: z.string(),
  field: z.string().describe('JSON pointer of the field holding it, e.g. /request/client_token.'),
});

export const assessmentSchema = z.object({
  schema: z.literal(ASSESS_SCHEMA),
  window: z.object({ since: z.string().nullable(), until: z.string().nullable() }).describe('ISO times; null: unbounded. since inclusive, until exclusive.'),
  input: z.object({
    files: z.array(z.object({ file: z.string(), gzip: z.boolean(), bytes: count.describe('Bytes read (decompressed).'), lines: count })),
    lines: count,
    entries: z.object({ request: count, response: count }),
    otherTypes: z.record(z.string(), count).describe('Entries of other types (kmip-request, …), skipped.'),
    problems: z.object({ total: count, byKind: z.record(z.string(), count), first: z.array(inputProblem).max(100) }),
    operations: z.object({
      all: count.describe('Logical operations: a request and its response once.'),
      inWindow: count, requestOnly: count.describe('Requests whose response never came.'), withoutId: count.describe('Entries without a usable request.id (help, redacted).'),
    }),
  }),
  suspicious: z.object({
    total: count.describe('Suspicious operations, each once.'),
    byKind: z.object(Object.fromEntries(SUSPICIOUS_KINDS.map((k) => [k, count])) as Record<SuspiciousKind, typeof count>),
    allowListChecked: z.boolean(),
    omitted: count.describe('Counted but not listed (beyond the first 100,000).'),
    events: z.array(suspiciousEvent),
  }),
  secretsRead: z.object({
    reads: count, lists: count, distinctPaths: count,
    paths: z.array(z.object({ path: z.string(), reads: count, lists: count })),
  }),
  tenants: z.object({
    patterns: z.array(z.string()),
    affected: z.array(z.object({ tenant: z.string(), reads: count, lists: count, paths: count })),
    excludedTest: z.array(z.string()),
    threshold: count,
    scope: z.enum(['widespread', 'limited', 'none']),
  }),
  matches: z.array(findMatch).optional().describe('With --find-token / --find-value: every line that used it.'),
  evidence: z.object({ incidentId: z.string(), ref: z.string().describe('The file, relative to the state directory.'), sha256: z.string() }).optional()
    .describe('With --incident: where the assessment (without this field) was stored as evidence.'),
});

export type Assessment = z.infer<typeof assessmentSchema>;
export type SuspiciousEvent = z.infer<typeof suspiciousEvent>;
export type InputProblem = z.infer<typeof inputProblem>;
export type FindMatch = z.infer<typeof findMatch>;
export type FileSummary = Assessment['input']['files'][number];

export function assessmentJsonSchema(): string {
  const schema = z.toJSONSchema(assessmentSchema, { io: 'output' });
  return `${JSON.stringify({ ...schema, $id: 'https://firebreak.invalid/assess.schema.json', title: 'firebreak assess vault-audit --json' }, null, 2)}\n`;
}

if (import.meta.main && process.argv.includes('--write')) {
  const { writeFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  writeFileSync(fileURLToPath(new URL('../../docs/assess.schema.json', import.meta.url)), assessmentJsonSchema());
}
