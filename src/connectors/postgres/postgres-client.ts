import pg from 'pg';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import { scramVerifier } from './scram.ts';

export interface PostgresConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminUser: string;
  readonly adminPassword: Secret;
  readonly ssl?: false | { readonly ca?: string; readonly rejectUnauthorized?: boolean };
  readonly connectTimeoutMs?: number;
}

export interface Session {
  readonly pid: number;
  readonly applicationName: string;
  readonly backendStart: Date;
  readonly clientAddr: string | null;
}

export type LoginResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'auth' | 'unreachable'; readonly message: string };

export interface PostgresClient {
  roleExists(role: string): Promise<boolean>;
  /** Sets the role's password from a SCRAM verifier computed here: the plaintext never reaches the server. */
  setRolePassword(role: string, password: Secret): Promise<void>;
  /** A fresh TCP login as the role; tells a refused password from an unreachable server. */
  testLogin(role: string, password: Secret): Promise<LoginResult>;
  sessionsOf(role: string): Promise<Session[]>;
  /** Terminates the role's sessions started before `startedBefore`; returns their pids. */
  terminateSessions(role: string, startedBefore: Date): Promise<number[]>;
  close(): Promise<void>;
}

const AUTH_CODES = new Set(['28P01', '28000']);

/** The role name as a quoted SQL identifier: quotes doubled, never spliced raw. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new FirebreakError('INVALID_INPUT', 'role name contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

export function createPostgresClient(config: PostgresConfig): PostgresClient {
  const where = `PostgreSQL at ${config.host}:${config.port}/${config.database}`;
  const connection = (user: string, password: Secret) => ({
    host: config.host, port: config.port, database: config.database, user, password: password.reveal(),
    connectionTimeoutMillis: config.connectTimeoutMs ?? 10_000, ssl: config.ssl ?? false, application_name: 'firebreak',
  });
  const pool = new pg.Pool({ ...connection(config.adminUser, config.adminPassword), max: 2 });
  pool.on('error', () => undefined);

  const mapError = (err: unknown, what: string): FirebreakError => {
    const e = err as { code?: string; message?: string };
    if (e.code !== undefined && AUTH_CODES.has(e.code)) return new FirebreakError('AUTH_FAILED', `${where} refused the admin credential of ${config.adminUser} (${e.code})`);
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
      return new FirebreakError('UNAVAILABLE', `${where} is unreachable: ${e.code ?? e.message ?? ''}`);
    }
    return new FirebreakError('UPSTREAM_REJECTED', `${what} failed at ${where}: ${e.code === undefined ? '' : `${e.code} `}${e.message ?? String(err)}`);
  };
  const q = async (sql: string, params: unknown[], what: string) => {
    try {
      return await pool.query(sql, params);
    } catch (err) {
      throw mapError(err, what);
    }
  };

  const client: PostgresClient = {
    async roleExists(role) {
      return (await q('SELECT 1 FROM pg_roles WHERE rolname = $1', [role], 'role lookup')).rowCount === 1;
    },
    async setRolePassword(role, password) {
      if (!(await client.roleExists(role))) throw new FirebreakError('NOT_FOUND', `role ${JSON.stringify(role)} does not exist at ${where}`);
      // A utility statement takes no bind parameters: the identifier is quoted, the verifier is base64 and '$' only.
      const verifier = scramVerifier(password);
      if (!/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(verifier)) throw new FirebreakError('INTERNAL', 'malformed SCRAM verifier');
      await q(`ALTER ROLE ${quoteIdent(role)} PASSWORD '${verifier}'`, [], `setting the password of ${role}`);
    },
    async testLogin(role, password) {
      const c = new pg.Client(connection(role, password));
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return { ok: true };
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code !== undefined && AUTH_CODES.has(e.code)) return { ok: false, reason: 'auth', message: `password authentication failed for ${role}` };
        return { ok: false, reason: 'unreachable', message: e.code ?? e.message ?? String(err) };
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async sessionsOf(role) {
      const r = await q('SELECT pid, application_name, backend_start, client_addr::text AS client_addr FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() ORDER BY backend_start', [role], 'session listing');
      return r.rows.map((row: { pid: number; application_name: string; backend_start: Date; client_addr: string | null }) => ({ pid: row.pid, applicationName: row.application_name, backendStart: row.backend_start, clientAddr: row.client_addr }));
    },
    async terminateSessions(role, startedBefore) {
      const r = await q('SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE usename = $1 AND backend_start < $2 AND pid <> pg_backend_pid()', [role, startedBefore], 'session termination');
      return r.rows.filter((row: { ok: boolean }) => row.ok).map((row: { pid: number }) => row.pid);
    },
    close: () => pool.end(),
  };
  return client;
}
