import { z } from 'zod';

/** The inputs of subca-compromise (apart from subca-deps.ts, so that naming the options loads no connector). */
export const subcaCompromiseInput = z.object({
  tenant: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'tenant must be a tenant id from firebreak.yaml (a-z, 0-9, _ and -)').describe('the tenant whose Sub-CA key is compromised'),
}).strict();

export type SubcaCompromiseInput = z.infer<typeof subcaCompromiseInput>;
