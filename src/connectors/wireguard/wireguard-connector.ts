import { z } from 'zod';
import type { Executor } from '../executor/executor-types.ts';
import { defineConnector, noCredentials } from '../connector-types.ts';
import type { WireguardClient } from './wireguard-client.ts';

export const wireguardSchema = z.strictObject({
  interface: z.string().regex(/^[A-Za-z0-9_=+.-]{1,15}$/, 'must be a Linux interface name (1-15 of A-Z a-z 0-9 _ = + . -)'),
  executor: z.string().default('local').describe('Executor of the host the interface is on.'),
  peersJson: z.strictObject({
    path: z.string().min(1).describe('Path of cdm_peers.json.'),
    executor: z.string().optional().describe('Executor where the file lives (e.g. the iot-bridge-api container).'),
  }).optional(),
  persist: z.enum(['wg-quick-save', 'config-file']).default('wg-quick-save'),
  configFile: z.string().optional().describe('The interface\'s .conf file (persist: config-file).'),
}).describe('The tenant\'s WireGuard gateway.');

/** The gateway's interface and, when configured, the bridge's cdm_peers.json (where it lives and its path). */
export interface WireguardConnection {
  readonly wg: WireguardClient;
  readonly peers: { readonly executor: Executor; readonly path: string } | undefined;
}

/**
 * The tenant's WireGuard gateway, driven with `wg` / `wg-quick` through its
 * executor. `check` probes that executor (under executors), not the interface:
 * reading it needs root on the gateway, which a probe should not assume.
 */
export const wireguardConnector = defineConnector({
  id: 'wireguard',
  configKey: 'wireguard',
  scopes: ['tenant'],
  schema: wireguardSchema,
  async create(c, ctx): Promise<WireguardConnection> {
    const { createWireguardClient } = await import('./wireguard-client.ts');
    const wg = createWireguardClient({ iface: c.interface, persist: c.persist, ...(c.configFile === undefined ? {} : { configFile: c.configFile }) }, { executor: await ctx.executor(c.executor) });
    const peers = c.peersJson === undefined ? undefined : { executor: await ctx.executor(c.peersJson.executor ?? c.executor), path: c.peersJson.path };
    return { wg, peers };
  },
  probe: () => undefined,
  credentials: noCredentials,
});
