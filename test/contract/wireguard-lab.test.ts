import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWireguardStandin, wgKeyPair } from '../../src/lab/wireguard/wireguard-standin.ts';
import { wireguardContract } from './wireguard-contract.ts';

test('WireGuard contract on the lab stand-in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-wgl-'));
  t.after(() => { rmSync(dir, { recursive: true, force: true }); });
  const peers = Array.from({ length: 3 }, (_, i) => ({ publicKey: wgKeyPair().publicKey, presharedKey: null, endpoint: `192.0.2.${i + 1}:51820`, allowedIps: [`10.77.1.${i + 2}/32`], latestHandshake: 0, rx: 0, tx: 0, keepalive: 25 }));
  const stateFile = join(dir, 'host.json');
  writeFileSync(stateFile, JSON.stringify({ fbwglab0: { ...wgKeyPair(), listenPort: 51820, address: '10.77.0.1/16', peers } }));
  const ex = createWireguardStandin({ stateFile, confDir: dir });
  await ex.exec({ argv: ['wg-quick', 'save', 'fbwglab0'] });
  await wireguardContract({ executor: ex, iface: 'fbwglab0', peers, confFile: join(dir, 'fbwglab0.conf') });
});
