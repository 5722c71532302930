import { z } from 'zod';

/** The inputs of db-credential-leak (apart from db-deps.ts, so that naming the options loads no connector). */
export const dbCredentialLeakInput = z.object({
  stack: z.string().regex(/^(provider|tenant:[a-z0-9][a-z0-9_-]{0,62})$/, 'stack must be "provider" or "tenant:<tenant id>"').describe('whose database: provider, or tenant:<id>'),
  role: z.string().min(1, 'role is empty').max(63, 'a PostgreSQL role name is at most 63 bytes').describe('the database role whose password leaked (e.g. telegraf)'),
}).strict();

export type DbCredentialLeakInput = z.infer<typeof dbCredentialLeakInput>;
