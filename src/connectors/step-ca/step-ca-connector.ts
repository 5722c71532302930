import { z } from 'zod';
import { credentialRef, endpoint } from '../connector-schema.ts';
import { defineConnector, needs } from '../connector-types.ts';
import { httpProbe } from '../connector-probe.ts';
import { readPem, tlsOption } from '../connector-tls.ts';
import type { StepCaClient } from './step-ca-client.ts';

export const stepCaSchema = z.strictObject({
  ...endpoint,
  rootCertFile: z.string().optional().describe('PEM of the CA root that signs the CA\'s TLS certificate.'),
  caCertFile: z.string().optional().describe('PEM of this CA\'s own (intermediate / Sub-CA) certificate.'),
  provisioner: z.string().min(1).describe('Name of the JWK provisioner used to mint one-time tokens.'),
  provisionerPassword: credentialRef.describe('Password that decrypts the JWK provisioner\'s key.'),
  offline: z.boolean().optional().describe('A CA kept offline (no API): steps that need it stop at an approval with manual instructions.'),
}).describe('A step-ca certificate authority.');
export type StepCaSettings = z.output<typeof stepCaSchema>;

/** step-ca (the provider CA and each tenant's Sub-CA): JWK provisioner, revoke and sign. An offline CA is neither probed nor connected. */
export const stepCaConnector = defineConnector({
  id: 'step-ca',
  configKey: 'stepCa',
  scopes: ['provider', 'tenant'],
  schema: stepCaSchema,
  async create(c, ctx): Promise<StepCaClient> {
    const { createStepCaClient } = await import('./step-ca-client.ts');
    return createStepCaClient({
      url: c.url, provisioner: c.provisioner, provisionerPassword: await ctx.credential(c.provisionerPassword, 'provisionerPassword'), label: ctx.label,
      ...tlsOption(c, ctx.where), ...(c.rootCertFile === undefined ? {} : { rootPem: readPem(c.rootCertFile, `${ctx.where}.rootCertFile`) }),
    }, { logger: ctx.log });
  },
  probe: (c, ctx) => (c.offline === true
    ? { endpoint: c.url, run: () => Promise.resolve('offline: not probed (its steps are manual)') }
    : httpProbe('step-ca', c.url, 'health', () => tlsOption(c, ctx.where), ctx)),
  // An offline CA's provisioner is used by the person who signs, never by Firebreak.
  credentials: (c) => (c.offline === true ? [] : needs({ provisionerPassword: c.provisionerPassword })),
});
