import type { StepDefinition } from '../../engine/playbook-types.ts';
import { assessVaultAudit } from '../../assess/vault-audit.ts';
import { assessOptions } from '../../assess/vault-audit-options.ts';
import type { SuspiciousKind } from '../../assess/vault-audit-types.ts';
import type { VaultBreachDeps, VaultBreachInput } from './vault-deps.ts';

/** What the assessment step keeps in the journal: the figures; the whole assessment is evidence. */
export interface AssessmentSummary {
  readonly evidence: { readonly ref: string; readonly sha256: string };
  readonly window: { readonly since: string | null; readonly until: string | null };
  readonly files: number;
  readonly problems: number;
  readonly operations: number;
  readonly suspicious: number;
  readonly byKind: Partial<Record<SuspiciousKind, number>>;
  readonly reads: number;
  readonly lists: number;
  readonly distinctPaths: number;
  /** The affected tenants (test tenants excluded), for the rotation and the notifications. */
  readonly tenants: readonly string[];
  readonly scope: 'widespread' | 'limited' | 'none';
}

/**
 * The seed's assessment (step 2): the same code as `firebreak assess
 * vault-audit`, over assess.vaultAudit.logs and its window, once containment
 * has stopped the bleeding. The whole assessment is stored as evidence with
 * its SHA-256; the journal keeps the figures.
 */
export const assessAuditLog: StepDefinition<VaultBreachInput, VaultBreachDeps, AssessmentSummary> = {
  id: 'assess-audit-log', title: 'Assess the breach from Vault\'s audit log: suspicious events, secrets read, affected tenants', phase: 'assessment', system: 'vault-audit', effect: 'read', idempotency: 'natural',
  dependsOn: ['seal-vault'],
  when: (ctx) => (ctx.deps.assess.config.assess.vaultAudit.logs.length > 0 ? true : 'assess.vaultAudit.logs names no audit log in firebreak.yaml: the assessment needs the file audit device\'s log (docs/assess.md); run `firebreak assess vault-audit --log FILE` by hand'),
  check: async (ctx) => {
    const a = ctx.deps.assess.config.assess.vaultAudit;
    return { done: false, detail: `read ${a.logs.join(', ')} (the last ${a.window}): suspicious events, secrets read, tenants affected by ${a.tenantPaths.join(', ')}` };
  },
  summary: (a) => {
    const kinds = Object.entries(a.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
    return `${a.suspicious} suspicious operation(s)${kinds === '' ? '' : ` (${kinds})`}; ${a.reads} secret read(s) and ${a.lists} list(s) on ${a.distinctPaths} path(s); `
      + `${a.tenants.length} tenant(s) affected${a.tenants.length === 0 ? '' : ` (${a.tenants.slice(0, 20).join(', ')}${a.tenants.length > 20 ? ', …' : ''})`}: scope ${a.scope}; ${a.problems} line(s) not read`;
  },
  apply: async (ctx) => {
    const { files, options } = assessOptions(ctx.deps.assess, {}, Date.now());
    const r = await assessVaultAudit(files, options);
    const ref = await ctx.evidence('vault-audit-assessment', r);
    ctx.log.info('vault audit assessed', { suspicious: r.suspicious.total, reads: r.secretsRead.reads, tenants: r.tenants.affected.length, scope: r.tenants.scope });
    return {
      evidence: { ref: ref.ref, sha256: ref.sha256 }, window: r.window, files: r.input.files.length, problems: r.input.problems.total, operations: r.input.operations.inWindow,
      suspicious: r.suspicious.total, byKind: Object.fromEntries(Object.entries(r.suspicious.byKind).filter(([, n]) => n > 0)),
      reads: r.secretsRead.reads, lists: r.secretsRead.lists, distinctPaths: r.secretsRead.distinctPaths, tenants: r.tenants.affected.map((t) => t.tenant), scope: r.tenants.scope,
    };
  },
};
