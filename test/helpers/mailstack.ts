import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/lib/free-port.ts';

const POSTFIX = '/usr/sbin/postfix';
const MASTER = '/usr/lib/postfix/sbin/master';
const DOVECOT = '/usr/sbin/dovecot';
const NOBODY = 65534;

export function mailstackProblem(): string | undefined {
  if (!existsSync(POSTFIX) || !existsSync(MASTER)) return `${MASTER} is not installed (postfix)`;
  if (!existsSync(DOVECOT)) return `${DOVECOT} is not installed (dovecot-core)`;
  if (process.getuid?.() !== 0) return 'Postfix and Dovecot must start as root';
  if (idOf('postfix', '/etc/passwd') === undefined || idOf('postdrop', '/etc/group') === undefined) return 'the postfix user or the postdrop group is missing (postfix)';
  if (idOf('dovecot', '/etc/passwd') === undefined || idOf('dovenull', '/etc/passwd') === undefined) return 'the dovecot or dovenull user is missing (dovecot-core)';
  return undefined;
}

function idOf(name: string, file: string): number | undefined {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(':')[2]);
}

export interface MailStackOptions {
  /** The passdb: a passwd-file at `passwdFile` (created empty when missing), or SQL through dovecot-pgsql. */
  readonly passdb: { readonly kind: 'passwd-file'; readonly path?: string } | { readonly kind: 'pgsql'; readonly connect: string; readonly query: string };
  /** Domains whose mail is delivered to maildirs (`<dir>/mail/<domain>/<user>/`). */
  readonly domains?: readonly string[];
}

export interface MailStack {
  readonly dir: string;
  /** Postfix's submission port on 127.0.0.1 (SMTP AUTH PLAIN/LOGIN, no TLS). */
  readonly port: number;
  /** The Dovecot passwd-file (passwd-file passdb only). */
  readonly passwdFile: string;
  /** The messages delivered to `user@domain` so far, oldest first (raw RFC 5322). */
  delivered(address: string): string[];
  stop(): Promise<void>;
}

/**
 * A real Postfix (SMTP AUTH through Dovecot SASL, virtual delivery to
 * maildirs) and a real Dovecot (auth only) in a temp dir, on a free port, as
 * root without systemd or syslog.
 */
