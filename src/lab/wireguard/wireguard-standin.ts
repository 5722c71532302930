import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FirebreakError } from '../../lib/errors.ts';
import { createLocalExecutor, writeAtomicLocal } from '../../connectors/executor/local-executor.ts';
import type { ExecRequest, ExecResult, Executor } from '../../connectors/executor/executor-types.ts';

const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface StandinPeer {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  latestHandshake: number;
  rx: number;
  tx: number;
  keepalive: number | null;
}

export interface StandinInterface {
  privateKey: string;
  publicKey: string;
  listenPort: number;
  address: string;
  peers: StandinPeer[];
}

/** A WireGuard key pair as `wg genkey | wg pubkey` makes it (X25519, base64). */
export function wgKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = (k: { export: (o: { format: 'jwk' }) => { d?: string; x?: string } }, f: 'd' | 'x') => Buffer.from(k.export({ format: 'jwk' })[f] ?? '', 'base64url').toString('base64');
  return { privateKey: raw(privateKey, 'd'), publicKey: raw(publicKey, 'x') };
}

/**
 * The lab's stand-in for `wg` and `wg-quick` on a tenant host, for drills
 * without root: an Executor that answers those commands from in-memory
 * interfaces exactly as the real tools do (same dump format, same messages
 * and exit codes, silent success for an unknown peer), and handles files and
 * locks on the local disk. Any other command is refused as "not found".
 * test/contract/ runs the same assertions against it and a real interface.
 */
export function createWireguardStandin(options: { stateFile: string; confDir: string }): Executor {
  const local = createLocalExecutor();
  // State lives in a file so that several processes (a run, its resume) see one host.
  const load = (): Record<string, StandinInterface> => JSON.parse(readFileSync(options.stateFile, 'utf8')) as Record<string, StandinInterface>;
  const save = (ifs: Record<string, StandinInterface>) => { writeAtomicLocal(options.stateFile, JSON.stringify(ifs), 0o600); };
  const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
  const fail = (stderr: string, exitCode = 1): ExecResult => ({ exitCode, stdout: '', stderr: `${stderr}\n` });

  const dump = (i: StandinInterface) => [
    `${i.privateKey}\t${i.publicKey}\t${i.listenPort}\toff`,
    ...i.peers.map((p) => [p.publicKey, p.presharedKey ?? '(none)', p.endpoint ?? '(none)', p.allowedIps.length === 0 ? '(none)' : p.allowedIps.join(','), String(p.latestHandshake), String(p.rx), String(p.tx), p.keepalive === null ? 'off' : String(p.keepalive)].join('\t')),
  ].join('\n') + '\n';

  const conf = (i: StandinInterface) => [
    '[Interface]', `Address = ${i.address}`, `ListenPort = ${i.listenPort}`, `PrivateKey = ${i.privateKey}`, '',
    ...i.peers.flatMap((p) => ['[Peer]', `PublicKey = ${p.publicKey}`, ...(p.presharedKey === null ? [] : [`PresharedKey = ${p.presharedKey}`]), `AllowedIPs = ${p.allowedIps.join(', ')}`, ...(p.endpoint === null ? [] : [`Endpoint = ${p.endpoint}`]), ...(p.keepalive === null ? [] : [`PersistentKeepalive = ${p.keepalive}`]), '']),
  ].join('\n').replace(/\n*$/, '\n');

  async function exec(req: ExecRequest): Promise<ExecResult> {
    const [cmd, ...args] = req.argv;
    if (cmd === 'wg' || cmd === 'wg-quick') return local.withLock(options.stateFile, async () => run(cmd, args));
    // The host's own files (a preshared key written for `wg set`, then removed).
    if (cmd === 'rm' && args[0] === '-f' && args.length === 2) { rmSync(args[1] ?? '', { force: true }); return ok(); }
    throw new FirebreakError('UNAVAILABLE', `${cmd ?? ''} not found on the lab WireGuard host`);
  }

  function run(cmd: string, args: string[]): ExecResult {
    const ifs = load();
    if (cmd === 'wg') {
      if (args[0] === 'show' && args[2] === 'dump' && args.length === 3) {
        const i = ifs[args[1] ?? ''];
        return i === undefined ? fail('Unable to access interface: No such device') : ok(dump(i));
      }
      if (args[0] === 'set' && args[2] === 'peer' && args[4] === 'remove' && args.length === 5) {
        const key = args[3] ?? '';
        if (!KEY.test(key)) return fail(`Key is not the correct length or format: \`${key}'`);
        const i = ifs[args[1] ?? ''];
        if (i === undefined) return fail('Unable to modify interface: No such device');
        i.peers = i.peers.filter((p) => p.publicKey !== key);
        save(ifs);
        return ok();
      }
      if (args[0] === 'set' && args[2] === 'peer' && args.length >= 5) {
        const key = args[3] ?? '';
        if (!KEY.test(key)) return fail(`Key is not the correct length or format: \`${key}'`);
        const i = ifs[args[1] ?? ''];
        if (i === undefined) return fail('Unable to modify interface: No such device');
        const peer: StandinPeer = i.peers.find((p) => p.publicKey === key) ?? { publicKey: key, presharedKey: null, endpoint: null, allowedIps: [], latestHandshake: 0, rx: 0, tx: 0, keepalive: null };
        for (let k = 4; k < args.length; k += 2) {
          const [name, value] = [args[k], args[k + 1]];
          if (value === undefined) return fail(`Invalid parameter: \`${name ?? ''}'`);
          if (name === 'allowed-ips') peer.allowedIps = value === '' ? [] : value.split(',').map((x) => x.trim());
          else if (name === 'endpoint') peer.endpoint = value;
          else if (name === 'persistent-keepalive') peer.keepalive = value === 'off' ? null : Number(value);
          else if (name === 'preshared-key') {
            // wg reads the key from the file named.
            let psk: string;
            try { psk = readFileSync(value, 'utf8').trim(); } catch (err) { return fail(`fopen: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message}`); }
            if (!KEY.test(psk)) return fail('Key is not the correct length or format');
            peer.presharedKey = psk;
          } else return fail(`Invalid argument: ${name ?? ''}`);
        }
        if (!i.peers.includes(peer)) i.peers.push(peer);
        save(ifs);
        return ok();
      }
      return fail(`Invalid parameter: \`${args.join(' ')}'`);
    }
    if (cmd === 'wg-quick') {
      const name = args[1] ?? '';
      if (args[0] !== 'save' || args.length !== 2) return fail(`Usage: wg-quick [ up | down | up | strip | save ] [ CONFIG_FILE | INTERFACE ]`);
      const i = ifs[name];
      if (i === undefined) return fail(`wg-quick: \`${name}' is not a WireGuard interface`);
      writeAtomicLocal(join(options.confDir, `${name}.conf`), conf(i), 0o600);
      return ok();
    }
    return fail(`${cmd}: unknown command`);
  }

  return {
    describe: 'lab wireguard host',
    exec,
    readFile: (p) => local.readFile(p),
    writeFileAtomic: (p, d, o) => local.writeFileAtomic(p, d, o),
    withLock: (p, fn, o) => local.withLock(p, fn, o),
    close: async () => undefined,
  };
}
