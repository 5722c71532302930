import type { Command } from 'commander';
import { FirebreakError } from '../lib/errors.ts';

/** A word that is an option, not a value: `--help`, `--yes`, `-y` (a negative number stays a value). */
export function looksLikeOption(word: string): boolean {
  return word.startsWith('--') || /^-[a-zA-Z]$/.test(word);
}

export function missingValue(flag: string, next: string): FirebreakError {
  return new FirebreakError('USAGE', `${flag} needs a value, but the next word is the option "${next}" (write ${flag}=<value> for a value that starts with -)`);
}

/**
 * Refuses a value-taking option directly followed by another option
 * (`--device --help`, `--tenant --yes`). It runs before commander parses the
 * words: commander would otherwise act on `--help` or `--yes` and leave the
 * option without its value, printing help or approving a run the operator
 * never finished typing.
 */
export function refuseMissingValues(words: readonly string[], valueFlags: ReadonlySet<string>): void {
  for (let i = 0; i < words.length - 1; i++) {
    const word = words[i] ?? '';
    const next = words[i + 1] ?? '';
    if (valueFlags.has(word) && looksLikeOption(next)) throw missingValue(word, next);
  }
}

/** Lets a command accept a playbook's own flags after its name. */
export function acceptPlaybookArgs(cmd: Command): Command {
  return cmd.allowUnknownOption(true).allowExcessArguments(true).argument('[inputs...]', 'the playbook\'s inputs as --name value');
}
