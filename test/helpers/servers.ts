import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server on 127.0.0.1, port 0, for integration tests. */
export interface TestServer {
  url: string;
  port: number;
  /** Requests received so far. */
  count(): number;
  close(): Promise<void>;
}

/**
 * Starts a server whose handler gets the request number (1-based) and may answer, or not
 * (a handler that never calls `res.end` makes a request that never gets an answer).
 */
export async function startServer(
  handler: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TestServer> {
  let n = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(++n, req, res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/submit`,
    port,
    count: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
