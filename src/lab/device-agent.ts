import { Agent, request } from 'undici';
import { createCsr } from './step-ca/step-ca-pki.ts';
import type { ThingsboardSimOptions } from './thingsboard/thingsboard-sim.ts';

export interface EnrollmentAgentOptions {
  /** Devices that never answer (switched off, out of coverage). */
  readonly offline?: ReadonlySet<string>;
  /** PEM the CA's TLS certificate chains to, for an https CA URL. */
  readonly caTrust?: string;
}

/**
 * The devices' side of re-enrollment, for the lab: a device that receives the
 * shared attribute `enrollment` ({token, caUrl}) generates a new key, sends
 * its CSR to the CA's /1.0/sign with the one-time token, and reports the
 * certificate it got as the client attribute `certificate` (or the CA's
 * refusal as `enrollmentError`).
 */
export function enrollmentAgent(o: EnrollmentAgentOptions = {}): NonNullable<ThingsboardSimOptions['deviceAgent']> {
  const dispatcher = o.caTrust === undefined ? undefined : new Agent({ connect: { ca: o.caTrust } });
  return async (device, shared) => {
    const e = shared['enrollment'] as { token?: unknown; caUrl?: unknown } | undefined;
    if (typeof e?.token !== 'string' || typeof e.caUrl !== 'string' || o.offline?.has(device.name) === true) return undefined;
    const csr = await createCsr(device.name);
    const res = await request(`${e.caUrl.replace(/\/$/, '')}/1.0/sign`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr, ott: e.token }),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201 && res.statusCode !== 200) return { enrollmentError: `${res.statusCode}: ${text.slice(0, 200)}` };
    return { certificate: (JSON.parse(text) as { crt: string }).crt, enrolledAt: new Date().toISOString() };
  };
}
