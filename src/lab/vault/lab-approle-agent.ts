// The lab's stand-in for a service that logs in to Vault with AppRole (a
// Vault Agent with auto-auth and a file sink): it reads its role_id and
// secret_id from a .env file, logs in, writes the token to its sink file
// (mode 0600) and exits 0; a refused login exits 1 naming the problem, never
// the secret_id. It is what a `restart: {kind: command}` runs: a service that
// "restarts" by logging in again with what its .env now holds.
//
//   lab-approle-agent.ts --env-file F --url U --token-file T [--ca-file C] [--mount approle]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { readEnvValue } from '../../connectors/dotenv/dotenv-file.ts';

export const APPROLE_AGENT = fileURLToPath(import.meta.url);

export interface AgentOptions {
  readonly envFile: string;
  readonly url: string;
  readonly tokenFile: string;
  readonly caFile?: string | undefined;
  readonly mount?: string;
}

/** The argv that "restarts" the service: what its `restart: {kind: command}` runs. */
export function agentArgv(o: AgentOptions): string[] {
  return [process.execPath, APPROLE_AGENT, '--env-file', o.envFile, '--url', o.url, '--token-file', o.tokenFile,
    ...(o.caFile === undefined ? [] : ['--ca-file', o.caFile]), ...(o.mount === undefined ? [] : ['--mount', o.mount])];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'env-file': { type: 'string' }, url: { type: 'string' }, 'token-file': { type: 'string' }, 'ca-file': { type: 'string' }, mount: { type: 'string', default: 'approle' } } });
  const { 'env-file': envFile, url, 'token-file': tokenFile, 'ca-file': caFile, mount } = values;
  if (envFile === undefined || url === undefined || tokenFile === undefined) {
    process.stderr.write('usage: lab-approle-agent.ts --env-file F --url U --token-file T [--ca-file C] [--mount approle]\n');
    process.exit(2);
  }
  const env = readFileSync(envFile, 'utf8');
  const roleId = readEnvValue(env, 'VAULT_ROLE_ID');
  const secretId = readEnvValue(env, 'VAULT_SECRET_ID');
  if (roleId === undefined || secretId === undefined) {
    process.stderr.write(`${envFile} lacks VAULT_ROLE_ID or VAULT_SECRET_ID\n`);
    process.exit(1);
  }
  const dispatcher = caFile === undefined ? undefined : new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
  const res = await request(`${url}/v1/auth/${mount}/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role_id: roleId, secret_id: secretId }),
    ...(dispatcher === undefined ? {} : { dispatcher }),
  });
  const body = await res.body.json() as { auth?: { client_token?: string }; errors?: string[] };
  const token = body.auth?.client_token;
  if (res.statusCode !== 200 || token === undefined) {
    process.stderr.write(`AppRole login refused (${res.statusCode}): ${(body.errors ?? []).join('; ')}\n`);
    process.exit(1);
  }
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  await dispatcher?.close();
}

if (process.argv[1] === APPROLE_AGENT) await main();
