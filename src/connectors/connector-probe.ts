import { connect } from 'node:net';
import { FirebreakError } from '../lib/errors.ts';
import type { TlsOptions } from '../lib/http-client.ts';
import type { ProbeContext, ProbeSpec } from './connector-types.ts';

/** GET `path` on the endpoint: any answer below 500 means it is there (authentication is not tried). */
export function httpProbe(system: string, url: string, path: string, tls: () => { tls?: TlsOptions }, ctx: ProbeContext): ProbeSpec {
  return {
    endpoint: url,
    run: async () => {
      // Loaded by a probe only: the connector definitions (hence every configuration load) do not load the HTTP stack.
      const { createHttpClient } = await import('../lib/http-client.ts');
      const client = createHttpClient({ baseUrl: url, system, timeoutMs: ctx.timeoutMs, logger: ctx.log, ...tls() });
      try {
        const res = await client.send({ method: 'GET', path });
        if (res.status >= 500) throw new FirebreakError('UNAVAILABLE', `answered ${res.status}`);
        return `HTTP ${res.status}`;
      } finally { await client.close(); }
    },
  };
}

/** A TCP connect: the port is open (no protocol is spoken). */
export function tcpProbe(host: string, port: number, ctx: ProbeContext): ProbeSpec {
  return {
    endpoint: `${host}:${port}`,
    run: () => new Promise<string>((resolve, reject) => {
      const sock = connect({ host, port, timeout: ctx.timeoutMs }, () => { sock.destroy(); resolve('TCP connect'); });
      sock.on('timeout', () => { sock.destroy(); reject(new FirebreakError('TIMEOUT', `no answer within ${ctx.timeoutMs} ms`)); });
      sock.on('error', (e: NodeJS.ErrnoException) => { reject(new FirebreakError('UNAVAILABLE', e.code ?? e.message)); });
    }),
  };
}
