export { configSchema, credentialRef, type FirebreakConfig, type TenantConfig, type ProviderConfig, type ExecutorConfig, type RestartConfig, type CredentialRef } from './config-schema.ts';
export { loadConfig, parseConfig, type LoadedConfig, type ConfigProblem } from './config-load.ts';
export { resolveCredential, type CredentialDeps, type VaultReader } from './credentials.ts';
export { starterConfig } from './config-starter.ts';
