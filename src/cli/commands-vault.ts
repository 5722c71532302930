import type { Command } from 'commander';
import { appAction } from './cli-context.ts';
import type { ShareOptions } from './vault-actions.ts';

// The actions (the Vault client, the prompt) load when they run.
const actions = () => import('./vault-actions.ts');

/** `firebreak vault …`: what the key holders of a vault-breach run do, each on their own terminal. */
export function registerVaultCommands(program: Command): void {
  const vault = program.command('vault')
    .description('The key holders\' part of a vault-breach run: submit an unseal or rekey share straight to Vault, fetch your new encrypted share, record a verification done outside Firebreak');

  vault.command('share')
    .description('Submit your key share to the round the run waits for (unseal, rekey authorisation with a current share, verification with a new one): read hidden from the terminal, or from a file descriptor, and sent straight to Vault. Never on the command line')
    .argument('<run>', 'the vault-breach run (id or unique prefix)')
    .option('--share-fd <n>', 'read the share from this open file descriptor instead of the terminal (automation: `--share-fd 3 3<share-file`, or 0 for standard input)')
    .option('--no-resume', 'when your share completes the round, only confirm the step; do not continue a run that no process is executing')
    .addHelpText('after', '\nThe share never appears in the journal, the audit trail, a log, the output or the shell history:\nFirebreak checks the round (for a rekey: that it is the one this run started), submits it, and prints the progress.\nThe share that completes a round confirms the run\'s step, recorded as yours (--as).\n\nExamples:\n  firebreak vault share run-20261202-3f70 --as alice\n  firebreak vault share run-2026 --as bob --share-fd 3 3<bob.share\n  gpg -dq new-share.asc | firebreak vault share run-2026 --as carol --share-fd 0')
    .action(appAction(async (c, runRef: string, o: ShareOptions) => (await actions()).share(c, runRef, o), { playbooks: true, waitMode: () => 'suspend' }));

  vault.command('verified')
    .description('Record that the new key holders completed the run\'s verification outside Firebreak (`vault operator rekey -verify`): Vault\'s API cannot show a completed verification once it is over when the seal keeps its shares and threshold')
    .argument('<run>', 'the vault-breach run (id or unique prefix)')
    .requiredOption('--nonce <nonce>', 'the verification\'s nonce, as `vault operator rekey -verify -status` showed it to the new holders')
    .option('--no-resume', 'only confirm the step; do not continue a run that no process is executing')
    .addHelpText('after', '\nFor the incident lead, only when the holders did not use `firebreak vault share` (which records it itself).\nRefused while the verification is still in progress, and when Vault\'s seal is not the rekey\'s plan.\nThe statement is recorded as yours (--as) in the audit trail, and the run continues: the backup of the\nnew shares is deleted and the encryption key rotated.\n\nExample:\n  firebreak vault verified run-2026 --as carol --nonce 8b112c4e-0d27-6a5f-b1b9-1f0c1e2d3a4b')
    .action(appAction(async (c, runRef: string, o: { nonce: string; resume: boolean }) => (await actions()).verified(c, runRef, o), { playbooks: true, waitMode: () => 'suspend' }));

  vault.command('new-share')
    .description('Print your new unseal share after the rekey was authorised, encrypted to your OpenPGP key (only you can decrypt it): pipe it to `gpg --decrypt`')
    .argument('<run>', 'the vault-breach run (id or unique prefix)')
    .option('--out <file>', 'write it to this file (mode 0600) instead of standard output')
    .addHelpText('after', '\nEach holder gets only their own share (--as names the holder, as in provider.vault.rekey.holders).\n\nExamples:\n  firebreak vault new-share run-2026 --as alice | gpg --decrypt\n  firebreak vault new-share run-2026 --as alice --out alice-share.asc')
    .action(appAction(async (c, runRef: string, o: { out?: string }) => (await actions()).newShare(c, runRef, o)));
}
