import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createLocalExecutor } from '../../src/connectors/executor/local-executor.ts';
import type { Executor } from '../../src/connectors/executor/executor-types.ts';
import { wgKeyPair } from '../../src/lab/wireguard/wireguard-standin.ts';

/** Why real WireGuard cannot run here, or undefined when it can. */
export function wireguardProblem(): string | undefined {
  for (const bin of ['wg', 'wireguard-go', 'ip', 'wg-quick']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed`;
  }
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  return undefined;
}

export interface RealInterface {
  readonly ns: string;
  readonly iface: string;
  /** Runs commands inside the namespace (files stay on the host). */
  readonly executor: Executor;
  readonly peers: readonly { publicKey: string; allowedIp: string }[];
  readonly confFile: string;
  stop(): Promise<void>;
}

function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? 'signal'}): ${r.stderr}`);
}

/**
 * A real WireGuard interface: wireguard-go in a network namespace of its own
 * (unique names; /var/run/wireguard is global), a private key and N peers set
 * with `wg set`, IPv6 off so `wg-quick save` writes only what we set.
 */
export async function startRealInterface(peerCount: number): Promise<RealInterface> {
  const tag = randomBytes(3).toString('hex');
  const ns = `fbt-${tag}`;
  const iface = `fbwg${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'fb-wg-'));
  sh(['ip', 'netns', 'add', ns]);
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => { child?.once('exit', r); setTimeout(r, 2000); });
    }
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(`/etc/wireguard/${iface}.conf`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    child = spawn('ip', ['netns', 'exec', ns, 'wireguard-go', '-f', iface], { env: { ...process.env, WG_PROCESS_FOREGROUND: '1' }, stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (!existsSync(`/var/run/wireguard/${iface}.sock`)) {
      if (Date.now() > deadline) throw new Error('wireguard-go did not create its UAPI socket');
      await new Promise((r) => setTimeout(r, 20));
    }
    const server = wgKeyPair();
    const keyFile = join(dir, 'private.key');
    writeFileSync(keyFile, server.privateKey, { mode: 0o600 });
    sh(['ip', 'netns', 'exec', ns, 'wg', 'set', iface, 'private-key', keyFile, 'listen-port', '0']);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'address', 'add', '10.77.0.1/16', 'dev', iface]);
    sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', iface, 'up']);
    const peers = Array.from({ length: peerCount }, (_, i) => ({ publicKey: wgKeyPair().publicKey, allowedIp: `10.77.1.${i + 2}/32` }));
    for (const [i, p] of peers.entries()) {
      sh(['ip', 'netns', 'exec', ns, 'wg', 'set', iface, 'peer', p.publicKey, 'allowed-ips', p.allowedIp, 'endpoint', `192.0.2.${i + 1}:51820`, 'persistent-keepalive', '25']);
    }
    // wg-quick save rewrites an existing file only.
    const confFile = `/etc/wireguard/${iface}.conf`;
    sh(['mkdir', '-p', '/etc/wireguard']);
    writeFileSync(confFile, `[Interface]\nAddress = 10.77.0.1/16\nPrivateKey = ${server.privateKey}\n`, { mode: 0o600 });
    // As on a gateway that saves its state: the configuration lists the live peers.
    sh(['ip', 'netns', 'exec', ns, 'env', 'WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go', 'wg-quick', 'save', iface]);
    const local = createLocalExecutor();
    const executor: Executor = {
      describe: `netns ${ns}`,
      exec: (req) => local.exec({ ...req, argv: ['ip', 'netns', 'exec', ns, ...req.argv], env: { ...req.env, WG_QUICK_USERSPACE_IMPLEMENTATION: 'wireguard-go' } }),
      readFile: (p) => local.readFile(p),
      writeFileAtomic: (p, d, o) => local.writeFileAtomic(p, d, o),
      withLock: (p, fn, o) => local.withLock(p, fn, o),
      close: async () => undefined,
    };
    return { ns, iface, executor, peers, confFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
