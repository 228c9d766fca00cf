import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLevel, type LevelPlan } from '../../engine/level-controller.ts';
import { levelPlan } from '../helpers/level-plan.ts';

interface RawServer {
  url: string;
  connections(): number;
  close(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/**
 * A TCP server that reads whole requests (head and Content-Length body) and lets `answer`
 * write whatever bytes it likes: the wire shapes the engine's HTTP client has to cope with.
 */
async function rawServer(answer: (socket: net.Socket, n: number, head: string) => void): Promise<RawServer> {
  let n = 0;
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.slice(end + 4 + length);
        answer(socket, ++n, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: RawServer = {
    url: `http://127.0.0.1:${port}/submit`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  closers.push(handle.close);
  return handle;
}

const plan = (url: string, over: Partial<LevelPlan> = {}): LevelPlan => levelPlan(url, { concurrency: 4, requestsPerLevel: 200, ...over });

describe("the engine's HTTP/1.1 client on the wire", () => {
  it('keeps one connection per worker alive for the whole level', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 11\r\nkeep-alive: timeout=5\r\n\r\n{"ok":true}'));
    const r = await runLevel(plan(server.url, { concurrency: 8, requestsPerLevel: 800 }));
    expect(r.successes).toBe(800);
    expect(server.connections()).toBe(8);
  });

  it('reads chunked answers, skips 1xx heads, and gives a check the headers and the whole body', async () => {
    const server = await rawServer((socket, n) => {
      const info = n % 2 ? 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n' : '';
      socket.write(`${info}HTTP/1.1 200 OK\r\nX-Request: ${n}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      // Split over several writes (and so, often, several reads).
      setImmediate(() => socket.write('7\r\n{"ok":t\r\n'));
      setTimeout(() => socket.write('4\r\nrue}\r\n0\r\n\r\n'), 1);
    });
    const seen = new Set<string>();
    const r = await runLevel(
      plan(server.url, {
        check: (res) => {
          seen.add(res.headers['x-request']!);
          return res.json<{ ok: boolean }>().ok && res.headers['transfer-encoding'] === 'chunked';
        },
      }),
    );
    expect(r.successes).toBe(200);
    expect(r.failures).toBe(0);
    expect(seen.size).toBe(200);
    expect(server.connections()).toBe(4);
  });

  it('reads a body without length to the end of the connection, then reconnects', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'));
    const r = await runLevel(plan(server.url, { requestsPerLevel: 50, check: (res) => res.body === 'until the end' }));
    expect(r.successes).toBe(50);
    expect(server.connections()).toBe(50);
  });

  it('drops a connection that sends bytes nobody asked for, and loses no request', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 500 Surprise\r\n\r\n'));
    const r = await runLevel(plan(server.url, { requestsPerLevel: 40 }));
    expect(r.successes).toBe(40);
    expect(r.status_codes).toEqual({ '200': 40 });
    expect(server.connections()).toBe(40);
  });

  it('counts a connection closed in the middle of a body as connection_reset', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly a part'));
    const r = await runLevel(plan(server.url, { requestsPerLevel: 20 }));
    expect(r.errors.connection_reset).toBe(20);
    expect(r.error_samples[0]!.message).toMatch(/closed the connection/);
  });

  it('does not wait for a body after HEAD', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'));
    const r = await runLevel(plan(server.url, { method: 'HEAD', body: undefined, requestsPerLevel: 30, timeoutSeconds: 1 }));
    expect(r.successes).toBe(30);
    expect(server.connections()).toBe(4);
  });

  it('speaks HTTPS', async () => {
    const dir = new URL('./fixtures/', import.meta.url);
    const server = https.createServer(
      { key: readFileSync(new URL('localhost-key.pem', dir)), cert: readFileSync(new URL('localhost-cert.pem', dir)) },
      (req, res) => {
        req.resume();
        req.on('end', () => res.end('{"ok":true}'));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const { port } = server.address() as AddressInfo;
    // The fixture certificate is self-signed.
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const r = await runLevel(plan(`https://localhost:${port}/submit`, { requestsPerLevel: 100, check: (res) => res.json<{ ok: boolean }>().ok }));
      expect(r.successes).toBe(100);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
  });
});
