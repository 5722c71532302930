import { FirebreakError } from '../../lib/errors.ts';
import type { ExecRequest, ExecResult, Executor } from './executor-types.ts';
import { withMkdirLock } from './executor-lock.ts';

export interface ComposeConfig {
  readonly projectDir: string;
  readonly service: string;
}

// Replaces a file inside the container from stdin: temp file beside it, same
// mode and owner as the file it replaces, then an atomic rename. "$1" is the path.
const WRITE_SCRIPT = 'set -e; f="$1"; t="$f.fbtmp.$$"; umask 077; cat > "$t"; if [ -e "$f" ]; then chmod --reference="$f" "$t"; chown --reference="$f" "$t" 2>/dev/null || true; fi; mv -f "$t" "$f"';

/**
 * Runs commands inside a docker compose service (`docker compose exec -T`),
 * in the project's directory on the host of the `via` executor. Files are read
 * with `cat` and replaced by a temp file + `mv` inside the container; secrets
 * and file contents travel on stdin.
 */
export function createComposeExecutor(config: ComposeConfig, deps: { via: Executor }): Executor {
  const where = `compose ${config.service} in ${config.projectDir} (${deps.via.describe})`;
  const exec = async (req: ExecRequest): Promise<ExecResult> => {
    const envArgs = Object.entries(req.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const workdir = req.cwd === undefined ? [] : ['-w', req.cwd];
    const r = await deps.via.exec({ ...req, cwd: config.projectDir, env: {}, argv: ['docker', 'compose', 'exec', '-T', ...envArgs, ...workdir, config.service, ...req.argv] });
    if (r.exitCode === 127 && /executable file not found|not found/.test(r.stderr)) {
      throw new FirebreakError('UNAVAILABLE', `${req.argv[0] ?? ''} not found in ${where}`);
    }
    return r;
  };
  return {
    describe: where,
    exec,
    async readFile(path) {
      const r = await exec({ argv: ['cat', '--', path] });
      if (r.exitCode !== 0) throw new FirebreakError(/No such file/.test(r.stderr) ? 'NOT_FOUND' : 'UNAVAILABLE', `cannot read ${path} (${where}): ${r.stderr.trim()}`);
      return Buffer.from(r.stdout, 'utf8');
    },
    async writeFileAtomic(path, data) {
      const r = await exec({ argv: ['sh', '-c', WRITE_SCRIPT, 'sh', path], stdin: typeof data === 'string' ? data : data.toString('utf8') });
      if (r.exitCode !== 0) throw new FirebreakError('UNAVAILABLE', `cannot write ${path} (${where}): ${r.stderr.trim()}`);
    },
    withLock: (path, fn, opts = {}) => withMkdirLock((argv) => exec({ argv }), path, `in ${where}`, fn, opts.timeoutMs),
    close: () => deps.via.close(),
  };
}
