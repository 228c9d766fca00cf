import { createServer } from 'node:net';

/**
 * A TCP port free on `host` right now, from the operating system (listen on port 0, then close).
 * Another process may take it before the target binds it; the target start then fails with a
 * clear message rather than measuring the wrong process (startTarget checks the port first).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port was assigned'))));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number, host?: string): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
