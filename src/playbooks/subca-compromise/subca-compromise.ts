import { FirebreakError } from '../../lib/errors.ts';
import type { X509Certificate } from '../../lib/x509.ts';
import { definePlaybook, type AnyStep, type StepContext, type StepDefinition } from '../../engine/playbook-types.ts';
import { abortableSleep } from '../../engine/retry.ts';
import { assertIssuedBy, certificateFacts } from '../../connectors/step-ca/step-ca-serial.ts';
import { certsOf, csrFile, exists, installCa, isCaCert, pendingKeyAndCsr, pendingKeyFile, probeCsr, publicKeyOf, readCaCert, signedCertFile, spkiOf } from '../../connectors/step-ca/subca-host.ts';
import { restartService } from '../../connectors/restart/restart-service.ts';
import { connectSubca, disconnectSubca, type SubcaDeps } from './subca-deps.ts';
import { subcaCompromiseInput, type SubcaCompromiseInput } from './subca-inputs.ts';
import { reenrollDevices, newSubCa } from './subca-reenroll.ts';
import { signOnce } from '../sign-once.ts';

type Ctx = StepContext<SubcaCompromiseInput, SubcaDeps>;
/** A step of this playbook whose output is `Out`, read by later steps with `ctx.output(step)`. */
const step = <Out>(s: StepDefinition<SubcaCompromiseInput, SubcaDeps, Out>) => s;

export interface ResolvedSubCa { readonly serial: string; readonly serialHex: string; readonly subject: string; readonly cn: string; readonly notAfter: string }
export interface SignedSubCa { readonly chain: string; readonly serialHex: string; readonly subject: string; readonly notAfter: string; readonly spki: string }

/** The output of an earlier step this one depends on: absent is a bug. */
function outputOf<Out>(ctx: Ctx, s: StepDefinition<SubcaCompromiseInput, SubcaDeps, Out>): Out {
  const out = ctx.output(s);
  if (out === undefined) throw new FirebreakError('INTERNAL', `${s.id} has no output`);
  return out;
}
const resolved = (ctx: Ctx) => outputOf(ctx, resolveSubcaStep);
const signed = (ctx: Ctx) => outputOf(ctx, signSubcaStep);

/** The new certificate must be a CA certificate for the pending key, named like the old one, from the provider CA. */
async function checkSigned(ctx: Ctx, chain: string, where: string): Promise<SignedSubCa> {
  const cert = certsOf(chain, where)[0] as X509Certificate;
  const { facts } = await certificateFacts(cert.toString('pem'), where);
  const r = resolved(ctx);
  if (!isCaCert(cert)) throw new FirebreakError('VERIFY_FAILED', `${where} (serial ${facts.serialHex}) is not a CA certificate (basicConstraints CA:true missing): the provider CA's provisioner must issue intermediates`);
  if (cert.subject !== r.subject) throw new FirebreakError('VERIFY_FAILED', `${where} is for "${cert.subject}", the Sub-CA is "${r.subject}"`);
  const pending = await publicKeyOf(ctx.deps.host, pendingKeyFile(ctx.deps.files), ctx.signal);
  if (spkiOf(cert) !== pending) throw new FirebreakError('VERIFY_FAILED', `${where} does not certify the new key ${pendingKeyFile(ctx.deps.files)} on ${ctx.deps.host.describe}`);
  if (ctx.deps.providerCert !== undefined) await assertIssuedBy(cert, ctx.deps.providerCert, ctx.deps.providerName);
  return { chain, serialHex: facts.serialHex, subject: facts.subject, notAfter: facts.notAfter, spki: pending };
}

const resolveSubcaStep = step<ResolvedSubCa>({
  id: 'resolve-subca', title: 'Read the tenant Sub-CA certificate on its host', phase: 'assessment', system: 'step-ca', effect: 'read', idempotency: 'natural',
  apply: async (ctx): Promise<ResolvedSubCa> => {
    const cert = await readCaCert(ctx.deps.host, ctx.deps.files);
    const { facts } = await certificateFacts(cert.toString('pem'), ctx.deps.files.certFile);
    if (!isCaCert(cert)) throw new FirebreakError('INVALID_INPUT', `${ctx.deps.files.certFile} on ${ctx.deps.host.describe} is not a CA certificate (serial ${facts.serialHex}, "${facts.subject}")`);
    if (ctx.deps.providerCert !== undefined) await assertIssuedBy(cert, ctx.deps.providerCert, ctx.deps.providerName);
    const cn = /(?:^|,\s*)CN=([^,]+)/.exec(cert.subject)?.[1];
    if (cn === undefined) throw new FirebreakError('INVALID_INPUT', `the Sub-CA certificate's subject "${cert.subject}" has no CN`);
    return { serial: facts.serial, serialHex: facts.serialHex, subject: facts.subject, cn, notAfter: facts.notAfter };
  },
});

