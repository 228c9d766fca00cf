/**
 * The side channel between bench processes and the main process. Bench files run in a child
 * process whose console Vitest captures and whose task results arrive only when a task ends;
 * live progress, the pid (to forward an interrupt), and the orchestrator's go-ahead before each
 * level travel over this Unix socket instead, one JSON object per line.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { ProgressEvent, ScenarioSnapshot } from '../core/model/summary.ts';
import type { LevelRun } from '../core/scenario/resolve.ts';

/** A message from a bench process to the main process. */
export type BenchMessage =
  | { type: 'hello'; pid: number }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'level-end' }
  /** Asks the orchestrator whether a level may start now; answered by a `go` with the same id. */
  | { type: 'before-level'; id: number; scenario: ScenarioSnapshot; run: LevelRun };

/** The main process's answer to `before-level`: go ahead, or why the level cannot run. */
export type MainMessage = { type: 'go'; id: number; error?: string };

/** A fresh Unix socket path for this run. */
export function benchSocketPath(): string {
  return join(tmpdir(), `loadbench-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
}

/** Splits a byte stream into JSON lines; a garbled line is skipped (not worth failing a run for). */
function onJsonLines<T>(socket: Socket, handle: (m: T) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let message: T;
      try {
        message = JSON.parse(line) as T;
      } catch {
        continue;
      }
      handle(message);
    }
  });
}

/** What the main process does with the messages; `beforeLevel` resolves when the level may start. */
export interface BenchListener {
  onMessage(m: Exclude<BenchMessage, { type: 'before-level' }>): void;
  beforeLevel(scenario: ScenarioSnapshot, run: LevelRun): Promise<void>;
}

/** Listens on `path`; `close()` removes the socket. */
export async function listenForBenches(path: string, listener: BenchListener): Promise<{ close(): Promise<void> }> {
  rmSync(path, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const reply = (m: MainMessage): void => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(m)}\n`);
    };
    onJsonLines<BenchMessage>(socket, (m) => {
      if (m.type !== 'before-level') return listener.onMessage(m);
      listener.beforeLevel(m.scenario, m.run).then(
        () => reply({ type: 'go', id: m.id }),
        (error: unknown) => reply({ type: 'go', id: m.id, error: (error as Error).message }),
      );
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

/** The bench process's end of the channel. */
export interface BenchChannel {
  /** Never throws, never blocks: when the main process is not listening, messages are dropped. */
  send(m: Exclude<BenchMessage, { type: 'before-level' | 'hello' }>): void;
  /** Resolves when the orchestrator lets the level start (at once when nobody listens); rejects with its reason. */
  beforeLevel(scenario: ScenarioSnapshot, run: LevelRun): Promise<void>;
}

/** Connects a bench process to the main process's socket (lazily, once). */
export function connectBenchChannel(path: string): BenchChannel {
  let socket: Socket | undefined;
  let broken = false;
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  const settleAll = (): void => {
    broken = true;
    // Nobody to ask any more: the levels go ahead rather than hang.
    for (const w of waiting.values()) w.resolve();
    waiting.clear();
  };
  const open = (): Socket | undefined => {
    if (broken) return undefined;
    if (socket) return socket;
    const s = createConnection(path);
    socket = s;
    s.on('error', settleAll);
    s.on('close', settleAll);
    onJsonLines<MainMessage>(s, (m) => {
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.error) w.reject(new Error(m.error));
      else w.resolve();
    });
    s.unref();
    // Lets the main process forward an interrupt to this process when only the runner got it.
    s.write(`${JSON.stringify({ type: 'hello', pid: process.pid })}\n`);
    return s;
  };
  return {
    send(m) {
      open()?.write(`${JSON.stringify(m)}\n`);
    },
    beforeLevel(scenario, run) {
      const s = open();
      if (!s) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        s.write(`${JSON.stringify({ type: 'before-level', id, scenario, run } satisfies BenchMessage)}\n`);
      });
    },
  };
}
