import { z } from 'zod';
import { parseDuration } from '../lib/duration.ts';

/**
 * The building blocks every connector's part of firebreak.yaml is made of.
 * They live with the connectors (not in src/config) because each connector
 * definition owns its schema and src/config assembles the file from them:
 * config imports connectors, never the reverse.
 */

/** `env:NAME`, `file:/abs/path`, `vault:mount/path#key`, or (lab only) `{ value: … }`. */
export const credentialRef = z.union([
  z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S+|vault:[^#\s]+#\S+)$/, 'must be a reference: env:NAME, file:/absolute/path or vault:mount/path#key'),
  z.strictObject({ value: z.string().min(1).describe('Inline secret: only allowed in a lab configuration (lab: true).') }),
]).describe('A credential reference: env:NAME, file:/absolute/path or vault:mount/path#key. Inline values only in the lab.');
export type CredentialRef = z.infer<typeof credentialRef>;

export const url = z.string().refine((v) => { try { return ['http:', 'https:'].includes(new URL(v).protocol); } catch { return false; } }, 'must be an http(s) URL');

/** The keys of every HTTP endpoint. */
export const endpoint = {
  url: url.describe('Base URL of the API.'),
  insecure: z.boolean().optional().describe('Allow plain http or skip TLS verification for this endpoint (shown as a warning).'),
  caFile: z.string().optional().describe('PEM file of the CA that signed this endpoint\'s TLS certificate.'),
};

export const port = (fallback: number) => z.number().int().min(1).max(65535).default(fallback);

export const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'must be a duration such as 5m, 2h, 90s or 1h30m');

/** A service behind HTTP Basic auth with one login (ThingsBoard's tenant administrator, hawkBit's Management API). */
export const basicAuthService = (what: string) => z.strictObject({ ...endpoint, username: z.string().min(1), password: credentialRef }).describe(what);
export type BasicAuthServiceConfig = z.output<ReturnType<typeof basicAuthService>>;
