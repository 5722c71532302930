import { FirebreakError, toErrorData } from '../lib/errors.ts';
import type { StepContext } from '../engine/playbook-types.ts';
import type { StepCaClient } from '../connectors/step-ca/step-ca-client.ts';

/**
 * Has a CA sign a CSR at most once: the one-time token is minted and sealed
 * in the journal before it is sent (a `keyed` step), so a repeat after a crash
 * or a timeout re-sends the same token. The CA accepts a token once: a repeat
 * it accepts proves the first attempt signed nothing; a repeat it refuses
 * (401) may mean the first attempt was signed, or that the token expired:
 * IN_DOUBT, and the run waits for the operator. After the operator's word the
 * step runs under a new generation, hence a new token.
 */
export async function signOnce<In, Deps>(
  ctx: StepContext<In, Deps>, ca: StepCaClient, name: string,
  req: { readonly csr: string; readonly subject: string; readonly sans: readonly string[]; readonly what: string },
): Promise<{ crt: string; ca: string; certChain: readonly string[] }> {
  const ott = await ctx.generate(`${name}.sign-token.${ctx.generation}`, () => ca.enrollmentToken(req.subject, req.sans, ctx.signal));
  try {
    return await ca.signWithToken(req.csr, ott, ctx.signal);
  } catch (err) {
    if (!ctx.resumed || toErrorData(err).code !== 'AUTH_FAILED') throw err;
    throw new FirebreakError('IN_DOUBT', `${req.what}: the CA refused the one-time token of the interrupted attempt ${ctx.attempt - 1} (401): that attempt may have been signed (a certificate for "${req.subject}" recorded nowhere), or the token expired`, { cause: err });
  }
}
