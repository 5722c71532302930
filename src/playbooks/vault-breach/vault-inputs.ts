import { z } from 'zod';

/** An auth mount's path as Vault names it, without slashes (`approle`, `jwt`, `ci/github`). */
export const AUTH_MOUNT = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** The inputs of vault-breach (apart from vault-deps.ts, so that naming the options loads no connector). */
export const vaultBreachInput = z.object({
  authMounts: z.string()
    .regex(/^\s*[A-Za-z0-9_./-]+(\s*,\s*[A-Za-z0-9_./-]+)*\s*$/, 'auth-mounts must be auth mount paths separated by commas (e.g. approle,jwt)')
    .refine((v) => v.split(',').every((m) => AUTH_MOUNT.test(m.trim().replace(/^\/|\/$/g, ''))), 'auth-mounts: a mount path has an empty segment')
    .optional()
    .describe('auth mounts to disable during containment, comma-separated (default: provider.vault.disableAuth, else approle,jwt); each must be listed by sys/auth'),
}).strict();

export type VaultBreachInput = z.infer<typeof vaultBreachInput>;
