import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FirebreakError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { configSchema, type CredentialRef, type FirebreakConfig } from './config-schema.ts';
import { issueProblems, lineOf, type ConfigProblem } from './config-problems.ts';
import { readYaml } from './config-yaml.ts';
import { LAB_EXECUTORS, labProblem } from './config-lab.ts';
import { configuredCredentials, isVaultRef } from './config-systems.ts';

export type { ConfigProblem } from './config-problems.ts';

export interface LoadedConfig {
  readonly path: string;
  readonly config: FirebreakConfig;
  readonly warnings: readonly ConfigProblem[];
  /** Absolute paths derived from the config. */
  readonly stateDir: string;
  readonly journalKeyFile: string;
  readonly signingKeyFile: string;
  readonly anchorFile: string;
  /** Phase RTO overrides in ms, per playbook. */
  readonly rtoMs: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Reads and validates firebreak.yaml; throws CONFIG_INVALID listing every problem as `path: message`. */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FirebreakError('CONFIG_INVALID', missing
      ? `${path} does not exist: create one with \`firebreak init\` or point --config / $FIREBREAK_CONFIG at yours`
      : `${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, path: string): LoadedConfig {
  const fail = (problems: ConfigProblem[]): never => {
    throw new FirebreakError('CONFIG_INVALID', `${path} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p.line === undefined ? '' : `line ${p.line}: `}${p.path}: ${p.message}`).join('\n')}`, { details: { problems } });
  };
  const read = readYaml(text);
  if (!read.ok) return fail(read.problems);
  const { doc, lines, raw } = read;
  if (raw === null || raw === undefined) fail([{ path: '(file)', message: 'is empty: start from `firebreak init`' }]);
  if (typeof raw !== 'object' || Array.isArray(raw)) fail([{ path: '(file)', message: 'must be a mapping of keys (version, tenants, provider, …)' }]);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) fail(parsed.error.issues.flatMap((i) => issueProblems(i, raw, doc, lines)));
  const config = (parsed as { data: FirebreakConfig }).data;
  const locate = (p: ConfigProblem): ConfigProblem => ({ ...p, ...lineOf(doc, lines, p.path.split('.')) });
  const lab = labProblem(config, path);
  // A refused lab: true is the one problem worth reading: each inline secret and http URL it would also flag follows from it.
  if (lab !== undefined) fail([locate(lab)]);
  const { errors, warnings } = semanticRules(config);
  if (errors.length > 0) fail(errors.map(locate));
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const stateDir = abs(config.stateDir);
  return {
    path, config, warnings: warnings.map(locate), stateDir,
    journalKeyFile: abs(config.journalKeyFile ?? resolve(stateDir, 'journal.key')),
    signingKeyFile: abs(config.audit.signingKeyFile ?? resolve(stateDir, 'audit-signing.key')),
    anchorFile: abs(config.audit.anchorFile ?? resolve(stateDir, 'audit.anchor')),
    rtoMs: Object.fromEntries(Object.entries(config.rto).map(([pb, phases]) => [pb, Object.fromEntries(Object.entries(phases).map(([ph, d]) => [ph, parseDuration(d ?? '') ?? 0]))])),
  };
}

function isInline(ref: CredentialRef | undefined): boolean {
  return typeof ref === 'object';
}

/** Rules that span several keys: references exist, lab-only features stay in the lab. */
function semanticRules(c: FirebreakConfig): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  // A genuine lab configuration (labProblem passed) may name the executors the lab provides; nothing else may.
  const executors = new Set(['local', ...Object.keys(c.executors), ...(c.lab ? LAB_EXECUTORS : [])]);
  const checkExecutor = (path: string, name: string | undefined) => {
    if (name === undefined || executors.has(name)) return;
    const lab = (LAB_EXECUTORS as readonly string[]).includes(name) ? `; "${name}" is provided by the lab only, in the configurations \`firebreak drill\` and \`firebreak lab up\` generate` : '';
    errors.push({ path, message: `refers to executor "${name}", which is not defined under executors (known: ${[...executors].join(', ')})${lab}` });
  };
  const walk = (value: unknown, path: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    const o = value as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      const p = [...path, k];
      if (isCredentialKey(k) && isInline(v as CredentialRef) && !c.lab) {
        errors.push({ path: p.join('.'), message: 'inline secrets are only allowed in a lab configuration: use env:NAME, file:/path or vault:mount/path#key' });
      }
      if (k === 'url' && typeof v === 'string' && v.startsWith('http:') && !c.lab) {
        if (o['insecure'] === true) warnings.push({ path: p.join('.'), message: 'plain http allowed by insecure: true: credentials travel in clear' });
        else errors.push({ path: p.join('.'), message: `must be an https URL (got "${v}"); set insecure: true on this endpoint to allow plain http` });
      }
      if (k === 'insecure' && v === true && !c.lab) warnings.push({ path: p.join('.'), message: 'TLS verification is relaxed for this endpoint' });
      if ((k === 'executor' || k === 'via') && typeof v === 'string') checkExecutor(p.join('.'), v);
      walk(v, p);
    }
  };
  walk(c, []);
  errors.push(...vaultProblems(c));
  for (const [tid, t] of Object.entries(c.tenants)) {
    if (t.wireguard?.persist === 'config-file' && t.wireguard.configFile === undefined) {
      errors.push({ path: `tenants.${tid}.wireguard.configFile`, message: 'is required when persist is config-file' });
    }
  }
  if (c.labConfigFile !== undefined && !c.lab) warnings.push({ path: 'labConfigFile', message: 'has no effect without lab: true' });
  if (Object.keys(c.tenants).length === 0 && c.provider === undefined) warnings.push({ path: 'tenants', message: 'no tenant and no provider stack: playbooks have nothing to act on' });
  return { errors, warnings };
}

/**
 * A `vault:` reference is refused now rather than at run time when there is no
 * Vault to resolve it through, or when it is Vault's own token (which must come
 * from elsewhere). The credentials are the ones the registry's definitions list.
 */
function vaultProblems(c: FirebreakConfig): ConfigProblem[] {
  return configuredCredentials(c).filter((n) => isVaultRef(n.ref)).flatMap((n): ConfigProblem[] => {
    if (c.provider?.vault === undefined) {
      return [{ path: n.path, message: 'is a vault: reference, but no Vault is configured (provider.vault): configure provider.vault, or use env:NAME or file:/path' }];
    }
    if (n.path === 'provider.vault.token') return [{ path: n.path, message: 'Vault\'s own token cannot be read from Vault: use env:NAME or file:/path' }];
    return [];
  });
}

function isCredentialKey(k: string): boolean {
  return ['password', 'adminPassword', 'provisionerPassword', 'token', 'apiKey', 'privateKey'].includes(k);
}
