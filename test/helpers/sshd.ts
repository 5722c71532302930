import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/lib/free-port.ts';

export function sshdProblem(): string | undefined {
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is not installed (openssh-server)';
  if (spawnSync('sh', ['-c', 'command -v ssh-keygen']).status !== 0) return 'ssh-keygen is not installed (openssh-client)';
  if (process.getuid?.() !== 0) return 'sshd must run as root to accept logins';
  return undefined;
}

export interface Sshd {
  readonly port: number;
  readonly dir: string;
  readonly user: string;
  readonly clientKey: string;
  /** The client key's public line (the one authorized_keys holds at start). */
  readonly clientKeyPublic: string;
  /** `ssh-ed25519 AAAA…` of the server. */
  readonly hostKeyLine: string;
  stop(): Promise<void>;
}

/** A real OpenSSH server on 127.0.0.1 and a free port, with its own host key and authorized key, in a temp dir. */
export async function startSshd(): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-sshd-'));
  chmodSync(dir, 0o700);
  mkdirSync('/run/sshd', { recursive: true });
  const keygen = (file: string) => { const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]); if (r.status !== 0) throw new Error(r.stderr.toString()); };
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password',
    'StrictModes no', 'Subsystem sftp internal-sftp', 'LogLevel ERROR',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => { resolve(true); });
      s.listen(port, '127.0.0.1', () => { s.close(() => { resolve(false); }); });
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  const pub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/);
  return {
    port, dir, user: 'root', clientKey: readFileSync(join(dir, 'client_key'), 'utf8'), clientKeyPublic: readFileSync(join(dir, 'client_key.pub'), 'utf8').trim(), hostKeyLine: `${pub[0] ?? ''} ${pub[1] ?? ''}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
