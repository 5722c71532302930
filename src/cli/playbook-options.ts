import type { Command } from 'commander';
import { z } from 'zod';
import { FirebreakError } from '../lib/errors.ts';
import type { AnyPlaybook } from '../engine/playbook-types.ts';

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The top-level fields of a playbook's input schema, for --help and option parsing. */
export function inputFields(p: AnyPlaybook): { name: string; flag: string; description: string; optional: boolean; boolean: boolean }[] {
  const schema = p.input as unknown;
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const optional = field.safeParse(undefined).success;
    const inner = field instanceof z.ZodOptional || field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    return { name, flag: `--${kebab(name)}`, description: field.description ?? inner.description ?? '', optional, boolean: inner instanceof z.ZodBoolean };
  });
}

/** Adds one option per input field to a `plan`/`run`/`drill` command for that playbook. */
export function describeInputs(p: AnyPlaybook): string {
  const fields = inputFields(p);
  if (fields.length === 0) return '';
  const width = Math.max(...fields.map((f) => f.flag.length + (f.boolean ? 0 : 8)));
  return `\nInputs of ${p.id}:\n${fields.map((f) => `  ${`${f.flag}${f.boolean ? '' : ' <value>'}`.padEnd(width + 2)}${f.description}${f.optional ? '' : ' (required)'}`).join('\n')}\n`;
}

/**
 * Turns the words after the playbook name (`--tenant acme --device d-1`) into
 * the playbook's input object. Unknown flags are refused with the list of
 * known ones; the schema then validates the values.
 */
export function parseInputArgs(p: AnyPlaybook, args: readonly string[]): Record<string, unknown> {
  const fields = inputFields(p);
  const byFlag = new Map(fields.map((f) => [f.flag, f]));
  const input: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const field = byFlag.get(flag);
    if (field === undefined) {
      throw new FirebreakError('USAGE', `${p.id} has no input "${arg}"; its inputs are: ${fields.map((f) => f.flag).join(', ') || '(none)'}`);
    }
    if (field.boolean) {
      input[field.name] = eq === -1 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new FirebreakError('USAGE', `${flag} needs a value`);
    if (eq === -1 && looksLikeOption(value)) throw missingValue(flag, value);
    input[field.name] = value;
  }
  return input;
}

/** A word that is an option, not a value: `--help`, `--yes`, `-y` (a negative number stays a value). */
function looksLikeOption(word: string): boolean {
  return word.startsWith('--') || /^-[a-zA-Z]$/.test(word);
}

function missingValue(flag: string, next: string): FirebreakError {
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

/** The flags of a playbook's inputs that take a value (every input but a boolean). */
export function valueFlags(p: AnyPlaybook): string[] {
  return inputFields(p).filter((f) => !f.boolean).map((f) => f.flag);
}

/** Lets a command accept a playbook's own flags after its name. */
export function acceptPlaybookArgs(cmd: Command): Command {
  return cmd.allowUnknownOption(true).allowExcessArguments(true).argument('[inputs...]', 'the playbook\'s inputs as --name value');
}
