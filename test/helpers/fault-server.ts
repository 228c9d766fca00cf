import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** How the fault server misbehaves. */
export type Fault =
  | 'stall' // accepts, reads the request, never answers
  | 'drip' // answers one byte every 200 ms
  | 'close-after-response' // a valid answer, then closes the connection
  | 'huge-body' // a 20 MiB body
  | 'invalid-http' // garbage instead of a status line
  | 'status-999' // a status outside 100-599
  | 'not-json'; // 200 with a body that is not JSON

const ok = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** A raw TCP server speaking just enough HTTP/1.1 to misbehave in the given way. */
export async function startFaultServer(fault: Fault): Promise<{ url: string; close(): Promise<void>; connections(): number }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      // One answer per complete request (headers end; our test requests have small bodies we ignore).
      while (buffer.includes('\r\n\r\n')) {
        const end = buffer.indexOf('\r\n\r\n') + 4;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + length) return;
        buffer = buffer.slice(end + length);
        answer(socket);
      }
    });
  });
  const answer = (socket: net.Socket): void => {
    switch (fault) {
      case 'stall':
        return;
      case 'drip': {
        const text = ok('{"ok":true,"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}');
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= text.length) return clearInterval(timer);
          socket.write(text[i++]!);
        }, 200);
        socket.on('close', () => clearInterval(timer));
        return;
      }
      case 'close-after-response':
        socket.end(ok('{"ok":true}', 'connection: close\r\n'));
        return;
      case 'huge-body': {
        const size = 20 * 1024 * 1024;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
        const chunk = Buffer.alloc(64 * 1024, 120);
        let sent = 0;
        const pump = (): void => {
          while (sent < size && !socket.destroyed) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
        return;
      }
      case 'invalid-http':
        socket.write('SURPRISE nothing like HTTP\r\n\r\n');
        return;
      case 'status-999':
        socket.write('HTTP/1.1 999 Weird\r\ncontent-length: 2\r\n\r\n{}');
        return;
      case 'not-json':
        socket.write(ok('<html>oops</html>'));
        return;
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/submit`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
