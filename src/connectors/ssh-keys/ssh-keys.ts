import ssh2 from 'ssh2';
import { promisify } from 'node:util';
import { FirebreakError } from '../../lib/errors.ts';
import { Secret } from '../../lib/secret.ts';
import type { Executor } from '../executor/executor-types.ts';
import { createSshExecutor } from '../executor/ssh-executor.ts';

// ssh2 is CommonJS: take its members from the default export.
const { utils } = ssh2;
const generate = promisify(utils.generateKeyPair) as (type: 'ed25519', opts: { comment: string }) => Promise<{ private: string; public: string }>;

export interface SshKeyPair {
  /** The private key in OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  readonly privateKey: Secret;
  /** The public key line: `ssh-ed25519 AAAA… <comment>`. */
  readonly publicKey: string;
}

/** A new Ed25519 key pair in OpenSSH format (ssh2's generator), the comment naming whose it is. */
export async function generateSshKey(comment: string): Promise<SshKeyPair> {
  if (!/^[\x21-\x7e]{1,100}$/.test(comment)) throw new FirebreakError('INVALID_INPUT', `an SSH key comment must be 1–100 printable characters without spaces (got ${JSON.stringify(comment.slice(0, 40))})`);
  const pair = await generate('ed25519', { comment });
  return { privateKey: new Secret(pair.private), publicKey: pair.public.trim() };
}

/** The key's type and base64 blob (`ssh-ed25519 AAAA…`): what identifies it in an authorized_keys line, whatever the options and comment. */
export function keyId(publicKey: string): string {
  const parsed = utils.parseKey(publicKey.trim());
  if (parsed instanceof Error || Array.isArray(parsed)) throw new FirebreakError('INVALID_INPUT', `not an OpenSSH public key: ${parsed instanceof Error ? parsed.message : 'several keys'}`);
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
}

// An authorized_keys line: optional options, then the key type, the blob and an optional comment (sshd(8), AUTHORIZED_KEYS FILE FORMAT).
const KEY_IN_LINE = /(?:^|\s)((?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+[A-Za-z0-9+/]+=*)(?:\s|$)/;

/** The key of an authorized_keys line, or undefined for a comment, a blank line or one that is not a key. */
function lineKey(line: string): string | undefined {
  if (/^\s*(#|$)/.test(line)) return undefined;
  const m = KEY_IN_LINE.exec(line);
  if (m?.[1] === undefined) return undefined;
  try { return keyId(m[1]); } catch { return undefined; }
}

export interface AuthorizedKeysChange {
  /** Lines added (0 when the key was there already). */
  readonly added: number;
  /** Lines removed. */
  readonly removed: number;
}

/**
 * Adds `add` to the authorized_keys file at `path` on the host and removes
 * every line of a key in `remove`, under the file's lock, in one atomic
 * replacement (mode 0600 for a new file). Every other line (other people's
 * keys, options, comments) stays as it was. Applying the same change again
 * changes nothing.
 */
export async function changeAuthorizedKeys(host: Executor, path: string, change: { add?: string; remove?: readonly string[] }): Promise<AuthorizedKeysChange> {
  if (!path.startsWith('/') || path.includes('\0')) throw new FirebreakError('INVALID_INPUT', `authorized_keys path ${JSON.stringify(path)} must be absolute`);
  const addId = change.add === undefined ? undefined : keyId(change.add);
  const removeIds = new Set((change.remove ?? []).map(keyId));
  if (addId !== undefined && removeIds.has(addId)) throw new FirebreakError('INVALID_INPUT', 'the key to install is also a key to remove');
  return host.withLock(path, async () => {
    let text = '';
    try {
      text = (await host.readFile(path)).toString('utf8');
    } catch (err) {
      if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
    }
    const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
    const kept = lines.filter((l) => { const id = lineKey(l); return id === undefined || !removeIds.has(id); });
    const removed = lines.length - kept.length;
    const added = change.add !== undefined && !kept.some((l) => lineKey(l) === addId) ? 1 : 0;
    if (added === 1 && change.add !== undefined) kept.push(change.add.trim());
    if (added > 0 || removed > 0) await host.writeFileAtomic(path, kept.length === 0 ? '' : `${kept.join('\n')}\n`, { mode: 0o600 });
    return { added, removed };
  });
}

/** The keys an authorized_keys file on the host holds (type and blob each). */
export async function authorizedKeys(host: Executor, path: string): Promise<string[]> {
  try {
    return (await host.readFile(path)).toString('utf8').split('\n').map(lineKey).filter((k): k is string => k !== undefined);
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return [];
    throw err;
  }
}

/**
 * Logs in to `host` as `user` with `privateKey` (the host key pinned) and
 * runs `true`: `accepted`, or `refused` when the server refuses the key. A
 * host that cannot be reached, or presents another host key, throws.
 */
export async function trySshLogin(o: { host: string; port: number; user: string; hostKey: string; privateKey: Secret; timeoutMs?: number }): Promise<'accepted' | 'refused'> {
  const ex = createSshExecutor({ host: o.host, port: o.port, user: o.user, privateKey: o.privateKey, hostKey: o.hostKey, connectTimeoutMs: o.timeoutMs ?? 10_000 });
  try {
    const r = await ex.exec({ argv: ['true'], timeoutMs: o.timeoutMs ?? 10_000 });
    if (r.exitCode !== 0) throw new FirebreakError('VERIFY_FAILED', `ssh ${o.user}@${o.host}:${o.port} accepted the key but \`true\` exited ${r.exitCode}: ${r.stderr.slice(0, 200)}`);
    return 'accepted';
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'AUTH_FAILED' && /refused Firebreak's key/.test(e.message ?? '')) return 'refused';
    throw err;
  } finally {
    await ex.close();
  }
}
