import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { redact } from '../lib/redact.ts';
import type { EvidenceRef, EvidenceSink } from '../engine/playbook-types.ts';

const SAFE = /[^A-Za-z0-9._-]/g;

/**
 * Evidence as files under `<stateDir>/evidence/<incident>/<run>/`, written
 * once (temp + fsync + rename, mode 0600), redacted, with their SHA-256 so the
 * audit trail can cite them. Path parts derived from ids are sanitised: a
 * device id can never become a path.
 */
export function createEvidenceStore(stateDir: string, onStored?: (scope: { incidentId: string | null; runId: string; stepId: string }, ref: EvidenceRef) => void): EvidenceSink {
  return {
    async store(scope, name, data) {
      const dir = join(stateDir, 'evidence', (scope.incidentId ?? 'no-incident').replace(SAFE, '_'), scope.runId.replace(SAFE, '_'));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${scope.stepId.replace(SAFE, '_')}.${name.replace(SAFE, '_')}.json`);
      const body = `${JSON.stringify({ capturedAt: new Date().toISOString(), step: scope.stepId, name, data: redact(data) }, null, 2)}\n`;
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, body, { mode: 0o600 });
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
      const ref: EvidenceRef = { name, ref: relative(stateDir, file), sha256: createHash('sha256').update(body).digest('hex'), bytes: Buffer.byteLength(body) };
      onStored?.(scope, ref);
      return ref;
    },
  };
}
