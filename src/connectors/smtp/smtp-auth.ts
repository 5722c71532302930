import bcrypt from 'bcryptjs';
import nodemailer from 'nodemailer';
import { FirebreakError } from '../../lib/errors.ts';
import type { Secret } from '../../lib/secret.ts';
import type { Executor } from '../executor/executor-types.ts';

/** Dovecot's name for bcrypt ($2b$ hashes are read by its BLF-CRYPT scheme). */
const SCHEME = '{BLF-CRYPT}';

/** An SMTP login name as mail servers take it: a mailbox or plain name, never a field separator, a space or a line break. */
const LOGIN = /^[A-Za-z0-9._%+=@-]{1,254}$/;

function checkLogin(user: string): void {
  if (!LOGIN.test(user)) throw new FirebreakError('INVALID_INPUT', `SMTP login ${JSON.stringify(user.slice(0, 60))} must be 1–254 characters of letters, digits and . _ % + = @ -`);
}

/** `{BLF-CRYPT}$2b$<cost>$…`: the password's bcrypt hash as Dovecot's passdbs store it. */
export async function hashSmtpPassword(password: Secret, cost = 10): Promise<string> {
  if (!Number.isInteger(cost) || cost < 4 || cost > 15) throw new FirebreakError('INVALID_INPUT', `bcrypt cost must be an integer from 4 to 15 (got ${cost})`);
  return SCHEME + await bcrypt.hash(password.reveal(), cost);
}

/** Whether a stored hash (with or without its `{BLF-CRYPT}` prefix) is the password's. Other schemes never match. */
export async function hashMatches(stored: string, password: Secret): Promise<boolean> {
  const hash = stored.startsWith(SCHEME) ? stored.slice(SCHEME.length) : stored;
  if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return false;
  return bcrypt.compare(password.reveal(), hash);
}

/**
 * Sets `user`'s password in a Dovecot passwd-file on the host
 * (`user:{scheme}hash:uid:gid:gecos:home:shell:extra_fields`), under the
 * file's lock, in one atomic replacement that keeps the file's mode and owner.
 * Only the password field of that user's line changes; every other line and
 * field stays. A user the file does not hold is NOT_FOUND (nothing written).
 * When the file already holds this password nothing is written
 * (`unchanged`): a resumed step re-applies safely.
 */
export async function setPasswdFilePassword(host: Executor, path: string, user: string, password: Secret, o: { readonly cost?: number } = {}): Promise<'changed' | 'unchanged'> {
  checkLogin(user);
  if (!path.startsWith('/') || path.includes('\0')) throw new FirebreakError('INVALID_INPUT', `passwd-file path ${JSON.stringify(path)} must be absolute`);
  return host.withLock(path, async () => {
    const text = (await host.readFile(path)).toString('utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${user}:`));
    if (at < 0) throw new FirebreakError('NOT_FOUND', `${path} on ${host.describe} has no line for ${user}`);
    const fields = (lines[at] as string).split(':');
    if (await hashMatches(fields[1] ?? '', password)) return 'unchanged';
    fields[1] = await hashSmtpPassword(password, o.cost);
    lines[at] = fields.join(':');
    const before = await mtimeOf(host, path);
    await host.writeFileAtomic(path, lines.join('\n'));
    // Dovecot re-reads a passwd-file when its mtime (in seconds) or size changes; a new hash has the old one's size,
    // so a second write within the same second would go unseen: keep the mtime rising.
    const after = await mtimeOf(host, path);
    if (before !== undefined && after !== undefined && after <= before) {
      const r = await host.exec({ argv: ['touch', '-m', '-d', `@${before + 1}`, path] });
      if (r.exitCode !== 0) throw new FirebreakError('UPSTREAM_REJECTED', `touch ${path} on ${host.describe} failed: ${r.stderr.trim()}`);
    }
    return 'changed';
  });
}

async function mtimeOf(host: Executor, path: string): Promise<number | undefined> {
  const r = await host.exec({ argv: ['stat', '-c', '%Y', path] });
  const n = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isInteger(n) ? n : undefined;
}

export interface SmtpLogin {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: Secret;
  /** `none` (plain, tests and local relays), `starttls` (submission, 587) or `tls` (implicit, 465). */
  readonly security?: 'none' | 'starttls' | 'tls';
  /** PEM CA bundle for the server's certificate. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/**
 * A real SMTP AUTH login (EHLO, AUTH, QUIT; no message sent): `accepted`, or
 * `refused` when the server answers 535. A server that cannot be reached or
 * answers otherwise throws, so a refusal is never mistaken for an outage.
 */
export async function trySmtpLogin(o: SmtpLogin): Promise<'accepted' | 'refused'> {
  checkLogin(o.user);
  const security = o.security ?? 'starttls';
  const timeout = o.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({
    host: o.host, port: o.port, secure: security === 'tls', ignoreTLS: security === 'none', requireTLS: security === 'starttls',
    auth: { user: o.user, pass: o.password.reveal() }, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout,
    ...(o.ca === undefined ? {} : { tls: { ca: o.ca } }),
  });
  try {
    await transport.verify();
    return 'accepted';
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    if (e.code === 'EAUTH' && e.responseCode === 535) return 'refused';
    // Another answer to AUTH (454, 534, 538: no mechanism, TLS needed) is a refusal of the request; anything else is an outage.
    throw new FirebreakError(e.code === 'EAUTH' ? 'UPSTREAM_REJECTED' : 'UNAVAILABLE', `SMTP login as ${o.user} at ${o.host}:${o.port}: ${(e.message ?? String(err)).slice(0, 200)}`);
  } finally {
    transport.close();
  }
}

/**
 * Polls {@link trySmtpLogin} until it gives `want` (a server may take a moment
 * to see a new password: Dovecot re-reads a passwd-file at most once a
 * second). Throws VERIFY_FAILED with the last answer when the deadline passes.
 */
export async function awaitSmtpLogin(o: SmtpLogin, want: 'accepted' | 'refused', deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const got = await trySmtpLogin(o);
    if (got === want) return;
    if (Date.now() + delay > end) throw new FirebreakError('VERIFY_FAILED', `SMTP login as ${o.user} at ${o.host}:${o.port} was still ${got} after ${deadlineMs} ms (expected ${want})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
