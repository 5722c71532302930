import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** One request a {@link FakeHttp} received, as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  /** The raw request target (path and query), still percent-encoded. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface FakeReply {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FakeHttp {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A tiny HTTP server on 127.0.0.1, port 0, answering with `handler` and recording every
 * request: for replaying recorded vendor answers (CONTRACTS.md) to a client under test.
 */
export async function startFakeHttp(handler: (req: SeenRequest) => FakeReply | Promise<FakeReply>): Promise<FakeHttp> {
  const requests: SeenRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      void Promise.resolve(handler(seen)).then((reply) => {
        const body = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
        res.writeHead(reply.status, { ...(reply.json === undefined ? {} : { 'content-type': 'application/json' }), ...reply.headers });
        res.end(body);
      }, (err: unknown) => { res.writeHead(500); res.end(String(err)); });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }),
  };
}
