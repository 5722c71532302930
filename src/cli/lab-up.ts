// What `firebreak lab up` does, imported by its action (commands-lab.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startLab, type Lab } from '../lab/lab.ts';
import type { CommandContext } from './cli-context.ts';
import { num } from './option-values.ts';
import type { Out } from './output.ts';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Resolves at the first SIGINT / SIGTERM; installed before the lab starts, so a Ctrl-C while it starts still cleans up. */
function stopRequested(): { promise: Promise<NodeJS.Signals>; dispose: () => void } {
  let fire: (s: NodeJS.Signals) => void = () => undefined;
  const promise = new Promise<NodeJS.Signals>((r) => { fire = r; });
  const handler = (s: NodeJS.Signals) => { fire(s); };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return { promise, dispose: () => { for (const s of STOP_SIGNALS) process.off(s, handler); } };
}

/** What `lab up` prints: every URL, the fixed logins (lab credentials, documented in docs/lab.md), the config and how to use it. */
export function labSummary(lab: Lab, removeOnExit: boolean): Record<string, unknown> {
  const c = lab.credentials;
  const s = lab.simulators;
  const cfg = lab.configPath;
  return {
    dir: lab.dir,
    removeOnExit,
    config: cfg,
    tenant: lab.tenant,
    devices: lab.devices,
    simulators: {
      thingsboard: { url: s.thingsboard.url, username: c.thingsboard.username, password: c.thingsboard.password },
      hawkbit: { url: s.hawkbit.url, username: c.hawkbit.username, password: c.hawkbit.password },
      'step-ca': { url: s['step-ca'].url, provisioner: c.stepCa.username, password: c.stepCa.password, rootCert: join(lab.dir, 'root_ca.crt'), caCert: join(lab.dir, 'sub_ca.crt') },
      'provider-ca': { url: s['provider-ca'].url, provisioner: c.providerCa.username, password: c.providerCa.password, caCert: join(lab.dir, 'provider_ca.crt') },
      // Vault's root token stays in its file (new at each start, as `vault operator init` makes it); the operator logs in with userpass.
      // It serves HTTPS from the lab's own CA: `vault` and curl need caFile (VAULT_CACERT, --cacert).
      vault: { url: lab.vault.url, caFile: lab.vault.caFile, username: c.vault.username, password: c.vault.password, tokenFile: lab.vault.tokenFile, auditLog: lab.vault.auditFile },
    },
    wireguard: { kind: 'stand-in (an executor, no network interface)', stateFile: join(lab.dir, 'wireguard-host.json'), peersJson: join(lab.dir, 'cdm_peers.json') },
    examples: [
      `firebreak --config ${cfg} plan device-compromise --tenant ${lab.tenant} --device ${lab.devices[0] ?? 'device-001'}`,
      `firebreak --config ${cfg} run device-compromise --tenant ${lab.tenant} --device ${lab.devices[0] ?? 'device-001'}`,
      `curl -s -X POST ${s.thingsboard.url}/api/auth/login -H 'Content-Type: application/json' -d '${JSON.stringify({ username: c.thingsboard.username, password: c.thingsboard.password })}'`,
      `curl -s -u ${c.hawkbit.username}:${c.hawkbit.password} ${s.hawkbit.url}/rest/v1/targets`,
      `VAULT_ADDR=${lab.vault.url} VAULT_CACERT=${lab.vault.caFile} vault status`,
    ],
  };
}

function printHuman(out: Out, lab: Lab, removeOnExit: boolean): void {
  const c = lab.credentials;
  const s = lab.simulators;
  const summary = labSummary(lab, removeOnExit);
  out.line(out.style('bold', `Lab up in ${lab.dir}${removeOnExit ? ' (removed when it stops)' : ''}: tenant ${lab.tenant}, ${lab.devices.length} device(s) ${lab.devices[0] ?? ''}…${lab.devices.at(-1) ?? ''}`));
  out.line();
  out.table(['SYSTEM', 'URL', 'LOGIN (lab credentials)'], [
    ['ThingsBoard', s.thingsboard.url, `${c.thingsboard.username} / ${c.thingsboard.password}`],
    ['hawkBit', s.hawkbit.url, `${c.hawkbit.username} / ${c.hawkbit.password} (HTTP Basic)`],
    [`step-ca (${lab.tenant} Sub-CA)`, s['step-ca'].url, `provisioner ${c.stepCa.username} / ${c.stepCa.password}; root ${join(lab.dir, 'root_ca.crt')}`],
    ['provider CA', s['provider-ca'].url, `provisioner ${c.providerCa.username} / ${c.providerCa.password}`],
    ['Vault', lab.vault.url, `userpass ${c.vault.username} / ${c.vault.password}; root token in ${lab.vault.tokenFile}; CA ${lab.vault.caFile}`],
    ['WireGuard', 'stand-in, no network', `state ${join(lab.dir, 'wireguard-host.json')}, peers ${join(lab.dir, 'cdm_peers.json')}`],
  ]);
  out.line();
  out.line(`Configuration: ${lab.configPath}`);
  out.line('Try:');
  for (const e of summary['examples'] as string[]) out.line(`  ${e}`);
  out.line(out.style('dim', 'Ctrl-C (or SIGTERM) stops the lab.'));
}

/** Starts the lab and keeps it until SIGINT / SIGTERM, then stops it (and removes its directory when it made one). */
export async function labUp({ g, out }: CommandContext, o: { dir?: string; devices: string }): Promise<void> {
  const devices = num('--devices', o.devices, 1, 100_000);
  const removeOnExit = o.dir === undefined;
  const dir = o.dir === undefined ? mkdtempSync(join(tmpdir(), 'firebreak-lab-')) : resolve(o.dir);
  const stop = stopRequested();
  let started: Lab | undefined;
  try {
    started = await startLab({ dir, devices, credentials: 'fixed', generatedBy: 'firebreak lab up' });
    // Written as is, not through out.data: its redaction would hide the lab logins, which are meant to be printed.
    if (g.json) process.stdout.write(`${JSON.stringify(labSummary(started, removeOnExit))}\n`);
    else printHuman(out, started, removeOnExit);
    const signal = await stop.promise;
    if (!g.json) out.err(`\n${signal}: stopping the lab${removeOnExit ? ` and removing ${dir}` : ''}…`);
  } finally {
    stop.dispose();
    await started?.stop();
    if (removeOnExit) rmSync(dir, { recursive: true, force: true });
  }
}
