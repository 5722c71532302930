import { FirebreakError } from '../../lib/errors.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import type { StepContext, StepDefinition, StepRef } from '../../engine/playbook-types.ts';
import { abortableSleep } from '../../engine/retry.ts';
import { certificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import { certsOf } from '../../connectors/step-ca/subca-host.ts';
import type { SubcaDeps } from './subca-deps.ts';
import type { SubcaCompromiseInput } from './subca-inputs.ts';

type Ctx = StepContext<SubcaCompromiseInput, SubcaDeps>;
interface Device { readonly id: string; readonly name: string }

// Every device's checks and polls need the new Sub-CA: parsed once per chain, not per poll.
let parsed: { readonly chain: string; readonly cert: X509Certificate } | undefined;

/** The new Sub-CA certificate, parsed from the chain sign-subca journaled. */
export async function newSubCa(chain: string): Promise<X509Certificate> {
  if (parsed?.chain !== chain) parsed = { chain, cert: certsOf(chain, 'the new Sub-CA certificate')[0] as X509Certificate };
  return parsed.cert;
}

/** The certificate the device reports, if it is one the new Sub-CA issued for this device. */
async function reported(ctx: Ctx, signed: SignedChain, d: Device, since = 0): Promise<{ serialHex: string; notAfter: string } | { error: string } | undefined> {
  const a = await ctx.deps.tb.clientAttributes(d.id, ['certificate', 'enrollmentError'], ctx.signal);
  const err = a['enrollmentError'];
  const cert = a['certificate'];
  if (err !== undefined && err.lastUpdateTs >= since && (cert === undefined || cert.lastUpdateTs < err.lastUpdateTs)) return { error: String(err.value) };
  if (typeof cert?.value !== 'string' || cert.lastUpdateTs < since) return undefined;
  let parsed: Awaited<ReturnType<typeof certificateFacts>>;
  try { parsed = await certificateFacts(cert.value, `the certificate ${d.name} reports`); } catch { return undefined; }
  const chain = ctx.output(signed)?.chain;
  if (chain === undefined) throw new FirebreakError('INTERNAL', `${signed.id} has no certificate`);
  const ca = await newSubCa(chain);
  const issued = parsed.cert.issuer === ca.subject && (await parsed.cert.verify({ publicKey: ca.publicKey, signatureOnly: true }).catch(() => false));
  const named = new RegExp(`(?:^|,\\s*)CN=${d.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:,|$)`).test(parsed.cert.subject);
  return issued && named ? { serialHex: parsed.facts.serialHex, notAfter: parsed.facts.notAfter } : undefined;
}

/**
 * Re-enrollment of every device, one journaled item each: the device gets a
 * one-time token of the tenant CA through its ThingsBoard shared attribute
 * `enrollment` (what it receives over MQTT), generates a new key itself,
 * enrolls at the tenant CA, and reports the certificate as its client
 * attribute `certificate`; the item is done when that certificate chains to
 * the new Sub-CA. A device that does not answer within the timeout fails
 * alone; `resume` retries only the failed ones.
 */
/** The step that signed the new Sub-CA (its output carries the chain). */
type SignedChain = StepRef<{ readonly chain: string }>;

export function reenrollDevices(signed: SignedChain): StepDefinition<SubcaCompromiseInput, SubcaDeps, { serialHex: string; notAfter: string }> {
  return {
    id: 'reenroll-devices', title: 'Re-enroll every device of the tenant under the new Sub-CA', phase: 'recovery', system: 'thingsboard', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['restart-tenant-ca', 'inventory'],
    forEach: {
      items: async (ctx) => (await ctx.deps.tb.listDevices(ctx.signal)).map((d) => ({ key: d.name, value: { id: d.id, name: d.name } satisfies Device })),
      concurrency: (ctx) => ctx.deps.reenroll.concurrency,
    },
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: 're-enroll under the new Sub-CA' };
      const r = await reported(ctx, signed, ctx.item?.value as Device);
      return { done: r !== undefined && !('error' in r), detail: 're-enroll under the new Sub-CA' };
    },
    apply: async (ctx) => {
      const d = ctx.item?.value as Device;
      const since = Date.now();
      const token = await ctx.deps.tenantCa.enrollmentToken(d.name, [d.name], ctx.signal);
      await ctx.deps.tb.saveSharedAttributes(d.id, { enrollment: { token: token.reveal(), caUrl: ctx.deps.tenantCaUrl, requestedAt: new Date(since).toISOString() } }, ctx.signal);
      const deadline = since + ctx.deps.reenroll.timeoutMs;
      for (;;) {
        await abortableSleep(Math.min(ctx.deps.reenroll.pollMs, Math.max(0, deadline - Date.now())), ctx.signal);
        const r = await reported(ctx, signed, d, since);
        if (r !== undefined && 'error' in r) throw new FirebreakError('UPSTREAM_REJECTED', `${d.name} could not enroll: ${r.error}`, { retryable: false });
        if (r !== undefined) return r;
        if (Date.now() >= deadline) throw new FirebreakError('TIMEOUT', `${d.name} did not enroll within ${Math.round(ctx.deps.reenroll.timeoutMs / 1000)} s of getting its token (offline?)`, { retryable: false });
      }
    },
    verify: async (ctx) => {
      const d = ctx.item?.value as Device;
      const r = await reported(ctx, signed, d);
      return r !== undefined && !('error' in r) ? { ok: true, detail: `${d.name} holds ${r.serialHex} from the new Sub-CA` } : { ok: false, detail: `${d.name} does not report a certificate from the new Sub-CA` };
    },
  };
}
