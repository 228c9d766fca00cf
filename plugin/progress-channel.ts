import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { ProgressEvent } from '../core/model/summary.ts';

/** A message from a bench worker to the main process. */
export type ProgressMessage =
  | { type: 'hello'; pid: number }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'level-end' };

/**
 * A fresh Unix socket path for this run. Bench files run in a child process whose console
 * Vitest captures, so progress travels over this side channel to the reporter instead.
 */
export function progressSocketPath(): string {
  return join(tmpdir(), `loadbench-progress-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
}

/** Listens on `path` and calls `onMessage` for every message; `close()` removes the socket. */
export async function listenForProgress(
  path: string,
  onMessage: (m: ProgressMessage) => void,
): Promise<{ close(): Promise<void> }> {
  rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          onMessage(JSON.parse(line) as ProgressMessage);
        } catch {
          // A garbled progress line is not worth failing a run for.
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
      }),
  };
}

/**
 * Connects a bench worker to the reporter's progress socket. Returns a sender that never
 * throws and never blocks: when the reporter is not listening, messages are dropped.
 */
export function connectProgress(path: string): (m: ProgressMessage) => void {
  let socket: Socket | undefined;
  let broken = false;
  return (message) => {
    if (broken) return;
    if (!socket) {
      socket = createConnection(path);
      socket.on('error', () => {
        broken = true;
      });
      socket.unref();
      // Lets the reporter forward an interrupt to this process when only the runner got it.
      socket.write(`${JSON.stringify({ type: 'hello', pid: process.pid })}\n`);
    }
    socket.write(`${JSON.stringify(message)}\n`);
  };
}
