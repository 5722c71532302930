import type { Command } from 'commander';
import { action } from './cli-context.ts';
import type { DrillOptions } from './drill-run.ts';

export function registerDrillCommand(program: Command): void {
  program.command('drill')
    .description('Rehearse a playbook end to end against the built-in lab (simulated provider and tenant CAs, ThingsBoard with its devices, hawkBit, WireGuard, Vault; a real local PostgreSQL) and measure it against its RTO targets')
    .argument('[playbook]', 'playbook id (default: every playbook, one after the other)')
    .argument('[inputs...]', 'the playbook\'s inputs as --name value (default: its drill inputs)')
    .allowUnknownOption(true)
    .option('--devices <n>', 'devices in the lab tenant', '3')
    .option('--latency <ms>', 'added to every lab API call', '0')
    .option('--jitter <ms>', 'random ± added to the latency', '0')
    .option('--error-rate <p>', 'probability (0..1) that a lab call answers 503', '0')
    .option('--timeout-rate <p>', 'probability (0..1) that a lab call never answers', '0')
    .option('--seed <n>', 'seed of the fault injection (same seed, same faults)', '1')
    .option('--dir <path>', 'where the lab keeps its files and journal (default .firebreak/drills/<time>)')
    .option('--postgres <url>', 'rehearse db-credential-leak on this PostgreSQL (postgres://admin@host:5432/db?sslmode=require) instead of starting one; the admin password comes from $PGPASSWORD; a throwaway role firebreak_drill_… is created there and dropped afterwards')
    .addHelpText('after', '\nExamples:\n  firebreak drill\n  firebreak drill device-compromise --latency 20 --error-rate 0.1\n  firebreak drill device-compromise --device device-002 --devices 50\n  firebreak drill subca-compromise --devices 500\n  PGPASSWORD=… firebreak drill db-credential-leak --postgres postgres://admin@db:5432/postgres')
    .action(action(async (c, playbookId: string | undefined, inputs: string[], o: DrillOptions) => (await import('./drill-run.ts')).drill(c, playbookId, inputs, o)));
}
