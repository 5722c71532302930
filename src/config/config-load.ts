import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { FirebreakError } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { configSchema, type CredentialRef, type FirebreakConfig } from './config-schema.ts';

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly line?: number;
}

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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const fail = (problems: ConfigProblem[]): never => {
    throw new FirebreakError('CONFIG_INVALID', `${path} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p.line === undefined ? '' : `line ${p.line}: `}${p.path}: ${p.message}`).join('\n')}`, { details: { problems } });
  };
  if (doc.errors.length > 0) {
    fail(doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message, line: lines.linePos(e.pos[0]).line })));
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) fail([{ path: '(file)', message: 'is empty: start from `firebreak init`' }]);
  if (typeof raw !== 'object' || Array.isArray(raw)) fail([{ path: '(file)', message: 'must be a mapping of keys (version, tenants, provider, …)' }]);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) fail(parsed.error.issues.flatMap((i) => issueProblems(i, doc, lines)));
  const config = (parsed as { data: FirebreakConfig }).data;
  const { errors, warnings } = semanticRules(config);
  const locate = (p: ConfigProblem): ConfigProblem => ({ ...p, ...lineOf(doc, lines, p.path.split('.')) });
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

function issueProblems(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: [...path, k].join('.') || '(root)', message: 'unknown key (misspelt? see docs/configuration.md)', ...lineOf(doc, lines, [...path, k]) }));
  }
  if ((issue.code === 'invalid_union' || issue.code === 'invalid_type') && path.length > 0 && !doc.hasIn(path)) {
    return [{ path: path.join('.'), message: 'is required', ...lineOf(doc, lines, path) }];
  }
  if (issue.code === 'invalid_union') {
    // Report the branch that got furthest rather than "invalid input".
    const deepest = issue.errors.map((branch) => branch.filter((i) => i.code !== 'invalid_type' || i.path.length > 0)).sort((a, b) => b.length - a.length)[0];
    const firstRef = issue.errors.flat().find((i) => i.message.startsWith('must be a reference'));
    if (firstRef !== undefined) return [{ path: path.join('.'), message: firstRef.message, ...lineOf(doc, lines, path) }];
    if (deepest !== undefined && deepest.length > 0) return deepest.flatMap((i) => issueProblems({ ...i, path: [...issue.path, ...i.path] }, doc, lines));
  }
  if (issue.code === 'invalid_key') {
    return issue.issues.map((i) => ({ path: path.join('.'), message: `bad key: ${i.message}`, ...lineOf(doc, lines, path) }));
  }
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return [{ path: path.join('.') || '(root)', message, ...lineOf(doc, lines, path) }];
}

function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): { line?: number } {
  for (let n = path.length; n > 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) return { line: lines.linePos(node.range[0]).line };
  }
  return {};
}

function isInline(ref: CredentialRef | undefined): boolean {
  return typeof ref === 'object';
}

/** Rules that span several keys: references exist, lab-only features stay in the lab. */
function semanticRules(c: FirebreakConfig): { errors: ConfigProblem[]; warnings: ConfigProblem[] } {
  const errors: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const executors = new Set(['local', ...Object.keys(c.executors)]);
  const checkExecutor = (path: string, name: string | undefined) => {
    if (name !== undefined && !executors.has(name)) errors.push({ path, message: `refers to executor "${name}", which is not defined under executors (known: ${[...executors].join(', ')})` });
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
  for (const [name, e] of Object.entries(c.executors)) {
    if (e.kind === 'lab-wireguard' && !c.lab) errors.push({ path: `executors.${name}.kind`, message: 'lab-wireguard is the lab\'s stand-in: only allowed in a lab configuration' });
  }
  for (const [tid, t] of Object.entries(c.tenants)) {
    if (t.wireguard?.persist === 'config-file' && t.wireguard.configFile === undefined) {
      errors.push({ path: `tenants.${tid}.wireguard.configFile`, message: 'is required when persist is config-file' });
    }
  }
  if (Object.keys(c.tenants).length === 0 && c.provider === undefined) warnings.push({ path: 'tenants', message: 'no tenant and no provider stack: playbooks have nothing to act on' });
  return { errors, warnings };
}

function isCredentialKey(k: string): boolean {
  return ['password', 'adminPassword', 'provisionerPassword', 'token', 'apiKey', 'privateKey'].includes(k);
}
