import { z } from 'zod';
import { credentialRef, port } from '../connector-schema.ts';
import { needs, noCredentials, type ExecutorDefinition } from '../connector-types.ts';
import { tcpProbe } from '../connector-probe.ts';

const localSchema = z.strictObject({ kind: z.literal('local') });

const sshSchema = z.strictObject({
  kind: z.literal('ssh'),
  host: z.string().min(1),
  port: port(22),
  user: z.string().min(1),
  privateKey: credentialRef.describe('The SSH private key (OpenSSH or PEM), as a credential reference.'),
  hostKey: z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$|^SHA256:[A-Za-z0-9+/=]{43}$/, 'must be the pinned host key ("ssh-ed25519 AAAA…") or its SHA256: fingerprint').describe('Pinned host key: the connection is refused when the server presents another.'),
});

const composeSchema = z.strictObject({
  kind: z.literal('compose'),
  projectDir: z.string().min(1).describe('Directory of the docker compose project on the host.'),
  service: z.string().min(1).describe('Service (container) the commands run in.'),
  via: z.string().optional().describe('Executor of the host that runs docker compose (default: local).'),
});

/** Commands on the Firebreak host itself. */
export const localExecutor: ExecutorDefinition<'local', typeof localSchema> = {
  kind: 'local',
  schema: localSchema,
  async create() {
    const { createLocalExecutor } = await import('./local-executor.ts');
    return createLocalExecutor();
  },
  probe: () => undefined,
  credentials: noCredentials,
};

/** Commands over SSH, host key pinned, key authentication only. */
export const sshExecutor: ExecutorDefinition<'ssh', typeof sshSchema> = {
  kind: 'ssh',
  schema: sshSchema,
  async create(c, ctx) {
    // ssh2 is loaded only where an SSH host is used.
    const { createSshExecutor } = await import('./ssh-executor.ts');
    return createSshExecutor({ host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, privateKey: await ctx.credential(c.privateKey, 'privateKey') });
  },
  probe: (c, ctx) => tcpProbe(c.host, c.port, ctx),
  credentials: (c) => needs({ privateKey: c.privateKey }),
};

/** Commands inside a docker compose service, on the host of another executor (`via`). */
export const composeExecutor: ExecutorDefinition<'compose', typeof composeSchema> = {
  kind: 'compose',
  schema: composeSchema,
  async create(c, ctx) {
    const { createComposeExecutor } = await import('./compose-executor.ts');
    return createComposeExecutor({ projectDir: c.projectDir, service: c.service }, { via: await ctx.via(c.via ?? 'local') });
  },
  // Reached through its `via` executor, which is probed on its own.
  probe: () => undefined,
  credentials: noCredentials,
};
