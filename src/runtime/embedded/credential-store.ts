import type { DatabaseSync } from 'node:sqlite';
import type { CredentialStage, CredentialStages } from '../../engine/playbook-types.ts';
import { transaction } from '../../store/sqlite-db.ts';

/**
 * Credential stage labels in the journal database. Promoting a version to
 * CURRENT moves the former CURRENT to PREVIOUS and clears PENDING, in one
 * transaction.
 */
export function createCredentialStore(db: DatabaseSync, now: () => Date = () => new Date()): CredentialStages {
  const set = db.prepare('INSERT INTO credential_stages (ref, stage, fingerprint, run_id, labelled_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ref, stage) DO UPDATE SET fingerprint = excluded.fingerprint, run_id = excluded.run_id, labelled_at = excluded.labelled_at');
  const get = db.prepare('SELECT stage, fingerprint FROM credential_stages WHERE ref = ?');
  const del = db.prepare('DELETE FROM credential_stages WHERE ref = ? AND stage = ?');
  return {
    async label(ref: string, stage: CredentialStage, fingerprint: string, runId: string) {
      const at = now().toISOString();
      const apply = () => {
        if (stage === 'CURRENT') {
          const current = get.all(ref).find((r) => r['stage'] === 'CURRENT');
          if (current !== undefined && current['fingerprint'] !== fingerprint) set.run(ref, 'PREVIOUS', String(current['fingerprint']), runId, at);
          del.run(ref, 'PENDING');
        }
        set.run(ref, stage, fingerprint, runId, at);
      };
      if (db.isTransaction) apply(); else transaction(db, apply);
    },
    async stages(ref: string) {
      return Object.fromEntries(get.all(ref).map((r) => [String(r['stage']), String(r['fingerprint'])]));
    },
  };
}
