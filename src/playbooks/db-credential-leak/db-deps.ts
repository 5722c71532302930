import { FirebreakError } from '../../lib/errors.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { Executor } from '../../connectors/executor/executor-types.ts';
import type { PostgresClient } from '../../connectors/postgres/postgres-client.ts';
import type { RestartSpec } from '../../connectors/restart/restart-service.ts';
import { platformOf, type PlatformEnv } from '../platform.ts';
import type { DbCredentialLeakInput } from './db-inputs.ts';

// Beside the deps it goes with, for the tests and the benchmark that build them.
export type { DbCredentialLeakInput } from './db-inputs.ts';

export interface DbDeps {
  readonly stack: string;
  readonly role: string;
  readonly ref: string;
  readonly db: PostgresClient;
  readonly envFile: string;
  readonly variable: string;
  readonly applicationName: string | undefined;
  readonly envExecutor: Executor;
  readonly restart: RestartSpec;
  readonly restartExecutor: Executor;
  readonly passwordLength: number;
  readonly reconnectTimeoutMs: number;
  readonly rollback: boolean;
}

/** Builds the connectors for the stack's TimescaleDB and the role's consumer from firebreak.yaml. */
export async function connectDb(env: PlatformEnv, input: DbCredentialLeakInput): Promise<DbDeps> {
  const p = platformOf(env);
  const c = p.loaded.config;
  const tenantId = input.stack.startsWith('tenant:') ? input.stack.slice('tenant:'.length) : undefined;
  if (tenantId !== undefined && c.tenants[tenantId] === undefined) {
    throw new FirebreakError('NOT_FOUND', `unknown tenant "${tenantId}"; firebreak.yaml defines: ${Object.keys(c.tenants).join(', ') || '(no tenants)'}`);
  }
  const where = tenantId === undefined ? 'provider.timescaledb' : `tenants.${tenantId}.timescaledb`;
  const tsdb = tenantId === undefined ? c.provider?.timescaledb : c.tenants[tenantId]?.timescaledb;
  if (tsdb === undefined) throw new FirebreakError('NOT_FOUND', `${where} is not configured in firebreak.yaml`);
  const rc = tsdb.roles[input.role];
  if (rc === undefined) {
    throw new FirebreakError('NOT_FOUND', `role "${input.role}" is not configured under ${where}.roles (configured: ${Object.keys(tsdb.roles).join(', ') || 'none'}); Firebreak must know its .env file and service`);
  }
  const db = await p.connect('timescaledb', tsdb, where);
  const { executor: restartExecutorName, ...restart } = rc.restart;
  return {
    stack: input.stack, role: input.role, ref: `timescaledb:${input.stack}/${input.role}`, db,
    envFile: rc.envFile, variable: rc.variable, applicationName: rc.applicationName,
    envExecutor: await p.executor(rc.executor), restart: restart as RestartSpec, restartExecutor: await p.executor(restartExecutorName ?? rc.executor),
    passwordLength: rc.passwordLength, reconnectTimeoutMs: parseDuration(rc.reconnectTimeout) ?? 60_000, rollback: rc.rollback,
  };
}
