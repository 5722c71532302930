import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Executor } from '../../src/connectors/executor/executor-types.ts';
import { createWireguardClient } from '../../src/connectors/wireguard/wireguard-client.ts';
import { parseDump } from '../../src/connectors/wireguard/wg-dump.ts';
import { wgKeyPair } from '../../src/lab/wireguard/wireguard-standin.ts';
import { Secret } from '../../src/lib/secret.ts';

export interface WireguardTarget {
  readonly executor: Executor;
  readonly iface: string;
  readonly peers: readonly { publicKey: string }[];
  /** Where `wg-quick save` writes the interface's configuration. */
  readonly confFile: string;
}

/**
 * One set of assertions about `wg` / `wg-quick` behaviour (CONTRACTS.md §6),
 * run against a real interface and against the lab's stand-in: they must
 * answer alike for everything the connector relies on.
 */
export async function wireguardContract(target: WireguardTarget): Promise<void> {
  const { executor: ex, iface } = target;
  const dump = await ex.exec({ argv: ['wg', 'show', iface, 'dump'] });
  assert.equal(dump.exitCode, 0, dump.stderr);
  const lines = dump.stdout.trim().split('\n');
  assert.equal(lines[0]?.split('\t').length, 4, 'interface line: private key, public key, port, fwmark');
  for (const l of lines.slice(1)) assert.equal(l.split('\t').length, 8, 'peer line: 8 tab-separated fields');
  const parsed = parseDump(dump.stdout);
  assert.deepEqual(parsed.peers.map((p) => p.publicKey).sort(), target.peers.map((p) => p.publicKey).sort());

  const noIface = await ex.exec({ argv: ['wg', 'show', 'fbnope0', 'dump'] });
  assert.equal(noIface.exitCode, 1);
  // With the kernel module the reason is "No such device"; with only wireguard-go (no module, as here) the netlink fallback says "Protocol not supported".
  assert.match(noIface.stderr, /^Unable to access interface: (No such device|Protocol not supported)$/m);
  const badKey = await ex.exec({ argv: ['wg', 'set', iface, 'peer', 'not-a-key', 'remove'] });
  assert.equal(badKey.exitCode, 1);
  assert.match(badKey.stderr, /Key is not the correct length or format: `not-a-key'/);
  const unknown = await ex.exec({ argv: ['wg', 'set', iface, 'peer', wgKeyPair().publicKey, 'remove'] });
  assert.deepEqual([unknown.exitCode, unknown.stdout, unknown.stderr], [0, '', ''], 'removing an unknown peer is a silent success');

  const client = createWireguardClient({ iface, persist: 'wg-quick-save', configFile: target.confFile }, { executor: ex });
  const victim = target.peers[0]?.publicKey ?? '';
  assert.notEqual(await client.findPeer(victim), null);
  assert.deepEqual(await client.removePeer(victim), { alreadyAbsent: false });
  assert.equal(await client.findPeer(victim), null);
  assert.deepEqual(await client.removePeer(victim), { alreadyAbsent: true });
  assert.equal((await client.peers()).length, target.peers.length - 1, 'other peers untouched');
  await client.persistRemoval(victim);
  assert.equal(await client.configHasPeer(victim), false, 'the saved configuration no longer has the peer');
  assert.equal(await client.configHasPeer(target.peers[1]?.publicKey ?? ''), true, 'and still has the others');
  // A rejected plan's compensation: the peer back with its allowed IPs, keepalive and preshared key (on stdin), then saved again.
  const psk = wgKeyPair().privateKey;
  const restored = { publicKey: victim, allowedIps: ['10.99.0.7/32'], endpoint: null, persistentKeepalive: 25, presharedKey: new Secret(psk) };
  assert.deepEqual(await client.restorePeer(restored), { alreadyPresent: false });
  const back = await client.findPeer(victim);
  assert.deepEqual([back?.allowedIps, back?.persistentKeepalive, back?.presharedKey?.reveal()], [['10.99.0.7/32'], 25, psk]);
  assert.deepEqual(readdirSync(dirname(target.confFile)).filter((f) => f.startsWith('.firebreak-psk-')), [], 'the preshared key file was removed');
  assert.deepEqual(await client.restorePeer(restored), { alreadyPresent: true });
  await client.persistRestore(restored);
  assert.equal(await client.configHasPeer(victim), true, 'the saved configuration has the peer again');
  const missingIface = createWireguardClient({ iface: 'fbnope0', persist: 'wg-quick-save' }, { executor: ex });
  await assert.rejects(missingIface.peers(), /WireGuard interface fbnope0 on .* does not exist/);
}
