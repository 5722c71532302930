// Writes docs/firebreak.schema.json from the zod definition:
//   node src/config/config-jsonschema.ts --write
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from './config-schema.ts';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, $id: 'https://firebreak.invalid/firebreak.schema.json', title: 'firebreak.yaml' }, null, 2)}\n`;
}

if (import.meta.main && process.argv.includes('--write')) {
  writeFileSync(fileURLToPath(new URL('../../docs/firebreak.schema.json', import.meta.url)), configJsonSchema());
}
