import type { Command } from 'commander';
import { appAction } from './cli-context.ts';
import type { ShareOptions } from './vault-actions.ts';

// The actions (the Vault client, the prompt) load when they run.
const actions = () => import('./vault-actions.ts');

/** `firebreak vault …`: what the key holders of a vault-breach run do, each on their own terminal. */
export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault')
    .description('The key holders\' part of a vault-breach run: submit an unseal or rekey share straight to Vault, fetch your new encrypted share');

  vault.command('share')
    .description('Submit your key share to the round the run waits for (unseal, rekey authorisation with a current share, verification with a new one): read hidden from the terminal, or from a file descriptor, and sent straight to Vault. Never on the command line')
    .argument('<run>', 'the vault-breach run (id or unique prefix)')
    .option('--share-fd <n>', 'read the share from this open file descriptor instead of the terminal (automation: `--share-fd 3 3<share-file`, or 0 for standard input)')
    .option('--no-resume', 'when your share completes the round, only confirm the step; do not continue a run that no process is executing')
    .addHelpText('after', '\nThe share never appears in the journal, the audit trail, a log, the output or the shell history:\nFirebreak checks the round (for a rekey: that it is the one this run started), submits it, and prints the progress.\nThe share that completes a round confirms the run\'s step, recorded as yours (--as).\n\nExamples:\n  firebreak vault share run-20261202-3f70 --as alice\n  firebreak vault share run-2026 --as bob --share-fd 3 3<bob.share\n  gpg -dq new-share.asc | firebreak vault share run-2026 --as carol --share-fd 0')
    .action(appAction(async (c, runRef: string, o: ShareOptions) => (await actions()).share(c, runRef, o), { playbooks: true, waitMode: () => 'suspend' }));

  vault.command('new-share')
    .description('Print your new unseal share after the rekey was authorised, encrypted to your OpenPGP key (only you can decrypt it): pipe it to `gpg --decrypt`')
    .argument('<run>', 'the vault-breach run (id or unique prefix)')
    .option('--out <file>', 'write it to this file (mode 0600) instead of standard output')
    .addHelpText('after', '\nEach holder gets only their own share (--as names the holder, as in provider.vault.rekey.holders).\n\nExamples:\n  firebreak vault new-share run-2026 --as alice | gpg --decrypt\n  firebreak vault new-share run-2026 --as alice --out alice-share.asc')
    .action(appAction(async (c, runRef: string, o: { out?: string }) => (await actions()).newShare(c, runRef, o)));
}
