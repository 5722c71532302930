export type ExportVerification =
  | { ok: true; entries: number; checkpoints: number; keyId: string; head: string }
  | { ok: false; line: number; reason: string; entries: number };
/** Verifies the lines of a version 2 export (the file split at "\n"); see docs/audit.md. */
export function verifyExportLines(lines: string[], opts?: { keyId?: string }): ExportVerification;
