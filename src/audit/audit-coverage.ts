import type { DatabaseSync } from 'node:sqlite';
import type { AnchorRead } from './audit-anchor.ts';
import type { Checkpoint } from './audit-log.ts';

/**
 * What the checkpoints and the anchor must cover once the chain itself has
 * verified. The legitimate states of a store are:
 * - empty, no checkpoint, no anchor (fresh);
 * - entries whose first is signed (a checkpoint at #1 is written with it),
 *   one checkpoint every `every` entries and one when a command ends, and an
 *   anchor equal to the latest checkpoint;
 * - after a SIGKILL: fewer than `every` entries after the last checkpoint
 *   (a warning, not tampering), and possibly an anchor one checkpoint behind
 *   (killed between the commit and the anchor write).
 * Anything else is reported as a problem naming what is missing.
 */
export interface CoverageFacts {
  readonly last: number;
  readonly checkpoints: readonly Checkpoint[];
  readonly every: number;
  readonly anchorFile: string | undefined;
  /** undefined when no anchor file is configured. */
  readonly anchor: AnchorRead | undefined;
  readonly hashAt: (seq: number) => string | undefined;
  readonly signatureOk: (c: Checkpoint) => boolean;
  /** What the rest of the database records (runs, incidents): a witness that an empty trail was wiped. */
  readonly activity: () => string | undefined;
}

export interface Problem { readonly seq: number; readonly reason: string }

export function coverageProblems(f: CoverageFacts): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const { last, checkpoints, every } = f;
  const anchorName = f.anchorFile ?? '';
  for (const c of checkpoints) {
    if (c.seq > last) { problems.push({ seq: last + 1, reason: `the log ends at #${last} but a checkpoint covers #${c.seq} (truncated)` }); break; }
    if (f.hashAt(c.seq) !== c.hash) { problems.push({ seq: c.seq, reason: `checkpoint at #${c.seq} records another hash (entry or checkpoint edited)` }); break; }
    if (!f.signatureOk(c)) { problems.push({ seq: c.seq, reason: `checkpoint at #${c.seq} has an invalid signature (forged)` }); break; }
  }
  const latest = checkpoints.filter((c) => c.seq <= last).at(-1);
  const anchor = f.anchor?.state === 'ok' ? f.anchor.checkpoint : undefined;

  if (f.anchor?.state === 'unreadable') problems.push({ seq: latest?.seq ?? 1, reason: `the anchor file ${anchorName} is unreadable (${f.anchor.detail}): it was damaged or replaced` });
  if (anchor !== undefined) {
    if (!f.signatureOk(anchor)) problems.push({ seq: anchor.seq, reason: `the anchor file ${anchorName} has an invalid signature (forged, or signed by another key)` });
    else if (anchor.seq > last) {
      problems.push({ seq: last + 1, reason: last === 0
        ? `the audit trail is empty but the anchor ${anchorName} records a signed checkpoint at #${anchor.seq}: entries #1–#${anchor.seq} and their checkpoints were deleted (wiped)`
        : `the log ends at #${last} but the anchor ${anchorName} records a signed checkpoint at #${anchor.seq}: entries #${last + 1}–#${anchor.seq} were deleted (truncated)` });
    } else if (f.hashAt(anchor.seq) !== anchor.hash) {
      problems.push({ seq: anchor.seq, reason: `entry #${anchor.seq} differs from the anchor's hash (rewritten)` });
    } else if (latest === undefined || anchor.seq > latest.seq) {
      problems.push({ seq: anchor.seq, reason: `the anchor ${anchorName} records a signed checkpoint at #${anchor.seq} that the store no longer has: the checkpoints after #${latest?.seq ?? 0} were deleted` });
    } else if (anchor.seq < latest.seq) {
      warnings.push(`the anchor ${anchorName} records #${anchor.seq}, behind the latest checkpoint #${latest.seq}: a process ended before updating it (the next checkpoint moves it)`);
    }
  }

  if (last === 0) {
    const activity = f.activity();
    if (activity !== undefined) {
      problems.push({ seq: 1, reason: `the audit trail is empty but the journal records ${activity}: the trail was wiped${f.anchor?.state === 'missing' ? ` (and the anchor ${anchorName} with it)` : ''}` });
    }
    return { problems: sorted(problems), warnings };
  }

  if (latest === undefined) {
    problems.push({ seq: 1, reason: `${last} entries but no signed checkpoint: every checkpoint was deleted (Firebreak signs a store's first entry, every ${every}th and the head when a command ends)` });
  } else if (checkpoints[0]?.seq !== 1) {
    problems.push({ seq: 1, reason: `no signed checkpoint at #1 (Firebreak signs a store's first entry with it): the checkpoints before #${checkpoints[0]?.seq ?? latest.seq} were deleted` });
  }
  if (f.anchor?.state === 'missing') {
    problems.push({ seq: latest?.seq ?? 1, reason: `the anchor file ${anchorName} is missing although the store has been checkpointed (its first entry is always signed${latest === undefined ? '' : `; latest checkpoint #${latest.seq}`}): it was deleted, or audit.anchorFile was changed` });
  }
  if (latest !== undefined && !(anchor !== undefined && anchor.seq > latest.seq)) {
    const tail = last - latest.seq;
    const range = `#${latest.seq + 1}–#${last}`;
    if (tail >= every) {
      problems.push({ seq: latest.seq + 1, reason: `entries ${range} (${tail}) are covered by no signed checkpoint although one is written every ${every} entries: the checkpoints after #${latest.seq} were deleted` });
    } else if (tail > 0) {
      warnings.push(`${tail} entries after the last checkpoint are not yet signed (${range}: a process ended before signing them; the next command that writes signs them)`);
    }
  }
  return { problems: sorted(problems), warnings };
}

function sorted(p: Problem[]): Problem[] {
  return p.sort((a, b) => a.seq - b.seq);
}

/** Runs and incidents in the journal: each was audited when it was created, so an empty trail beside them was wiped. */
export function journalActivity(db: DatabaseSync): string | undefined {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'incidents')").all().map((r) => String(r['name'])));
  const count = (t: string) => (tables.has(t) ? Number(db.prepare(`SELECT count(*) AS n FROM ${t}`).get()?.['n'] ?? 0) : 0);
  const runs = count('runs');
  const incidents = count('incidents');
  if (runs === 0 && incidents === 0) return undefined;
  return [runs > 0 ? `${runs} run(s)` : '', incidents > 0 ? `${incidents} incident(s)` : ''].filter((s) => s !== '').join(' and ');
}
