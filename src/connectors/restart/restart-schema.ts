import { z } from 'zod';

/** `restart:` in firebreak.yaml (a TimescaleDB role's consumer, the tenant CA): the {@link RestartSpec} of restart-service.ts plus its executor. */
export const restartSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('compose'), projectDir: z.string().min(1), service: z.string().min(1), executor: z.string().optional() }),
  z.strictObject({ kind: z.literal('systemd'), unit: z.string().regex(/^[A-Za-z0-9@._:-]+$/, 'must be a systemd unit name'), executor: z.string().optional() }),
  z.strictObject({ kind: z.literal('command'), argv: z.array(z.string()).min(1), executor: z.string().optional() }),
]).describe('How the service consuming a credential is restarted.');
export type RestartConfig = z.infer<typeof restartSchema>;
