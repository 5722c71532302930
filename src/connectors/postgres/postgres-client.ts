import pg from 'pg';
import { FirebreakError } from '../../lib/errors.ts';
import { silentLogger, type Logger } from '../../lib/log.ts';
import type { Secret } from '../../lib/secret.ts';
import { scramVerifier } from './scram.ts';

/** The admin connection to one PostgreSQL / TimescaleDB server (firebreak.yaml `timescaledb:`). */
export interface PostgresConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** A superuser, or a role with CREATEROLE + ADMIN on the rotated roles and pg_signal_backend. */
  readonly adminUser: string;
  readonly adminPassword: Secret;
  readonly ssl?: false | { readonly ca?: string; readonly rejectUnauthorized?: boolean };
  readonly connectTimeoutMs?: number;
}

export interface PostgresDeps {
  readonly log?: Logger;
}

/** One backend of pg_stat_activity. */
export interface Session {
  readonly pid: number;
  readonly applicationName: string;
  readonly backendStart: Date;
  readonly clientAddr: string | null;
}

export type LoginResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'auth' | 'unreachable'; readonly message: string };

/** Where {@link PostgresClient.testLogin} connects when it is not the admin connection's server. */
export interface LoginTarget {
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
}

export interface PostgresClient {
  roleExists(role: string): Promise<boolean>;
  /**
   * Sets the role's password from a SCRAM verifier computed here: the plaintext
   * never reaches the server. An unknown role is NOT_FOUND (nothing is sent).
   */
  setRolePassword(role: string, password: Secret): Promise<void>;
  /** A fresh TCP login as the role; tells a refused password from an unreachable server. Never throws for those. */
  testLogin(role: string, password: Secret, target?: LoginTarget): Promise<LoginResult>;
  /** The role's backends, oldest first (the admin connection's own excluded). */
  sessionsOf(role: string): Promise<Session[]>;
  /** Terminates the role's sessions that started before `startedBefore`; returns those signalled. */
  terminateSessions(role: string, startedBefore: Date): Promise<Session[]>;
  /**
   * Polls until a session of the role (with that application_name, when given)
   * started after `after`; the newest such session. TIMEOUT when none appears.
   */
  waitForReconnect(role: string, options: { readonly after: Date; readonly applicationName?: string; readonly timeoutMs: number; readonly intervalMs?: number }): Promise<Session>;
  close(): Promise<void>;
}

/** invalid_password, invalid_authorization_specification (no pg_hba entry, NOLOGIN role). */
const AUTH_CODES = new Set(['28P01', '28000']);
/** Network failures and "server not accepting connections now". */
const DOWN_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', '57P01', '57P03', '53300']);

function isDown(e: { code?: string; message?: string }): boolean {
  return (e.code !== undefined && DOWN_CODES.has(e.code)) || /timeout|terminated unexpectedly/i.test(e.message ?? '');
}

/**
 * The role name as a quoted SQL identifier (pg's escapeIdentifier: quotes
 * doubled). Names PostgreSQL would silently truncate (over 63 bytes) or cannot
 * hold (NUL) are refused: a truncated name may be another role.
 */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new FirebreakError('INVALID_INPUT', 'a role name must be non-empty and contain no NUL byte');
  if (Buffer.byteLength(name, 'utf8') > 63) throw new FirebreakError('INVALID_INPUT', `role name ${JSON.stringify(name)} is longer than PostgreSQL's 63 bytes (it would be truncated to another name)`);
  return pg.escapeIdentifier(name);
}

interface SessionRow { pid: number; application_name: string | null; backend_start: Date; client_addr: string | null }
const toSession = (r: SessionRow): Session => ({ pid: r.pid, applicationName: r.application_name ?? '', backendStart: r.backend_start, clientAddr: r.client_addr });
const SESSION_COLUMNS = 'pid, application_name, backend_start, client_addr::text AS client_addr';

