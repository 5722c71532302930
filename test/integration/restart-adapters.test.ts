import { test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { restartCommand, restartService, type RestartSpec } from '../../src/connectors/restart/restart-service.ts';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import type { ExecRequest, ExecResult, Executor } from '../../src/connectors/executor/executor-types.ts';
import { FirebreakError } from '../../src/lib/errors.ts';
import { Secret } from '../../src/lib/secret.ts';

/**
 * An Executor that records what it is asked to run and answers `result`: no
 * docker or systemd engine exists here, so the compose and systemd adapters are
 * checked on the exact argv and cwd they hand to the host's executor.
 */
function recordingExecutor(result: ExecResult): Executor & { readonly calls: ExecRequest[] } {
  const calls: ExecRequest[] = [];
  const nope = (what: string) => Promise.reject(new FirebreakError('INTERNAL', `the recording executor does not ${what}`));
  return {
    describe: 'ssh root@10.0.0.5:22', calls,
    exec: (req) => { calls.push(req); return Promise.resolve(result); },
    readFile: () => nope('read files'),
    writeFileAtomic: () => nope('write files'),
    withLock: () => nope('lock'),
    close: () => Promise.resolve(),
  };
}

const OK: ExecResult = { exitCode: 0, stdout: '', stderr: '' };

test('restart: compose and systemd adapters run exactly `docker compose restart SERVICE` in the project dir and `systemctl restart UNIT`', async () => {
  const cases: [RestartSpec, readonly string[], string | undefined, string][] = [
    [{ kind: 'compose', projectDir: '/srv/provider', service: 'telegraf' }, ['docker', 'compose', 'restart', 'telegraf'], '/srv/provider', 'compose service telegraf in /srv/provider'],
    [{ kind: 'systemd', unit: 'telegraf.service' }, ['systemctl', 'restart', 'telegraf.service'], undefined, 'systemd unit telegraf.service'],
    [{ kind: 'command', argv: ['/usr/local/bin/restart-grafana', '--graceful'] }, ['/usr/local/bin/restart-grafana', '--graceful'], undefined, 'command /usr/local/bin/restart-grafana'],
  ];
  for (const [spec, argv, cwd, describe] of cases) {
    const ex = recordingExecutor(OK);
    const signal = new AbortController().signal;
    assert.deepEqual(await restartService(spec, ex, signal), { describe });
    assert.equal(ex.calls.length, 1);
    const call = ex.calls[0];
    assert.deepEqual(call?.argv, argv);
    assert.equal(call.cwd, cwd);
    assert.equal(call.signal, signal, 'cancellation reaches the executor');
    assert.equal(call.timeoutMs, 120_000);
    assert.equal(call.stdin, undefined, 'nothing on stdin, no secret anywhere in the request');
    assert.deepEqual(restartCommand(spec).argv, argv);
  }
});

test('restart: a non-zero exit names the service and host and quotes the end of stderr, redacted', async () => {
  const leaked = new Secret('Sup3r-leaked-password-42');
  const ex = recordingExecutor({ exitCode: 1, stdout: '', stderr: `line 1\nline 2\nline 3\nJob failed: auth with ${leaked.reveal()} refused\n` });
  await assert.rejects(restartService({ kind: 'systemd', unit: 'grafana-server' }, ex), (e: unknown) => {
    const err = e as FirebreakError;
    assert.equal(err.code, 'UPSTREAM_REJECTED');
    assert.equal(err.message, 'restarting systemd unit grafana-server on ssh root@10.0.0.5:22 failed (exit 1): line 2 | line 3 | Job failed: auth with [REDACTED] refused');
    return true;
  });
  const silent = recordingExecutor({ exitCode: 3, stdout: '', stderr: '' });
  await assert.rejects(restartService({ kind: 'compose', projectDir: '/srv/p', service: 'x' }, silent), /failed \(exit 3\): no output on stderr/);
  assert.throws(() => restartCommand({ kind: 'command', argv: [] }), /argv is empty; nothing was run/);
});

test('restart: the command adapter runs a real process through the local executor; its failure and a missing binary are reported', async () => {
  const ex = createLocalExecutor();
  assert.deepEqual(await restartService({ kind: 'command', argv: [process.execPath, '-e', 'process.exit(0)'] }, ex), { describe: `command ${process.execPath}` });
  await assert.rejects(restartService({ kind: 'command', argv: [process.execPath, '-e', 'console.error("unit failed to start"); process.exit(4)'] }, ex),
    /^FirebreakError: restarting command .* on local failed \(exit 4\): unit failed to start$/);
  await assert.rejects(restartService({ kind: 'command', argv: ['/nonexistent/restart-me'] }, ex), (e: unknown) => (e as FirebreakError).code === 'UNAVAILABLE');
  await assert.rejects(restartService({ kind: 'command', argv: [process.execPath, '-e', 'setTimeout(() => {}, 10000)'] }, ex, undefined, { timeoutMs: 200 }), (e: unknown) => (e as FirebreakError).code === 'TIMEOUT');
});

test('restart: compose and systemd adapters run as real processes through the local executor — `docker` and `systemctl` found on PATH, run in the project directory, and what they restart comes back', async (t) => {
  // No Docker engine or systemd here: stand-ins on PATH record how they were called and restart a real process.
  const dir = mkdtempSync(join(tmpdir(), 'fb-restart-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const bin = join(dir, 'bin');
  const project = join(dir, 'provider stack');
  mkdirSync(bin);
  mkdirSync(project);
  const marker = join(dir, 'service.pid');
  for (const tool of ['docker', 'systemctl']) {
    writeFileSync(join(bin, tool), `#!/bin/sh\nprintf '%s|%s\\n' "$PWD" "$*" >> '${join(dir, 'calls.log')}'\n'${process.execPath}' -e 'require("fs").writeFileSync(process.argv[1], String(process.pid))' '${marker}'\n`, { mode: 0o755 });
  }
  const ex = createLocalExecutor({ env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
  await restartService({ kind: 'compose', projectDir: project, service: 'telegraf' }, ex);
  const first = readFileSync(marker, 'utf8');
  await restartService({ kind: 'systemd', unit: 'grafana-server.service' }, ex);
  assert.notEqual(readFileSync(marker, 'utf8'), first, 'the second restart started a new process');
  assert.deepEqual(readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n'), [`${project}|compose restart telegraf`, `${process.cwd()}|restart grafana-server.service`]);
});
