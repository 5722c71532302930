import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '../../src/lib/free-port.ts';

const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

export function powerdnsProblem(): string | undefined {
  if (!existsSync('/usr/sbin/pdns_server')) return '/usr/sbin/pdns_server is not installed (pdns-server)';
  if (!existsSync(SCHEMA)) return `${SCHEMA} is missing (pdns-backend-sqlite3)`;
  return undefined;
}

export interface PowerDns {
  /** The HTTP API's base URL (`http://127.0.0.1:PORT`). */
  readonly url: string;
  readonly apiKey: string;
  /** The authoritative server's DNS port on 127.0.0.1 (UDP and TCP). */
  readonly dnsPort: number;
  /** Creates a Native zone with its SOA and NS (the name ends with a dot). */
  createZone(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** A real PowerDNS Authoritative server (gsqlite3 backend, HTTP API) on free ports, in a temp dir. */
export async function startPowerDns(): Promise<PowerDns> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pdns-'));
  chmodSync(dir, 0o755);
  const db = new DatabaseSync(join(dir, 'pdns.sqlite3'));
  db.exec(readFileSync(SCHEMA, 'utf8'));
  db.close();
  const [dnsPort, apiPort] = [await freePort(), await freePort()];
  const apiKey = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'pdns.conf'), [
    'launch=gsqlite3', `gsqlite3-database=${join(dir, 'pdns.sqlite3')}`,
    'local-address=127.0.0.1', `local-port=${dnsPort}`,
    'api=yes', `api-key=${apiKey}`, 'webserver=yes', 'webserver-address=127.0.0.1', `webserver-port=${apiPort}`, 'webserver-allow-from=127.0.0.0/8',
    `socket-dir=${dir}`, 'daemon=no', 'guardian=no', 'disable-syslog=yes', 'write-pid=no', 'security-poll-suffix=',
    'default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 3600', 'loglevel=3', '',
  ].join('\n'));
  const child: ChildProcess = spawn('/usr/sbin/pdns_server', [`--config-dir=${dir}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = `http://127.0.0.1:${apiPort}`;
  const api = (path: string, init: RequestInit = {}) => fetch(`${url}/api/v1/servers/localhost${path}`, { ...init, headers: { 'x-api-key': apiKey, 'content-type': 'application/json' } });
  // Ready when the API answers (it starts after the backend and the DNS listeners).
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pdns_server exited ${child.exitCode}: ${stderr}`);
    const ok = await api('').then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`pdns_server did not answer on ${url} within 15 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url, apiKey, dnsPort,
    async createZone(name) {
      const r = await api('/zones', { method: 'POST', body: JSON.stringify({ name, kind: 'Native', nameservers: [`ns1.${name}`] }) });
      if (r.status !== 201) throw new Error(`PowerDNS refused zone ${name}: ${r.status} ${await r.text()}`);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => { child.once('exit', r); });
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
