export type ExportVerification =
  | { ok: true; entries: number; checkpoints: number; keyId: string; head: string }
  | { ok: false; line: number; reason: string; entries: number };
export function verifyExportLines(lines: string[], opts?: { keyId?: string }): ExportVerification;
