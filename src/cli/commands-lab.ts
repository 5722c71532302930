import type { Command } from 'commander';
import { action } from './cli-context.ts';

export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('The built-in lab (simulated CAs, ThingsBoard, hawkBit, WireGuard, Vault) that drills and tests use');
  lab.command('up')
    .description('Start the lab and keep it running until Ctrl-C / SIGTERM, with fixed, documented lab credentials, so that you can point Firebreak and your own tools at it')
    .option('--dir <path>', 'keep the lab\'s files (firebreak.yaml, PKI, cdm_peers.json, journal) here and leave them afterwards (default: a temporary directory, removed when the lab stops)')
    .option('--devices <n>', 'devices in the lab tenant', '3')
    .addHelpText('after', `
Prints each simulator's URL, its login (fixed lab credentials: ThingsBoard
tenant@thingsboard.org / tenant, hawkBit admin / admin, step-ca provisioner
firebreak / firebreak-lab; docs/lab.md), the generated firebreak.yaml and
commands to try. With --json: the same as one JSON line, then it keeps running.

Examples:
  firebreak lab up
  firebreak lab up --devices 50 --dir ./lab
  firebreak lab up --json            # then, from another terminal:
  firebreak --config <printed config> plan device-compromise --tenant acme --device device-001`)
    .action(action(async (c, o: { dir?: string; devices: string }) => { await (await import('./lab-up.ts')).labUp(c, o); }));
}
