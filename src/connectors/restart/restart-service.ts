import { FirebreakError } from '../../lib/errors.ts';
import { redactText } from '../../lib/redact.ts';
import type { Executor } from '../executor/executor-types.ts';

/** How the service that consumes a credential is restarted (firebreak.yaml `restart:`). */
export type RestartSpec =
  | { readonly kind: 'compose'; readonly projectDir: string; readonly service: string }
  | { readonly kind: 'systemd'; readonly unit: string }
  | { readonly kind: 'command'; readonly argv: readonly string[] };

/** The command a restart runs: `docker compose restart`, `systemctl restart`, or the configured argv. */
export function restartCommand(spec: RestartSpec): { argv: readonly string[]; cwd?: string; describe: string } {
  switch (spec.kind) {
    case 'compose': return { argv: ['docker', 'compose', 'restart', spec.service], cwd: spec.projectDir, describe: `compose service ${spec.service} in ${spec.projectDir}` };
    case 'systemd': return { argv: ['systemctl', 'restart', spec.unit], describe: `systemd unit ${spec.unit}` };
    case 'command': return { argv: spec.argv, describe: `command ${spec.argv[0] ?? ''}` };
  }
}

/** Restarts the service through the host's executor; a non-zero exit is an error quoting (redacted) stderr. */
export async function restartService(spec: RestartSpec, ex: Executor, signal?: AbortSignal): Promise<{ describe: string }> {
  const cmd = restartCommand(spec);
  const r = await ex.exec({ argv: cmd.argv, ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }), timeoutMs: 120_000, ...(signal === undefined ? {} : { signal }) });
  if (r.exitCode !== 0) {
    const why = redactText(r.stderr.trim().split('\n').slice(-3).join(' | ')) || `exit ${r.exitCode}`;
    throw new FirebreakError('UPSTREAM_REJECTED', `restarting ${cmd.describe} on ${ex.describe} failed (exit ${r.exitCode}): ${why}`);
  }
  return { describe: cmd.describe };
}
