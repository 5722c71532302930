import { createLogUpdate } from 'log-update';
import type { ProgressEvent, StepStatus } from '../engine/runtime-types.ts';
import { formatDuration, type Out } from './output.ts';

interface Row {
  title: string;
  phase: string;
  system: string;
  status: StepStatus | 'pending';
  attempt: number;
  started: number;
  ended?: number;
  detail?: string;
  fan?: { total: number; done: number; failed: number };
}

const ICON: Record<Row['status'], string> = { pending: '·', running: '⠿', completed: '✔', failed: '✖', waiting: '⏸', cancelled: '⊘' };

/**
 * The live task list: one line per step with status, attempt, duration and
 * fan-out progress. On a TTY it redraws in place (≤ 10 times a second);
 * elsewhere (CI, pipes) it prints one line per change, so logs stay readable.
 */
export function createTaskList(out: Out, stream: NodeJS.WriteStream = process.stdout): { onEvent: (e: ProgressEvent) => void; stop: () => void } {
  const rows = new Map<string, Row>();
  const live = out.tty && !out.json;
  const update = live ? createLogUpdate(stream) : undefined;
  let timer: NodeJS.Timeout | undefined;
  let dirty = false;

  const colour = (r: Row) => {
    const icon = ICON[r.status];
    switch (r.status) {
      case 'completed': return out.style('green', icon);
      case 'failed': return out.style('red', icon);
      case 'waiting': return out.style('yellow', icon);
      case 'running': return out.style('cyan', icon);
      default: return icon;
    }
  };
  const lineOf = (r: Row) => {
    const took = formatDuration((r.ended ?? Date.now()) - r.started);
    const fan = r.fan === undefined ? '' : ` ${bar(r.fan.done, r.fan.total)} ${r.fan.done}/${r.fan.total}${r.fan.failed > 0 ? out.style('red', ` ${r.fan.failed} failed`) : ''}`;
    const attempt = r.attempt > 1 ? out.style('yellow', ` (attempt ${r.attempt})`) : '';
    return `${colour(r)} ${out.style('dim', r.phase.padEnd(12))} ${r.title}${fan}${attempt} ${out.style('dim', took)}${r.detail === undefined ? '' : `\n    ${out.style(r.status === 'failed' ? 'red' : 'yellow', r.detail)}`}`.replace(/\s+$/, '');
  };
  const render = () => {
    dirty = false;
    update?.([...rows.entries()].map(([, r]) => lineOf(r)).join('\n'));
  };
  if (live) {
    timer = setInterval(() => { if (dirty || [...rows.values()].some((r) => r.status === 'running')) render(); }, 100);
    timer.unref();
  }

  return {
    onEvent(e) {
      if (e.type === 'run') return;
      if (e.type === 'fanout') {
        const r = rows.get(e.stepId);
        if (r !== undefined) r.fan = { total: e.total, done: e.done, failed: e.failed };
        dirty = true;
        if (!live && (e.done + e.failed === e.total || (e.done + e.failed) % Math.max(1, Math.ceil(e.total / 10)) === 0)) {
          out.line(`  … ${r?.title ?? e.stepId}: ${e.done}/${e.total} done${e.failed > 0 ? `, ${e.failed} failed` : ''}`);
        }
        return;
      }
      if (e.type === 'step' && e.parentId !== null) return; // fan-out items show as progress on their parent
      const meta = e.meta ?? {};
      const prev = rows.get(e.stepId);
      const row: Row = prev ?? {
        title: typeof meta['title'] === 'string' ? meta['title'] : e.stepId,
        phase: typeof meta['phase'] === 'string' ? meta['phase'] : '',
        system: typeof meta['system'] === 'string' ? meta['system'] : '',
        status: 'pending', attempt: 1, started: Date.now(),
      };
      if (e.type === 'waiting') {
        row.status = 'waiting';
        row.detail = typeof meta['note'] === 'string' ? `waiting for approval — ${meta['note']}` : 'waiting for approval';
      } else {
        row.status = e.status;
        row.attempt = e.attempt;
        if (e.status !== 'running') row.ended = Date.now();
        else delete row.ended;
        if (e.error !== undefined) row.detail = `${e.error.code}: ${e.error.message}`;
        else delete row.detail;
      }
      rows.set(e.stepId, row);
      dirty = true;
      if (!live && row.status !== 'running') out.line(lineOf(row));
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      if (live) { render(); update?.done(); }
    },
  };
}

function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}
