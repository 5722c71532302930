import type { z } from 'zod';
import type { Logger } from '../lib/log.ts';
import type { Secret } from '../lib/secret.ts';
import type { TlsOptions } from '../lib/http-client.ts';
import type { Executor } from './executor/executor-types.ts';
import type { CredentialRef } from './connector-schema.ts';

/** Where a system may be configured: the provider stack, each tenant stack, or both. */
export type Scope = 'provider' | 'tenant';

/** What `create` gets from the platform: credentials and executors, resolved the platform's way. */
export interface ConnectContext {
  /** Config path of the system's block, for messages: `tenants.acme.thingsboard`. */
  readonly where: string;
  /** A human name for messages ("acme Sub-CA"); defaults to `where`. */
  readonly label: string;
  readonly log: Logger;
  /** Resolves a credential reference of this block; `key` is its key under `where` (`password`). */
  credential(ref: CredentialRef, key: string): Promise<Secret>;
  executor(name: string): Promise<Executor>;
}

/** What a probe gets: it contacts the system (nothing is changed) within the timeout. */
export interface ProbeContext {
  /** Config path of the probed block (`tenants.acme.thingsboard`, `executors.gw`), for messages. */
  readonly where: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  executor(name: string): Promise<Executor>;
}

/** One connectivity check for `firebreak check`: `run` resolves to what was found, or throws why not. */
export interface ProbeSpec {
  readonly endpoint: string;
  /** The name shown in check's SYSTEM column when not the connector id ("sub-ca files"). */
  readonly system?: string;
  run(): Promise<string>;
}

/** A credential a system needs: its reference and its key inside the system's block. */
export interface CredentialNeed {
  readonly key: string;
  readonly ref: CredentialRef;
}

/**
 * Everything Firebreak knows about one system, in one place: the part of
 * firebreak.yaml that configures it, how its client is built, how `check`
 * probes it and which credentials it needs. The registry (registry.ts) lists
 * every definition; the config schema, `check`, the playbooks' dependency
 * builders and the lab read it from there.
 *
 * Methods (not function-typed properties) on purpose: the registry is
 * heterogeneous, and method parameters let each definition stand for an
 * {@link AnyConnector} where the caller pairs the config with its definition.
 */
export interface ConnectorDefinition<Id extends string, Key extends string, Scopes extends readonly Scope[], Schema extends z.ZodType, Client> {
  readonly id: Id;
  /** Its key in a stack: `thingsboard`, `stepCa`. */
  readonly configKey: Key;
  readonly scopes: Scopes;
  readonly schema: Schema;
  /** Builds the client; absent for a system that has a schema and a probe but no client yet. */
  create?(config: z.output<Schema>, ctx: ConnectContext): Promise<Client>;
  /** The probe `firebreak check` runs, or undefined when there is nothing of its own to contact (its executor is probed). */
  probe(config: z.output<Schema>, ctx: ProbeContext): ProbeSpec | undefined;
  credentials(config: z.output<Schema>): readonly CredentialNeed[];
}

/** Any definition, as code that iterates the registry sees it. */
export type AnyConnector = ConnectorDefinition<string, string, readonly Scope[], z.ZodType, unknown>;

/** Identity function that keeps a definition's literal id, key and scopes (the registry's types are built from them). */
export function defineConnector<const Id extends string, const Key extends string, const Scopes extends readonly Scope[], Schema extends z.ZodType, Client = never>(
  d: ConnectorDefinition<Id, Key, Scopes, Schema, Client>,
): ConnectorDefinition<Id, Key, Scopes, Schema, Client> {
  return d;
}

/** What an executor's `create` gets: credentials (`executors.<name>.<key>`) and the executors it runs through. */
export interface ExecutorContext {
  credential(ref: CredentialRef, key: string): Promise<Secret>;
  /** Another named executor (a compose executor's `via`); loops are refused by the resolver. */
  via(name: string): Promise<Executor>;
}

/** An executor kind: its schema (one branch of `executors.<name>`), how it is built and probed. */
export interface ExecutorDefinition<Kind extends string, Schema extends z.ZodType> {
  readonly kind: Kind;
  readonly schema: Schema;
  create(config: z.output<Schema>, ctx: ExecutorContext): Promise<Executor>;
  probe(config: z.output<Schema>, ctx: ProbeContext): ProbeSpec | undefined;
  credentials(config: z.output<Schema>): readonly CredentialNeed[];
}

export type AnyExecutorDefinition = ExecutorDefinition<string, z.ZodType>;

/** No credentials: for systems and executors that need none. */
export const noCredentials = (): readonly CredentialNeed[] => [];

/** The needs among `refs` that are configured (optional credentials left out). */
export function needs(refs: Readonly<Record<string, CredentialRef | undefined>>): readonly CredentialNeed[] {
  return Object.entries(refs).flatMap(([key, ref]) => (ref === undefined ? [] : [{ key, ref }]));
}

/** A client's settings for a service behind HTTP Basic auth with one login (ThingsBoard, hawkBit): the resolved form of `basicAuthService`. */
export interface BasicAuthClientConfig {
  readonly url: string;
  readonly username: string;
  readonly password: Secret;
  readonly tls?: TlsOptions;
  readonly timeoutMs?: number;
}
