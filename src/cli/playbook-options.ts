import { z } from 'zod';
import { FirebreakError } from '../lib/errors.ts';
import type { PlaybookDescriptor } from '../playbooks/playbook-descriptor.ts';
import { looksLikeOption, missingValue } from './playbook-args.ts';

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A playbook's id and input schema: a loaded playbook, or a descriptor's once its schema is loaded ({@link inputsOf}). */
export interface PlaybookInputs {
  readonly id: string;
  readonly input: unknown;
}

/** The descriptors' input schemas (zod, loaded on demand: this module is loaded only by what needs them). */
export async function inputsOf(descriptors: readonly PlaybookDescriptor[]): Promise<PlaybookInputs[]> {
  return Promise.all(descriptors.map(async (d) => ({ id: d.id, input: await d.input() })));
}

/** The top-level fields of a playbook's input schema, for --help and option parsing. */
export function inputFields(p: PlaybookInputs): { name: string; flag: string; description: string; optional: boolean; boolean: boolean }[] {
  const schema = p.input;
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const optional = field.safeParse(undefined).success;
    const inner = field instanceof z.ZodOptional || field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    return { name, flag: `--${kebab(name)}`, description: field.description ?? inner.description ?? '', optional, boolean: inner instanceof z.ZodBoolean };
  });
}

/** A playbook's inputs as the help of `plan`, `run` and `playbooks <id>` lists them. */
export function describeInputs(p: PlaybookInputs): string {
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
export function parseInputArgs(p: PlaybookInputs, args: readonly string[]): Record<string, unknown> {
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

/** The flags of a playbook's inputs that take a value (every input but a boolean). */
export function valueFlags(p: PlaybookInputs): string[] {
  return inputFields(p).filter((f) => !f.boolean).map((f) => f.flag);
}
