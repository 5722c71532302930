import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentArgv } from './lab-approle-agent.ts';
import { str } from './vault-http.ts';
import type { LabVaultCall } from './vault-layout.ts';

/** A lab service that logs in with AppRole: its .env and the sink its agent writes the token to. */
export interface LabAppRoleService {
  readonly name: string;
  readonly role: string;
  readonly envFile: string;
  readonly tokenFile: string;
  /** KV path (`mount/path#key`) holding a copy of its secret_id, when it has one. */
  readonly vaultPath?: string;
}

/** What provider.vault.services says about a lab service (the configuration's input form). */
export interface LabAppRoleServiceConfig {
  readonly role: string;
  readonly envFile: string;
  readonly vaultPath?: string;
  readonly restart: { readonly kind: 'command'; readonly argv: string[] };
  readonly loginTimeout: string;
}

/**
 * One service per AppRole role of the lab layout (`acme-app`…), as a platform
 * team would have set them up: a secret_id issued by Vault, written with the
 * role_id to the service's .env under `<dir>/services/` (0600); the first
 * also keeps a copy in KV (`secret/services/<name>#secret_id`). Each service
 * "restarts" by logging in again (lab-approle-agent.ts).
 */
export async function createLabAppRoleServices(dir: string, url: string, caFile: string | undefined, roleIds: Readonly<Record<string, string>>, call: LabVaultCall): Promise<{ services: LabAppRoleService[]; config: Record<string, LabAppRoleServiceConfig> }> {
  const base = join(dir, 'services');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const services: LabAppRoleService[] = [];
  const config: Record<string, LabAppRoleServiceConfig> = {};
  for (const [i, [role, roleId]] of Object.entries(roleIds).entries()) {
    const issued = await call('POST', `auth/approle/role/${role}/secret-id`, {});
    const secretId = str((issued?.['data'] as Record<string, unknown> | undefined)?.['secret_id']);
    const envFile = join(base, `${role}.env`);
    const tokenFile = join(base, `${role}.token`);
    writeFileSync(envFile, `# ${role}: how it reaches Vault\nVAULT_ADDR=${url}\nVAULT_ROLE_ID=${roleId}\nVAULT_SECRET_ID=${secretId}\n`, { mode: 0o600 });
    const vaultPath = i === 0 ? `secret/services/${role}#secret_id` : undefined;
    if (vaultPath !== undefined) await call('POST', `secret/data/services/${role}`, { data: { secret_id: secretId, role_id: roleId } });
    services.push({ name: role, role, envFile, tokenFile, ...(vaultPath === undefined ? {} : { vaultPath }) });
    config[role] = { role, envFile, ...(vaultPath === undefined ? {} : { vaultPath }), restart: { kind: 'command', argv: agentArgv({ envFile, url, tokenFile, caFile }) }, loginTimeout: '20s' };
  }
  return { services, config };
}