const newKeyStep = step<{ csr: string; csrFile: string; reusedKey: boolean }>({
  id: 'new-key', title: 'Generate the new Sub-CA key on the tenant CA host, and its CSR', phase: 'eradication', system: 'tenant-ca-host', effect: 'mutate', idempotency: 'natural',
  dependsOn: ['revoke-subca'],
  check: async (ctx) => ({ done: false, detail: ctx.planning ? `new P-256 key at ${pendingKeyFile(ctx.deps.files)} on ${ctx.deps.host.describe}, CSR at ${csrFile(ctx.deps.files)}` : 'generate or reuse the pending key' }),
  apply: async (ctx) => {
    const r = await pendingKeyAndCsr(ctx.deps.host, ctx.deps.files, resolved(ctx).cn, ctx.signal);
    return { csr: r.csrPem, csrFile: csrFile(ctx.deps.files), reusedKey: r.reusedKey };
  },
});

const signSubcaStep = step<SignedSubCa>({
  // Signing twice would leave an intermediate certificate recorded nowhere, never revoked: keyed by a persisted one-time token.
  id: 'sign-subca', title: 'Have the provider CA sign the new Sub-CA certificate', phase: 'eradication', system: 'step-ca', effect: 'mutate', idempotency: 'keyed',
  dependsOn: ['new-key'], approval: true,
  inDoubt: (ctx) => `The provider CA (${ctx.deps.providerName}) may have issued an intermediate certificate for "${resolved(ctx).subject}" with the key ${pendingKeyFile(ctx.deps.files)} in that attempt. Look for it in the provider CA's database or logs (certificates for that subject issued since the run started) and revoke it (reason superseded)`,
  manual: (ctx) => (ctx.deps.provider !== undefined ? undefined
    : `the provider CA is offline. Sign the CSR ${csrFile(ctx.deps.files)} (on ${ctx.deps.host.describe}) there as a CA certificate (basicConstraints CA:true, pathlen 0; keyUsage keyCertSign, cRLSign) and put the chain, new Sub-CA first, at ${signedCertFile(ctx.deps.files)} on the same host.`),
  apply: async (ctx): Promise<SignedSubCa> => {
    const { csr } = outputOf(ctx, newKeyStep);
    if (ctx.deps.provider === undefined) {
      const file = signedCertFile(ctx.deps.files);
      if (!(await exists(ctx.deps.host, file, ctx.signal))) throw new FirebreakError('PRECONDITION_FAILED', `${file} is not on ${ctx.deps.host.describe}: put the signed Sub-CA certificate there, then resume`);
      return checkSigned(ctx, (await ctx.deps.host.readFile(file)).toString('utf8'), `${file} on ${ctx.deps.host.describe}`);
    }
    const s = await signOnce(ctx, ctx.deps.provider, 'sign-subca', { csr, subject: resolved(ctx).cn, sans: [], what: `signing the new Sub-CA at ${ctx.deps.providerName}` });
    return checkSigned(ctx, [s.crt, ...s.certChain.slice(1)].map((p) => p.trim()).join('\n') + '\n', `the certificate from ${ctx.deps.providerName}`);
  },
});

/** Re-enrollment of every device under the new Sub-CA (exported for the benchmark). */
export const reenrollStep = reenrollDevices(signSubcaStep);

