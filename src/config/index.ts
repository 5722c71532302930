export { configSchema, credentialRef, type FirebreakConfig, type TenantConfig, type ProviderConfig, type ExecutorConfig, type RestartConfig, type CredentialRef } from './config-schema.ts';
export { loadConfig, parseConfig, type LoadedConfig, type ConfigProblem } from './config-load.ts';
export { resolveCredential, type CredentialDeps, type VaultReader } from './credentials.ts';
export { configuredSystems, configuredExecutors, configuredCredentials, credentialResolver, isVaultRef, type ConfiguredSystem, type ConfiguredExecutor, type ConfiguredCredential } from './config-systems.ts';
export { LAB_EXECUTORS, type LabExecutorName } from './config-lab.ts';
export { starterConfig } from './config-starter.ts';
