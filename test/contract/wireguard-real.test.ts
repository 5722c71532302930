import { test } from 'node:test';
import { requireComponent } from '../helpers/shared.ts';
import { startRealInterface, wireguardProblem } from '../helpers/wireguard.ts';
import { wireguardContract } from './wireguard-contract.ts';

test('WireGuard contract on a real interface (wireguard-go in a network namespace)', async (t) => {
  if (!requireComponent(t, 'WireGuard (wireguard-go, wireguard-tools, netns)', wireguardProblem())) return;
  const real = await startRealInterface(3);
  t.after(() => real.stop());
  await wireguardContract({ executor: real.executor, iface: real.iface, peers: real.peers, confFile: real.confFile });
});
