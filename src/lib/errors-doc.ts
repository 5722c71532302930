import { ErrorCodes } from './errors.ts';

/** The errors catalogue as Markdown (docs/errors.md), generated so it can never drift from the code. */
export function errorsMarkdown(): string {
  const rows = Object.entries(ErrorCodes).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.http} | ${e.retryable ? 'yes' : 'no'} | ${e.summary} |`);
  return `# Error codes

Every failure Firebreak reports carries one of these codes: in CLI messages
(\`firebreak: …\`), in \`--json\` output (\`error.code\`), in the journal, the
audit trail and reports. The exit code of the CLI and the HTTP status of the
API derive from the code alone. *Retryable* errors are retried by the engine
with exponential backoff and jitter (when the step is idempotent); the others
fail the step at once.

This file is generated from \`src/lib/errors.ts\` by
\`node scripts/gen-errors-doc.ts\`; a test fails when it is out of date.

| Code | Exit | HTTP | Retryable | Meaning |
|---|---|---|---|---|
${rows.join('\n')}

Exit code 0 means success. A run that ends \`completed_with_failures\` exits
with the code of \`PARTIAL_FAILURE\`; a run left waiting for approval
(\`--detach\`) with the code of \`APPROVAL_REQUIRED\`.
`;
}