const steps: AnyStep<SubcaCompromiseInput, SubcaDeps>[] = [
  resolveSubcaStep,
  {
    id: 'inventory', title: 'List the tenant\'s devices (evidence of what must re-enroll)', phase: 'assessment', system: 'thingsboard', effect: 'read', idempotency: 'natural',
    apply: async (ctx) => {
      const devices = await ctx.deps.tb.listDevices(ctx.signal);
      const ref = await ctx.evidence('devices', devices.map((d) => ({ id: d.id, name: d.name, type: d.type, createdTime: d.createdTime })));
      return { devices: devices.length, evidence: ref.ref };
    },
  },
  {
    id: 'revoke-subca', title: 'Revoke the Sub-CA certificate at the provider CA (cACompromise)', phase: 'containment', system: 'step-ca', effect: 'irreversible', idempotency: 'natural',
    dependsOn: ['resolve-subca'], approval: true,
    manual: (ctx) => (ctx.deps.provider !== undefined ? undefined
      : `the provider CA is offline. On it, revoke the Sub-CA certificate serial ${resolved(ctx).serialHex} ("${resolved(ctx).subject}") with reason cACompromise (2), and publish its new CRL where relying parties fetch it.`),
    check: async (ctx) => ({ done: false, detail: ctx.deps.provider === undefined ? 'revoke by hand on the offline provider CA' : 'revoke the Sub-CA certificate (reason cACompromise)' }),
    apply: async (ctx) => (ctx.deps.provider === undefined
      ? { revokedBy: 'operator (offline CA)' }
      : await ctx.deps.provider.revoke(resolved(ctx).serial, 'cACompromise', ctx.signal)),
    verify: async (ctx) => {
      if (ctx.deps.provider === undefined) return { ok: true, detail: 'confirmed by the operator of the offline provider CA' };
      const again = await ctx.deps.provider.revoke(resolved(ctx).serial, 'cACompromise', ctx.signal);
      return again.alreadyRevoked ? { ok: true, detail: `${ctx.deps.providerName} reports serial ${resolved(ctx).serialHex} already revoked` } : { ok: false, detail: 'the provider CA accepted a second revocation: the first did not hold' };
    },
  },
  newKeyStep,
  signSubcaStep,
  {
    id: 'install-subca', title: 'Install the new Sub-CA certificate and key (the old ones kept as evidence)', phase: 'eradication', system: 'tenant-ca-host', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['sign-subca'],
    check: async (ctx) => {
      if (ctx.planning) return { done: false, detail: `replace ${ctx.deps.files.certFile} and ${ctx.deps.files.keyFile}` };
      const current = await certificateFacts((await readCaCert(ctx.deps.host, ctx.deps.files)).toString('pem'));
      const done = current.facts.serialHex === signed(ctx).serialHex && !(await exists(ctx.deps.host, pendingKeyFile(ctx.deps.files), ctx.signal));
      return { done, detail: 'install the new certificate and key' };
    },
    apply: async (ctx) => installCa(ctx.deps.host, ctx.deps.files, signed(ctx).chain, ctx.signal),
    verify: async (ctx) => {
      const current = await certificateFacts((await readCaCert(ctx.deps.host, ctx.deps.files)).toString('pem'));
      const key = await publicKeyOf(ctx.deps.host, ctx.deps.files.keyFile, ctx.signal);
      const ok = current.facts.serialHex === signed(ctx).serialHex && key === signed(ctx).spki;
      return ok ? { ok, detail: `${ctx.deps.files.certFile} holds ${current.facts.serialHex}, and ${ctx.deps.files.keyFile} is its key` } : { ok, detail: 'the installed certificate and key do not match the new Sub-CA' };
    },
  },
  {
    id: 'restart-tenant-ca', title: 'Restart the tenant CA; check it now issues under the new Sub-CA', phase: 'eradication', system: 'step-ca', effect: 'mutate', idempotency: 'natural',
    dependsOn: ['install-subca'],
    apply: async (ctx) => restartService(ctx.deps.restart, ctx.deps.restartExecutor, ctx.signal),
    verify: async (ctx) => {
      // A probe certificate, revoked at once: which key does the CA sign with now?
      const cn = `firebreak-probe-${ctx.runId}`.toLowerCase();
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const s = await ctx.deps.tenantCa.sign(await probeCsr(cn), cn, [cn], ctx.signal);
          const cert = certsOf(s.crt, 'the probe certificate')[0] as X509Certificate;
          await ctx.deps.tenantCa.revoke(BigInt(`0x${cert.serialNumber}`).toString(), 'cessationOfOperation', ctx.signal);
          await assertIssuedBy(cert, await newSubCa(signed(ctx).chain), 'the new Sub-CA');
          return { ok: true, detail: `a probe certificate from the tenant CA chains to the new Sub-CA ${signed(ctx).serialHex} (probe revoked)` };
        } catch (err) {
          if (Date.now() > deadline) return { ok: false, detail: `the tenant CA does not issue under the new Sub-CA: ${(err as Error).message}` };
          await abortableSleep(1000, ctx.signal);
        }
      }
    },
  },
  reenrollStep,
];

/** Seed Scenario 1b: a tenant Sub-CA's key is compromised (listed from subca-descriptor.ts, which must say the same). */
export const subcaCompromise = definePlaybook({
  id: 'subca-compromise',
  title: 'Tenant Sub-CA compromise',
  summary: 'Revoke the tenant Sub-CA at the provider CA (by hand when it is offline), generate a new key on the tenant CA host and have it signed, install it, restart the tenant CA, and re-enroll every device of the tenant.',
  version: 1,
  incidentKind: 'ca-compromise',
  severity: 'critical',
  input: subcaCompromiseInput,
  rto: { assessment: 5 * 60_000, containment: 15 * 60_000, eradication: 60 * 60_000, recovery: 4 * 3_600_000 },
  targets: (i) => [`certificate-authority:${i.tenant}`],
  entities: (i) => [{ type: 'tenant', id: i.tenant }, { type: 'certificate-authority', id: `${i.tenant} Sub-CA` }],
  connect: connectSubca,
  disconnect: disconnectSubca,
  steps,
});
