import { readFileSync, statSync } from 'node:fs';
import { FirebreakError } from '../lib/errors.ts';
import { Secret } from '../lib/secret.ts';
import type { CredentialRef } from './config-schema.ts';

/** Reads `vault:mount/path#key` references (the Vault connector provides it). */
export type VaultReader = (mountPath: string, key: string) => Promise<Secret>;

export interface CredentialDeps {
  readonly env?: NodeJS.ProcessEnv;
  readonly vault?: VaultReader;
}

/**
 * Resolves a credential reference to a {@link Secret}. Errors name the
 * reference and what is wrong, never a value.
 */
export async function resolveCredential(ref: CredentialRef, where: string, deps: CredentialDeps = {}): Promise<Secret> {
  if (typeof ref === 'object') return new Secret(ref.value);
  const [scheme] = ref.split(':', 1);
  const rest = ref.slice((scheme?.length ?? 0) + 1);
  switch (scheme) {
    case 'env': {
      const value = (deps.env ?? process.env)[rest];
      if (value === undefined || value === '') throw new FirebreakError('SECRET_UNAVAILABLE', `${where}: environment variable ${rest} is not set (referenced as ${ref})`);
      return new Secret(value);
    }
    case 'file': {
      let text: string;
      try {
        const st = statSync(rest);
        if (!st.isFile()) throw new Error('not a regular file');
        text = readFileSync(rest, 'utf8');
      } catch (cause) {
        throw new FirebreakError('SECRET_UNAVAILABLE', `${where}: cannot read ${rest} (referenced as ${ref}): ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
      }
      const value = text.replace(/\r?\n$/, '');
      if (value === '') throw new FirebreakError('SECRET_UNAVAILABLE', `${where}: ${rest} is empty`);
      return new Secret(value);
    }
    case 'vault': {
      const hash = rest.lastIndexOf('#');
      if (deps.vault === undefined) throw new FirebreakError('SECRET_UNAVAILABLE', `${where}: ${ref} needs Vault, but no Vault is configured (provider.vault)`);
      return deps.vault(rest.slice(0, hash), rest.slice(hash + 1));
    }
    default:
      throw new FirebreakError('SECRET_UNAVAILABLE', `${where}: unknown credential reference scheme "${scheme ?? ''}"`);
  }
}
