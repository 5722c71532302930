import { z } from 'zod';
import { FirebreakError } from '../../lib/errors.ts';
import { duration } from '../connector-schema.ts';
import { defineConnector, noCredentials } from '../connector-types.ts';
import { restartSchema } from '../restart/restart-schema.ts';
import type { Executor } from '../executor/executor-types.ts';
import type { SubCaFiles } from './subca-host.ts';

export const subCaSchema = z.strictObject({
  executor: z.string().default('local').describe('Executor of the host the tenant CA runs on (its files live there; its new key is generated there).'),
  certFile: z.string().min(1).describe('The tenant CA\'s intermediate certificate (PEM, with its chain), e.g. /srv/tenant-stack/step/certs/intermediate_ca.crt.'),
  keyFile: z.string().min(1).describe('The intermediate\'s private key file, e.g. /srv/tenant-stack/step/secrets/intermediate_ca_key.'),
  restart: restartSchema.describe('How the tenant CA is restarted to load a new certificate and key.'),
  reenroll: z.strictObject({
    concurrency: z.number().int().min(1).max(1000).default(16).describe('Devices re-enrolling at once.'),
    timeout: duration.default('2m').describe('How long a device has to enroll once it got its one-time token.'),
    pollInterval: duration.default('2s').describe('How often its reported certificate is checked meanwhile.'),
  }).default({ concurrency: 16, timeout: '2m', pollInterval: '2s' }),
}).describe('The tenant Sub-CA\'s own certificate and key (subca-compromise).');

/** The tenant CA's host as subca-compromise acts on it: the executor where its files are, and the files. */
export interface SubCaHost {
  readonly host: Executor;
  readonly files: SubCaFiles;
}

/** The tenant Sub-CA's own files on its host (no API of its own: it is reached through an executor). */
export const subCaConnector = defineConnector({
  id: 'sub-ca',
  configKey: 'subCa',
  scopes: ['tenant'],
  schema: subCaSchema,
  async create(c, ctx): Promise<SubCaHost> {
    return { host: await ctx.executor(c.executor), files: { certFile: c.certFile, keyFile: c.keyFile } };
  },
  probe: (c, ctx) => ({
    system: 'sub-ca files',
    endpoint: `${c.executor}:${c.certFile}`,
    run: async () => {
      // Loaded by the probe only, like a client: the definition (hence every configuration load) does not load X.509.
      const { isCaCert, readCaCert } = await import('./subca-host.ts');
      const ex = await ctx.executor(c.executor);
      try {
        const cert = await readCaCert(ex, c);
        if (!isCaCert(cert)) throw new FirebreakError('INVALID_INPUT', `not a CA certificate ("${cert.subject}")`);
        if ((await ex.exec({ argv: ['test', '-r', c.keyFile] })).exitCode !== 0) throw new FirebreakError('NOT_FOUND', `${c.keyFile} is not readable there`);
        return `${cert.subject}, until ${cert.notAfter.toISOString().slice(0, 10)}; key file present`;
      } finally { await ex.close(); }
    },
  }),
  credentials: noCredentials,
});
