import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path/posix';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import type { Executor, ExecResult } from '../executor/executor-types.ts';
import { WG_KEY, parseDump, type WgPeer } from './wg-dump.ts';

export interface WireguardConfig {
  readonly iface: string;
  readonly persist: 'wg-quick-save' | 'config-file';
  /** The interface's .conf (persist: config-file; also checked by verify when given). */
  readonly configFile?: string;
}

export interface WireguardClient {
  peers(signal?: AbortSignal): Promise<WgPeer[]>;
  findPeer(publicKey: string, signal?: AbortSignal): Promise<WgPeer | null>;
  /** `wg set <if> peer <key> remove`; an absent peer counts as done (the tool itself succeeds silently). */
  removePeer(publicKey: string, signal?: AbortSignal): Promise<{ alreadyAbsent: boolean }>;
  /** Makes the live state survive a restart: `wg-quick save`, or removes the peer's [Peer] block from the .conf. */
  persistRemoval(publicKey: string, signal?: AbortSignal): Promise<{ method: string }>;
  /** Whether the persisted config still names the peer (null when no config file is known). */
  configHasPeer(publicKey: string): Promise<boolean | null>;
  /** Puts a removed peer back on the live interface (`wg set … allowed-ips …`; the preshared key from a 0600 file, removed after); a peer present counts as done. */
  restorePeer(peer: RestorablePeer, signal?: AbortSignal): Promise<{ alreadyPresent: boolean }>;
  /** Persists the live state again with the peer back: `wg-quick save`, or its [Peer] block added to the .conf. */
  persistRestore(peer: RestorablePeer, signal?: AbortSignal): Promise<{ method: string }>;
}

/** What it takes to put a removed peer back (a compensation): what `wg show dump` listed. */
export interface RestorablePeer {
  readonly publicKey: string;
  readonly allowedIps: readonly string[];
  readonly endpoint: string | null;
  readonly persistentKeepalive: number | null;
  readonly presharedKey: Secret | null;
}

export function assertWgKey(key: string, what = 'WireGuard public key'): void {
  if (!WG_KEY.test(key)) throw new FirebreakError('INVALID_INPUT', `${what} ${JSON.stringify(key.slice(0, 60))} is not a WireGuard key (44 characters of base64 ending in "=")`);
}

