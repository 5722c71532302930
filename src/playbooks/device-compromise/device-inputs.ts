import { z } from 'zod';

// Device ids are names, not paths: they may contain "/" or quotes, but they
// only ever travel as encoded URL segments, query values and JSON keys.
const deviceId = z.string().min(1, 'device id is empty').max(256, 'device id is longer than 256 characters')
  .refine((v) => !/\p{Cc}/u.test(v), 'device id contains control characters');

/**
 * The inputs of device-compromise, given the check of a certificate serial.
 * That check lives with the X.509 helpers (src/connectors/step-ca), which
 * naming the playbook's options must not load: the playbook passes it
 * (device-compromise.ts), the descriptor, which only names the options, a
 * check that finds nothing.
 */
export function deviceCompromiseInputs(serialProblem: (serial: string) => string | undefined) {
  return z.object({
    tenant: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'tenant id must be lower-case letters, digits, "-" or "_"').describe('tenant id (tenants.<id> in firebreak.yaml)'),
    device: deviceId.describe('device id: ThingsBoard device name, hawkBit controller id, key in cdm_peers.json'),
    cert: z.string().min(1).optional().describe('PEM file of the device certificate (serial read from it)'),
    // Refused here, before any system is asked: a malformed or oversized serial can only be a typo or the wrong paste.
    serial: z.string().min(1).max(200).superRefine((v, ctx) => { const problem = serialProblem(v); if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem }); })
      .optional().describe('certificate serial, decimal, 0x-hex or colon-hex (instead of --cert); checked against what the platform knows of the device'),
    replacement: deviceId.optional().describe('id of the replacement device to issue a certificate for'),
    csr: z.string().min(1).optional().describe('PEM file of the replacement device\'s CSR (with --replacement)'),
    certOut: z.string().min(1).optional().describe('where to write the replacement certificate (default <replacement>.crt in the state directory)'),
  }).strict()
    .refine((i) => i.cert === undefined || i.serial === undefined, { message: 'give --cert or --serial, not both', path: ['serial'] })
    .refine((i) => (i.replacement === undefined) === (i.csr === undefined), { message: '--replacement and --csr go together', path: ['csr'] })
    .refine((i) => i.replacement === undefined || i.replacement !== i.device, { message: 'the replacement must have a new device id', path: ['replacement'] });
}

export type DeviceCompromiseInput = z.infer<ReturnType<typeof deviceCompromiseInputs>>;
