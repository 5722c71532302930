import { FirebreakError } from '../../lib/errors.ts';
import { redactText } from '../../lib/redact.ts';
import type { Executor } from '../executor/executor-types.ts';

/** How the service that consumes a credential is restarted (firebreak.yaml `restart:`). */
export type RestartSpec =
  | { readonly kind: 'compose'; readonly projectDir: string; readonly service: string }
  | { readonly kind: 'systemd'; readonly unit: string }
  | { readonly kind: 'command'; readonly argv: readonly string[] };

/** What a restart runs on the host, without a shell. */
export interface RestartCommand {
  readonly argv: readonly string[];
  readonly cwd?: string;
  /** For messages and the audit trail: names the service, never the arguments of a custom command. */
  readonly describe: string;
}

/** The command a restart runs: `docker compose restart SERVICE` in the project dir, `systemctl restart UNIT`, or the configured argv. */
export function restartCommand(spec: RestartSpec): RestartCommand {
  switch (spec.kind) {
    case 'compose': return { argv: ['docker', 'compose', 'restart', spec.service], cwd: spec.projectDir, describe: `compose service ${spec.service} in ${spec.projectDir}` };
    case 'systemd': return { argv: ['systemctl', 'restart', spec.unit], describe: `systemd unit ${spec.unit}` };
    case 'command': {
      if (spec.argv.length === 0 || spec.argv[0] === '') throw new FirebreakError('INVALID_INPUT', 'restart command argv is empty; nothing was run');
      return { argv: spec.argv, describe: `command ${spec.argv[0] ?? ''}` };
    }
  }
}

/**
 * Restarts the service through the host's executor (local, SSH or compose).
 * A non-zero exit is UPSTREAM_REJECTED naming the service, the host and the
 * last lines of stderr, redacted.
 */
export async function restartService(spec: RestartSpec, ex: Executor, signal?: AbortSignal, options: { readonly timeoutMs?: number } = {}): Promise<{ describe: string }> {
  const cmd = restartCommand(spec);
  const r = await ex.exec({ argv: cmd.argv, ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }), timeoutMs: options.timeoutMs ?? 120_000, ...(signal === undefined ? {} : { signal }) });
  if (r.exitCode !== 0) {
    const excerpt = redactText(r.stderr.trim().split('\n').slice(-3).join(' | ')).slice(0, 500);
    throw new FirebreakError('UPSTREAM_REJECTED', `restarting ${cmd.describe} on ${ex.describe} failed (exit ${r.exitCode}): ${excerpt || 'no output on stderr'}`, { details: { exitCode: r.exitCode } });
  }
  return { describe: cmd.describe };
}