/** WireGuard through the `wg` tools on the interface's host (any executor). */
export function createWireguardClient(config: WireguardConfig, deps: { executor: Executor }): WireguardClient {
  const ex = deps.executor;
  const where = `${config.iface} on ${ex.describe}`;
  const run = async (argv: string[], signal?: AbortSignal): Promise<ExecResult> => {
    let r: ExecResult;
    try {
      r = await ex.exec({ argv, timeoutMs: 30_000, ...(signal === undefined ? {} : { signal }) });
    } catch (err) {
      if (err instanceof FirebreakError && /not found/.test(err.message)) {
        throw new FirebreakError('UNAVAILABLE', `${argv[0] ?? ''} (wireguard-tools) not found on ${ex.describe}: install wireguard-tools there`, { cause: err, retryable: false });
      }
      throw err;
    }
    if (r.exitCode !== 0) {
      const msg = r.stderr.trim().split('\n')[0] ?? '';
      if (/No such device|is not a WireGuard interface|Unable to (access|modify) interface: Protocol not supported/.test(r.stderr)) throw new FirebreakError('NOT_FOUND', `WireGuard interface ${where} does not exist: ${msg}`);
      if (/Operation not permitted|Permission denied/.test(r.stderr)) throw new FirebreakError('AUTH_FAILED', `not permitted to manage ${where}: ${msg}`);
      throw new FirebreakError('UPSTREAM_REJECTED', `${argv.slice(0, 3).join(' ')} failed on ${ex.describe} (exit ${r.exitCode}): ${msg}`);
    }
    return r;
  };
  const peers = async (signal?: AbortSignal) => parseDump((await run(['wg', 'show', config.iface, 'dump'], signal)).stdout).peers;
  const confPath = () => config.configFile ?? `/etc/wireguard/${config.iface}.conf`;
  /** Makes the live state survive a restart: `wg-quick save`, or `edit` applied to the .conf under its lock. */
  const persist = async (edit: (conf: string) => string, what: string, signal?: AbortSignal): Promise<{ method: string }> => {
    if (config.persist === 'wg-quick-save') {
      await run(['wg-quick', 'save', config.iface], signal);
      return { method: `wg-quick save ${config.iface}` };
    }
    const file = config.configFile;
    if (file === undefined) throw new FirebreakError('CONFIG_INVALID', `persist: config-file needs configFile for ${where}`);
    await ex.withLock(file, async () => {
      const text = (await ex.readFile(file)).toString('utf8');
      const next = edit(text);
      if (next !== text) await ex.writeFileAtomic(file, next);
    });
    return { method: `${what} ${file}` };
  };

  return {
    peers,
    async findPeer(publicKey, signal) {
      assertWgKey(publicKey);
      return (await peers(signal)).find((p) => p.publicKey === publicKey) ?? null;
    },
    async removePeer(publicKey, signal) {
      assertWgKey(publicKey);
      const present = (await peers(signal)).some((p) => p.publicKey === publicKey);
      await run(['wg', 'set', config.iface, 'peer', publicKey, 'remove'], signal);
      return { alreadyAbsent: !present };
    },
    async persistRemoval(publicKey, signal) {
      assertWgKey(publicKey);
      return persist((text) => removePeerBlock(text, publicKey), 'removed the [Peer] block from', signal);
    },
    async restorePeer(peer, signal) {
      assertWgKey(peer.publicKey);
      if ((await peers(signal)).some((p) => p.publicKey === peer.publicKey)) return { alreadyPresent: true };
      const argv = ['wg', 'set', config.iface, 'peer', peer.publicKey, 'allowed-ips', peer.allowedIps.join(',')];
      if (peer.endpoint !== null) argv.push('endpoint', peer.endpoint);
      if (peer.persistentKeepalive !== null) argv.push('persistent-keepalive', String(peer.persistentKeepalive));
      if (peer.presharedKey === null) {
        await run(argv, signal);
        return { alreadyPresent: false };
      }
      // The preshared key is a secret: never on the command line. wg reads it from a file (its stdin would be a
      // socket under most executors, which wg cannot open), written 0600 beside the interface's config and removed after.
      const pskFile = `${dirname(confPath())}/.firebreak-psk-${randomBytes(8).toString('hex')}`;
      await ex.writeFileAtomic(pskFile, `${peer.presharedKey.reveal()}\n`, { mode: 0o600 });
      try {
        await run([...argv, 'preshared-key', pskFile], signal);
      } finally {
        await ex.exec({ argv: ['rm', '-f', pskFile], timeoutMs: 30_000 }).catch(() => undefined);
      }
      return { alreadyPresent: false };
    },
    async persistRestore(peer, signal) {
      assertWgKey(peer.publicKey);
      const block = ['[Peer]', `PublicKey = ${peer.publicKey}`, ...(peer.presharedKey === null ? [] : [`PresharedKey = ${peer.presharedKey.reveal()}`]),
        `AllowedIPs = ${peer.allowedIps.join(', ')}`, ...(peer.endpoint === null ? [] : [`Endpoint = ${peer.endpoint}`]),
        ...(peer.persistentKeepalive === null ? [] : [`PersistentKeepalive = ${peer.persistentKeepalive}`])];
      // A block already there is kept as it is.
      return persist((text) => (removePeerBlock(text, peer.publicKey) !== text ? text : `${text.replace(/\n*$/, '\n')}\n${block.join('\n')}\n`), 'added the [Peer] block back to', signal);
    },
    async configHasPeer(publicKey) {
      const file = config.configFile ?? (config.persist === 'wg-quick-save' ? confPath() : undefined);
      if (file === undefined) return null;
      let text: string;
      try {
        text = (await ex.readFile(file)).toString('utf8');
      } catch (err) {
        if (err instanceof FirebreakError && err.code === 'NOT_FOUND') return null;
        throw err;
      }
      return removePeerBlock(text, publicKey) !== text;
    },
  };
}

/**
 * Removes every `[Peer]` block whose PublicKey is `publicKey` from a
 * wg/wg-quick .conf, keeping every other line (comments, order, blank lines).
 * A block runs from its `[Peer]` header to the next section header.
 */
export function removePeerBlock(conf: string, publicKey: string): string {
  const nl = conf.includes('\r\n') ? '\r\n' : '\n';
  const lines = conf.split(/\r?\n/);
  const out: string[] = [];
  let block: string[] | undefined;
  const flush = () => {
    if (block === undefined) return;
    const key = block.map((l) => /^\s*PublicKey\s*=\s*(\S+)\s*$/i.exec(l)?.[1]).find((k) => k !== undefined);
    if (key !== publicKey) out.push(...block);
    block = undefined;
  };
  for (const line of lines) {
    if (/^\s*\[/.test(line)) {
      flush();
      if (/^\s*\[Peer\]\s*$/i.test(line)) { block = [line]; continue; }
    }
    if (block !== undefined) block.push(line);
    else out.push(line);
  }
  flush();
  return out.join(nl);
}