/** A PostgreSQL admin client: role passwords by SCRAM verifier, login tests, session listing and termination. */
export function createPostgresClient(config: PostgresConfig, deps: PostgresDeps = {}): PostgresClient {
  const log = (deps.log ?? silentLogger).child({ connector: 'postgres' });
  const where = `PostgreSQL at ${config.host}:${config.port}/${config.database}`;
  const connection = (user: string, password: Secret, target: LoginTarget = {}): pg.ClientConfig => ({
    host: target.host ?? config.host, port: target.port ?? config.port, database: target.database ?? config.database, user, password: password.reveal(),
    connectionTimeoutMillis: config.connectTimeoutMs ?? 10_000, ssl: config.ssl ?? false, application_name: 'firebreak',
  });
  const pool = new pg.Pool({ ...connection(config.adminUser, config.adminPassword), max: 2 });
  pool.on('error', () => undefined); // an idle admin connection killed by the server is simply replaced

  const mapError = (err: unknown, what: string): FirebreakError => {
    const e = err as { code?: string; message?: string };
    if (e.code !== undefined && AUTH_CODES.has(e.code)) {
      return new FirebreakError('AUTH_FAILED', `${where} refused the admin credential of ${config.adminUser} (${e.code}); ${what} was not done`, { cause: err });
    }
    if (isDown(e)) return new FirebreakError('UNAVAILABLE', `${where} is unreachable (${e.code ?? e.message ?? 'no answer'}); ${what} was not done`, { cause: err });
    return new FirebreakError('UPSTREAM_REJECTED', `${what} failed at ${where}: ${e.code === undefined ? '' : `${e.code} `}${e.message ?? String(err)}`, { cause: err });
  };
  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[], what: string): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(sql, params);
    } catch (err) {
      throw mapError(err, what);
    }
  };

  const client: PostgresClient = {
    async roleExists(role) {
      quoteIdent(role);
      return (await q('SELECT 1 FROM pg_roles WHERE rolname = $1', [role], `looking up role ${JSON.stringify(role)}`)).rowCount === 1;
    },

    async setRolePassword(role, password) {
      const ident = quoteIdent(role);
      const what = `setting the password of role ${JSON.stringify(role)}`;
      if (!(await client.roleExists(role))) throw new FirebreakError('NOT_FOUND', `role ${JSON.stringify(role)} does not exist at ${where}; no password was set`);
      // ALTER ROLE is a utility statement and takes no bind parameters: the identifier
      // is quoted, and the literal is the verifier (base64, '$' and ':' only).
      const verifier = scramVerifier(password);
      try {
        await pool.query(`ALTER ROLE ${ident} PASSWORD '${verifier}'`);
      } catch (err) {
        if ((err as { code?: string }).code === '42704') throw new FirebreakError('NOT_FOUND', `role ${JSON.stringify(role)} disappeared at ${where}; no password was set`, { cause: err });
        throw mapError(err, what);
      }
      log.info('role password set from a client-side SCRAM verifier', { role, server: where });
    },

    async testLogin(role, password, target) {
      const c = new pg.Client(connection(role, password, target));
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.query('SELECT 1');
        return { ok: true };
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code !== undefined && AUTH_CODES.has(e.code)) return { ok: false, reason: 'auth', message: `password authentication failed for ${role}` };
        return { ok: false, reason: 'unreachable', message: `${target?.host ?? config.host}:${String(target?.port ?? config.port)}: ${e.code ?? e.message ?? String(err)}` };
      } finally {
        await c.end().catch(() => undefined);
      }
    },

    async sessionsOf(role) {
      const r = await q<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() ORDER BY backend_start`, [role], `listing the sessions of ${JSON.stringify(role)}`);
      return r.rows.map(toSession);
    },

    async terminateSessions(role, startedBefore) {
      const r = await q<SessionRow & { terminated: boolean }>(
        `SELECT ${SESSION_COLUMNS}, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE usename = $1 AND backend_start < $2 AND pid <> pg_backend_pid() ORDER BY backend_start`,
        [role, startedBefore], `terminating the sessions of ${JSON.stringify(role)}`);
      const done = r.rows.filter((row) => row.terminated).map(toSession);
      log.info('terminated sessions', { role, startedBefore: startedBefore.toISOString(), pids: done.map((s) => s.pid) });
      return done;
    },

    async waitForReconnect(role, options) {
      const deadline = Date.now() + options.timeoutMs;
      const who = `${JSON.stringify(role)}${options.applicationName === undefined ? '' : ` (application_name ${JSON.stringify(options.applicationName)})`}`;
      for (;;) {
        const fresh = (await client.sessionsOf(role)).filter((s) => s.backendStart > options.after && (options.applicationName === undefined || s.applicationName === options.applicationName));
        const newest = fresh.at(-1);
        if (newest !== undefined) return newest;
        if (Date.now() >= deadline) {
          throw new FirebreakError('TIMEOUT', `no session of role ${who} started after ${options.after.toISOString()} within ${options.timeoutMs} ms at ${where}`, { retryable: false });
        }
        await new Promise((r) => setTimeout(r, Math.min(options.intervalMs ?? 250, Math.max(1, deadline - Date.now()))));
      }
    },

    close: () => pool.end(),
  };
  return client;
}