export async function startMailStack(o: MailStackOptions): Promise<MailStack> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-mail-'));
  chmodSync(dir, 0o755);
  const postfixUid = idOf('postfix', '/etc/passwd') as number;
  const postdrop = idOf('postdrop', '/etc/group') as number;
  const domains = o.domains ?? ['mail.test'];
  const port = await freePort();
  const passwdFile = o.passdb.kind === 'passwd-file' ? (o.passdb.path ?? join(dir, 'passwd')) : join(dir, 'passwd');
  if (!existsSync(passwdFile)) writeFileSync(passwdFile, '', { mode: 0o644 });

  // Postfix: its own config and queue directory, laid out here as postfix-script would.
  const conf = join(dir, 'postfix');
  const queue = join(dir, 'queue');
  mkdirSync(conf);
  const queueDirs: Array<[string, number, number, number]> = [
    ['', 0o755, 0, 0], ['pid', 0o755, 0, 0],
    ...['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace'].map((d): [string, number, number, number] => [d, 0o700, postfixUid, 0]),
    ['maildrop', 0o730, postfixUid, postdrop], ['public', 0o710, postfixUid, postdrop],
  ];
  for (const [d, mode, uid, gid] of queueDirs) {
    mkdirSync(join(queue, d), { recursive: true });
    chmodSync(join(queue, d), mode);
    chownSync(join(queue, d), uid, gid);
  }
  mkdirSync(join(dir, 'data'));
  chownSync(join(dir, 'data'), postfixUid, 0);
  mkdirSync(join(dir, 'mail'));
  chownSync(join(dir, 'mail'), NOBODY, NOBODY);
  writeFileSync(join(dir, 'vmailbox'), domains.map((d) => `@${d} ${d}/catchall/\n`).join(''));
  writeFileSync(join(conf, 'main.cf'), [
    'compatibility_level = 3.6', `queue_directory = ${queue}`, `data_directory = ${join(dir, 'data')}`,
    'mail_owner = postfix', 'setgid_group = postdrop', 'myhostname = mx.firebreak.test', 'mydestination =', 'inet_interfaces = 127.0.0.1', 'inet_protocols = ipv4',
    'alias_maps =', 'alias_database =', 'local_transport = error:no local delivery', 'relayhost =', 'smtputf8_enable = no',
    `maillog_file = ${join(dir, 'maillog')}`, `maillog_file_prefixes = ${dir}`,
    `virtual_mailbox_domains = ${domains.join(' ')}`, `virtual_mailbox_base = ${join(dir, 'mail')}`, `virtual_mailbox_maps = texthash:${join(dir, 'vmailbox')}`,
    `virtual_uid_maps = static:${NOBODY}`, `virtual_gid_maps = static:${NOBODY}`, `virtual_minimum_uid = ${NOBODY}`,
    'smtpd_sasl_type = dovecot', 'smtpd_sasl_path = private/auth', 'smtpd_sasl_auth_enable = yes', 'smtpd_tls_security_level = none',
    'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination', 'smtpd_recipient_restrictions =',
    // A refused login answers at once (the default delays each error by 1 s).
    'smtpd_error_sleep_time = 0', 'smtpd_soft_error_limit = 1000', 'smtpd_hard_error_limit = 1000', 'smtpd_client_auth_rate_limit = 0',
    '',
  ].join('\n'));
  const svc = (name: string, type: string, priv: string, limit: string, cmd: string) => `${name} ${type} ${priv} ${cmd === 'virtual' ? 'n' : '-'} n - ${limit} ${cmd}`;
  writeFileSync(join(conf, 'master.cf'), [
    svc(`127.0.0.1:${port}`, 'inet', 'n', '-', 'smtpd'), svc('pickup', 'unix', 'n', '1', 'pickup'), svc('cleanup', 'unix', 'n', '0', 'cleanup'),
    svc('qmgr', 'unix', 'n', '1', 'qmgr'), svc('rewrite', 'unix', '-', '-', 'trivial-rewrite'), svc('bounce', 'unix', '-', '0', 'bounce'),
    svc('defer', 'unix', '-', '0', 'bounce'), svc('trace', 'unix', '-', '0', 'bounce'), svc('verify', 'unix', '-', '1', 'verify'),
    svc('flush', 'unix', 'n', '0', 'flush'), svc('proxymap', 'unix', '-', '-', 'proxymap'), svc('smtp', 'unix', '-', '-', 'smtp'),
    svc('relay', 'unix', '-', '-', 'smtp'), svc('showq', 'unix', 'n', '-', 'showq'), svc('error', 'unix', '-', '-', 'error'),
    svc('retry', 'unix', '-', '-', 'error'), svc('discard', 'unix', '-', '-', 'discard'), svc('virtual', 'unix', '-', '-', 'virtual'),
    svc('anvil', 'unix', '-', '1', 'anvil'), svc('scache', 'unix', '-', '1', 'scache'), svc('postlog', 'unix-dgram', 'n', '1', 'postlogd'),
    '',
  ].join('\n'));
  // Postfix waits out files changed in the last second ("file has changed"): make them older.
  const past = new Date(Date.now() - 60_000);
  for (const f of [join(conf, 'main.cf'), join(conf, 'master.cf'), join(dir, 'vmailbox')]) utimesSync(f, past, past);

  // Dovecot: auth only, its client socket where Postfix's smtpd looks (private/auth in the queue).
  const dove = join(dir, 'dovecot');
  mkdirSync(join(dove, 'run'), { recursive: true });
  mkdirSync(join(dove, 'state'));
  const passdb = o.passdb.kind === 'passwd-file'
    ? ['passdb {', '  driver = passwd-file', `  args = scheme=BLF-CRYPT username_format=%u ${passwdFile}`, '}']
    : ['passdb {', '  driver = sql', `  args = ${join(dove, 'sql.conf')}`, '}'];
  if (o.passdb.kind === 'pgsql') writeFileSync(join(dove, 'sql.conf'), `driver = pgsql\nconnect = ${o.passdb.connect}\ndefault_pass_scheme = BLF-CRYPT\npassword_query = ${o.passdb.query}\n`, { mode: 0o644 });
  writeFileSync(join(dove, 'dovecot.conf'), [
    `base_dir = ${join(dove, 'run')}`, `state_dir = ${join(dove, 'state')}`, 'protocols =', 'ssl = no',
    `log_path = ${join(dir, 'dovecot.log')}`, 'auth_mechanisms = plain login', 'disable_plaintext_auth = no',
    'default_internal_user = dovecot', 'default_login_user = dovenull', 'auth_cache_size = 0', 'auth_failure_delay = 0', 
    ...passdb, 'userdb {', '  driver = static', `  args = uid=${NOBODY} gid=${NOBODY} home=/nonexistent`, '}',
    'service auth {', `  unix_listener ${join(queue, 'private', 'auth')} {`, '    mode = 0666', '  }', '}',
    // Dovecot delays every login from an address that just failed one (2 s, 4 s, … up to 15 s, auth-penalty.c): the tests
    // refuse old passwords on purpose, so the penalty's anvil socket is closed to the auth process (which then runs without it).
    'service anvil {', '  chroot =', '  unix_listener anvil-auth-penalty {', '    mode = 0', '  }', '}', '',
  ].join('\n'));

  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => { child.once('exit', r); });
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dovecot = spawnLogged(DOVECOT, ['-F', '-c', join(dove, 'dovecot.conf')]);
    children.push(dovecot.child);
    await until(() => authReady(join(queue, 'private', 'auth')), dovecot, 'Dovecot auth', join(dir, 'dovecot.log'));
    // The master daemon itself, in the foreground (-s): a SIGTERM stops it and its services.
    const postfix = spawnLogged(MASTER, ['-c', conf, '-s']);
    children.push(postfix.child);
    await until(() => smtpBanner(port), postfix, 'Postfix', join(dir, 'maillog'));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir, port, passwdFile,
    delivered(address) {
      const [user, domain] = address.split('@');
      const box = join(dir, 'mail', domain ?? '', 'catchall', 'new');
      if (!existsSync(box) || user === undefined) return [];
      return readdirSync(box).sort().map((f) => readFileSync(join(box, f), 'utf8')).filter((m) => new RegExp(`^(Delivered-To|X-Original-To): ${address.replace(/[.+]/g, '\\$&')}$`, 'mi').test(m));
    },
    stop,
  };
}

function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, output: () => out };
}

async function until(ready: () => Promise<boolean>, p: { child: ChildProcess; output: () => string }, what: string, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const tail = () => `${p.output()}${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''}`;
    if (p.child.exitCode !== null) throw new Error(`${what} exited ${p.child.exitCode}: ${tail()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within 20 s: ${tail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dovecot's auth client protocol: after our VERSION and CPID the server lists its mechanisms and ends with DONE. */
function authReady(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(socket)) { resolve(false); return; }
    const s = connect(socket);
    let got = '';
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.on('connect', () => s.write(`VERSION\t1\t2\nCPID\t${process.pid}\n`));
    s.on('data', (d: Buffer) => { got += d.toString(); if (got.includes('\nDONE\n')) done(true); });
    s.on('error', () => { done(false); });
    s.setTimeout(2000, () => { done(false); });
  });
}

function smtpBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.on('data', (d: Buffer) => { got += d.toString(); if (got.includes('\r\n')) done(got.startsWith('220')); });
    s.on('error', () => { done(false); });
    s.setTimeout(2000, () => { done(false); });
  });
}
