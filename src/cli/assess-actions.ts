import { existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { FirebreakError } from '../lib/errors.ts';
import { readHidden } from './hidden-input.ts';
import { withApp, type CommandContext } from './cli-context.ts';
import type { Out } from './output.ts';
import { loadConfig } from '../config/config-load.ts';
import { assessVaultAudit, type AssessEvents } from '../assess/vault-audit.ts';
import { assessOptions } from '../assess/vault-audit-options.ts';
import type { Assessment } from '../assess/vault-audit-types.ts';

export interface AssessCliOptions {
  readonly log?: string[];
  readonly since?: string;
  readonly until?: string;
  readonly all?: boolean;
  readonly allow?: string[];
  readonly tenantPath?: string[];
  readonly testTenant?: string[];
  readonly widespreadAbove?: string;
  readonly kvMount?: string[];
  readonly findToken?: boolean;
  readonly findValue?: boolean;
  readonly findFd?: string;
  readonly auditDevice: string;
  readonly saltFd?: string;
  readonly incident?: string;
}

const n = (x: number): string => x.toLocaleString('en-US');
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** `firebreak assess vault-audit`: the assessment of the given logs, as a summary or `--json`. */
export async function assessVaultAuditCommand(c: CommandContext, o: AssessCliOptions): Promise<number> {
  // The configuration is optional: without one the defaults apply (docs/assess.md). One named (--config, $FIREBREAK_CONFIG) must exist.
  const config = existsSync(c.g.config) || c.g.config !== 'firebreak.yaml' ? loadConfig(c.g.config) : undefined;
  const { files, options } = assessOptions(config, {
    ...(o.log === undefined ? {} : { logs: o.log }), ...(o.since === undefined ? {} : { since: o.since }), ...(o.until === undefined ? {} : { until: o.until }),
    ...(o.all === undefined ? {} : { all: o.all }), ...(o.allow === undefined ? {} : { allow: o.allow }), ...(o.tenantPath === undefined ? {} : { tenantPaths: o.tenantPath }),
    ...(o.testTenant === undefined ? {} : { testTenants: o.testTenant }), ...(o.widespreadAbove === undefined ? {} : { widespreadAbove: o.widespreadAbove }),
    ...(o.kvMount === undefined ? {} : { kvMounts: o.kvMount }),
  }, Date.now());
  // An incident named by hand is checked before the logs are read: a typo must not cost the whole read.
  const incidentId = o.incident === undefined ? undefined : await withApp(c.g, async (app) => {
    const i = await app.queries.incident(o.incident ?? '');
    if (i.status === 'closed') throw new FirebreakError('CONFLICT', `--incident ${i.id}: the incident is closed; evidence is added to an open incident`);
    return i.id;
  }, { playbooks: false });
  const find = await findHashes(c, o, config !== undefined);
  const progress = !c.g.json && process.stderr.isTTY;
  const result = await assessVaultAudit(files, { ...options, ...(find === undefined ? {} : { find: [find] }) }, progress ? progressLines(c.out) : {});
  const stored = incidentId === undefined ? undefined : await withApp(c.g, (app) => app.attachEvidence({
    incidentRef: incidentId, name: 'vault-audit-assessment', source: 'assess-vault-audit', data: result, actor: c.actor(),
  }), { playbooks: false });
  if (c.g.json) c.out.data(stored === undefined ? result : { ...result, evidence: { incidentId: stored.incidentId, ref: stored.ref, sha256: stored.sha256 } });
  else {
    printAssessment(c.out, result, find?.label);
    if (stored !== undefined) { c.out.line(); c.out.line(`Stored as evidence of incident ${stored.incidentId}: ${stored.ref} (SHA-256 ${stored.sha256})`); }
  }
  return 0;
}

/** Progress on stderr: each file read, and every few seconds within a large one. */
function progressLines(out: Out, everyMs = 3000): AssessEvents {
  let next = Date.now() + everyMs;
  return {
    onFile: (p) => { out.err(`read ${p.file}: ${n(p.lines)} lines, ${mb(p.bytes)}`); },
    onReading: (p) => {
      if (Date.now() < next) return;
      next = Date.now() + everyMs;
      out.err(`reading ${p.file}: ${mb(p.bytes)} of ${mb(p.size)} (${Math.floor((100 * p.bytes) / Math.max(p.size, 1))} %)`);
    },
  };
}

/**
 * `--find-token` / `--find-value`: the secret typed hidden (or from --find-fd), and the HMAC the audit device writes for
 * it: Vault's own (`sys/audit-hash/<device>`, through provider.vault) or, with --salt-fd, computed here. The plain value
 * is looked for too (a device with log_raw writes it as is); neither is ever printed.
 */
async function findHashes(c: CommandContext, o: AssessCliOptions, configured: boolean): Promise<{ label: string; hashes: string[] } | undefined> {
  if (o.findToken !== true && o.findValue !== true) {
    if (o.findFd !== undefined || o.saltFd !== undefined) throw new FirebreakError('USAGE', '--find-fd and --salt-fd go with --find-token or --find-value');
    return undefined;
  }
  if (o.findToken === true && o.findValue === true) throw new FirebreakError('USAGE', '--find-token and --find-value: one at a time');
  const what = o.findToken === true ? 'token' : 'value';
  if (o.saltFd === undefined && !configured) throw new FirebreakError('USAGE', `--find-${what}: the HMAC comes from Vault (provider.vault in firebreak.yaml, none here) or from the device's salt (--salt-fd N)`);
  const secret = await readHidden({ prompt: `The leaked ${what} to look for (input hidden): `, fd: o.findFd, fdFlag: '--find-fd', what });
  let hash: string;
  if (o.saltFd !== undefined) {
    const salt = await readHidden({ prompt: '', fd: o.saltFd, fdFlag: '--salt-fd', what: 'salt' });
    hash = `hmac-sha256:${createHmac('sha256', salt.reveal()).update(secret.reveal()).digest('hex')}`;
  } else {
    hash = await withApp(c.g, async (app) => {
      const p = app.settings.config;
      const settings = p.loaded.config.provider?.vault;
      if (settings === undefined) throw new FirebreakError('CONFIG_INVALID', `--find-${what}: provider.vault is not configured in firebreak.yaml, so Vault cannot compute the HMAC: give the device's salt with --salt-fd N instead`);
      const vault = await p.connect('vault', settings, 'provider.vault');
      try {
        return await vault.sys.auditHash(o.auditDevice, secret, AbortSignal.timeout(30_000));
      } finally {
        await vault.close();
      }
    }, { playbooks: false });
  }
  return { label: what, hashes: [hash, secret.reveal()] };
}

function printAssessment(out: Out, r: Assessment, looked: string | undefined): void {
  const i = r.input;
  out.line(out.style('bold', 'Vault audit assessment'));
  out.line(`Window: ${r.window.since ?? 'the beginning'} to ${r.window.until ?? 'the end'} of the logs`);
  out.line(`Read: ${i.files.length} file${i.files.length === 1 ? '' : 's'}, ${n(i.lines)} lines, ${mb(i.files.reduce((s, f) => s + f.bytes, 0))}; ${n(i.entries.request)} request and ${n(i.entries.response)} response entries${Object.keys(i.otherTypes).length === 0 ? '' : `, other types skipped: ${Object.entries(i.otherTypes).map(([t, k]) => `${t} ${n(k)}`).join(', ')}`}`);
  out.line(`Operations: ${n(i.operations.all)} (a request and its response once; ${n(i.operations.requestOnly)} without a response, ${n(i.operations.withoutId)} without a request id), ${n(i.operations.inWindow)} in the window`);
  if (i.problems.total > 0) {
    out.line(out.style('yellow', `Problems: ${n(i.problems.total)} line(s) not read (${Object.entries(i.problems.byKind).map(([k, v]) => `${k} ${n(v)}`).join(', ')})`));
    for (const p of i.problems.first.slice(0, 10)) out.line(`  ${p.file}:${p.line}: ${p.problem}: ${p.detail}`);
    if (i.problems.total > 10) out.line(`  … and ${n(i.problems.total - 10)} more (--json lists the first 100)`);
  }
  out.line();
  const s = r.suspicious;
  out.line(out.style('bold', `Suspicious operations: ${n(s.total)}`));
  const kinds = Object.entries(s.byKind).filter(([, v]) => v > 0);
  if (kinds.length > 0) out.line(`  ${kinds.map(([k, v]) => `${k} ${n(v)}`).join(' · ')}`);
  if (!s.allowListChecked) out.line('  remote addresses not checked: no allow-list (--allow CIDR or assess.vaultAudit.allowedNetworks)');
  if (s.events.length > 0) {
    out.table(['TIME', 'WHERE', 'KIND', 'OPERATION', 'PATH', 'REMOTE'], s.events.slice(0, 20).map((e) => [e.time, `${e.file.split('/').at(-1) ?? e.file}:${e.line}`, e.kinds.join(','), e.operation, e.path, e.remoteAddress ?? '']));
    if (s.events.length > 20) out.line(`  … and ${n(s.total - 20)} more (--json lists them)`);
  }
  out.line();
  const sr = r.secretsRead;
  out.line(out.style('bold', `Secrets read: ${n(sr.reads)} read(s), ${n(sr.lists)} list(s), ${n(sr.distinctPaths)} distinct path(s)`));
  const top = [...sr.paths].sort((a, b) => b.reads + b.lists - (a.reads + a.lists)).slice(0, 15);
  if (top.length > 0) out.table(['PATH', 'READS', 'LISTS'], top.map((p) => [p.path, n(p.reads), n(p.lists)]));
  out.line();
  const t = r.tenants;
  out.line(out.style('bold', `Affected tenants: ${n(t.affected.length)}, scope ${t.scope}${t.scope === 'none' ? '' : ` (widespread above ${t.threshold})`}`));
  if (t.affected.length > 0) out.table(['TENANT', 'READS', 'LISTS', 'PATHS'], t.affected.map((a) => [a.tenant, n(a.reads), n(a.lists), n(a.paths)]));
  if (t.excludedTest.length > 0) out.line(`  test tenants excluded: ${t.excludedTest.join(', ')}`);
  out.line(`  tenant paths: ${t.patterns.join(', ')}`);
  if (r.matches !== undefined) {
    out.line();
    out.line(out.style('bold', `Lines that used the ${looked ?? 'value'} looked for: ${n(r.matches.length)}`));
    if (r.matches.length > 0) out.table(['TIME', 'WHERE', 'TYPE', 'PATH', 'FIELD'], r.matches.slice(0, 50).map((m) => [m.time, `${m.file.split('/').at(-1) ?? m.file}:${m.line}`, m.type, m.path, m.field]));
    if (r.matches.length > 50) out.line(`  … and ${n(r.matches.length - 50)} more (--json lists them)`);
  }
}
