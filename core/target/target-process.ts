import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { request } from 'undici';
import { TargetError } from '../errors.ts';

/** How to start the system under test (config.yaml `target.start`). */
export interface StartSpec {
  command: string;
  ready_url: string;
  timeout_seconds: number;
  env: Record<string, string>;
}

/** True when something accepts TCP connections on host:port (within `timeoutMs`). */
export function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Host and port of an http(s) URL, with the scheme's default port. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
}

/** The last `max` lines a process printed, for error messages. */
class TailBuffer {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 20) {}
  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-this.max).map((l) => `    | ${l}`).join('\n') || '    (it printed nothing)';
  }
}

/** Targets started by this process, with their graceful stop. */
interface Registry {
  children: Set<ChildProcess>;
  stops: Set<(graceMs?: number) => Promise<void>>;
  exitHookInstalled: boolean;
}

// Global, not module state: the global setup (Vite's module runner) and the reporter (bundled
// with vitest.config.ts) load this file as two separate module instances in the same process.
const REGISTRY_KEY = Symbol.for('loadbench.targets');
const registry: Registry = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= {
  children: new Set(),
  stops: new Set(),
  exitHookInstalled: false,
}) as Registry;
const running = registry.children;

/** Stops every target this process started (SIGTERM, then SIGKILL after the grace period). */
export async function stopAllTargets(graceMs = 5000): Promise<void> {
  await Promise.all([...registry.stops].map((stop) => stop(graceMs)));
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the whole process group of a child started with `detached: true`. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // Not skipped when the shell has exited: the rest of its group may still run.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * A watchdog for one target group, in its own process group: when loadbench dies without running
 * its exit hook (SIGKILL, a crash of the runtime), the pipe to it closes and the watchdog stops the
 * target (SIGTERM, then SIGKILL), so that not even a killed run leaves the system under test running.
 */
const REAPER = `
const pgid = Number(process.argv[1]);
const kill = (signal) => { try { process.kill(-pgid, signal); } catch {} };
process.stdin.on('data', () => undefined);
process.stdin.on('close', () => { kill('SIGTERM'); setTimeout(() => { kill('SIGKILL'); process.exit(0); }, 3000); });
process.on('SIGTERM', () => process.exit(0));
`;

function startReaper(pgid: number): ChildProcess | undefined {
  try {
    const reaper = spawn(process.execPath, ['-e', REAPER, String(pgid)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.on('error', () => undefined);
    reaper.stdin?.on('error', () => undefined);
    // Neither the watchdog nor its pipe may keep loadbench alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return reaper;
  } catch {
    return undefined;
  }
}

function installExitHook(): void {
  if (registry.exitHookInstalled) return;
  registry.exitHookInstalled = true;
  // Last resort when the runner exits early (Ctrl-C, a crash): 'exit' handlers must be
  // synchronous, so the group gets SIGKILL at once rather than a graceful stop.
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

/** A started target; `stop()` is idempotent. */
export interface RunningTarget {
  pid: number;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `spec.command` in its own process group, waits until `ready_url` answers 2xx,
 * and returns a handle that stops the whole group (SIGTERM, then SIGKILL after a grace period).
 * @throws TargetError when the port is already taken, the command exits early, or it is not ready in time
 */
export async function startTarget(spec: StartSpec, targetUrl: string, cwd: string): Promise<RunningTarget> {
  const { host, port } = hostPort(targetUrl);
  if (await isListening(host, port)) {
    throw new TargetError(
      `something already listens on ${host}:${port} (target.url) before loadbench started target.start.command; ` +
        `stop it first, or remove target.start from config.yaml to benchmark the running process`,
    );
  }
  installExitHook();
  const child = spawn(spec.command, {
    cwd,
    shell: true,
    detached: true,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const reaper = child.pid !== undefined ? startReaper(child.pid) : undefined;
  // The watchdog ends once the whole group is gone (not merely the shell that started it).
  const endReaper = (): void => {
    if (reaper && reaper.exitCode === null && !groupAlive(child.pid!)) reaper.kill('SIGTERM');
  };
  child.once('exit', endReaper);
  const tail = new TailBuffer();
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const stop = async (graceMs = 5000): Promise<void> => {
    registry.stops.delete(stop);
    const pid = child.pid!;
    if ((child.exitCode !== null || child.signalCode !== null) && !groupAlive(pid)) {
      reaper?.kill('SIGTERM');
      return;
    }
    const deadline = Date.now() + graceMs;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // The shell may exit before its children: give the rest of the group the same grace, then make sure nothing survives.
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    killGroup(child, 'SIGKILL');
    reaper?.kill('SIGTERM');
  };

  registry.stops.add(stop);
  // Ctrl-C while the target boots: stop waiting at once (the test runner defers its own exit).
  let interruptedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interruptedBy ??= signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await waitUntilReady(spec, child, tail, stop, () => interruptedBy);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function waitUntilReady(
  spec: StartSpec,
  child: ChildProcess,
  tail: TailBuffer,
  stop: RunningTarget['stop'],
  interrupted: () => NodeJS.Signals | undefined,
): Promise<RunningTarget> {
  const deadline = Date.now() + spec.timeout_seconds * 1000;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    const signal = interrupted();
    if (signal) {
      await stop(1000);
      throw new TargetError(`interrupted by ${signal} while the target was starting: it was stopped, and no load was sent`, signal === 'SIGINT' ? 130 : 143);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new TargetError(
        `target.start.command exited (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode}) before ${spec.ready_url} answered. Its last lines:\n${tail.text()}`,
      );
    }
    try {
      const res = await request(spec.ready_url, { method: 'GET', headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { pid: child.pid!, stop };
      lastProblem = `HTTP ${res.statusCode}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop(1000);
  throw new TargetError(
    `target.start.command did not become ready within ${spec.timeout_seconds} s (${spec.ready_url}: ${lastProblem}); no load was sent. Its last lines:\n${tail.text()}`,
  );
}

/**
 * Without `target.start`: something must answer at the target's host and port, or the run would
 * measure only refused connections.
 * @throws TargetError naming the address and the three ways to fix it
 */
export async function checkTargetListening(targetUrl: string): Promise<void> {
  const { host, port } = hostPort(targetUrl);
  if (!(await isListening(host, port, 2000))) {
    throw new TargetError(
      `nothing answers at ${host}:${port} (target.url ${targetUrl}): start your system first, ` +
        `set target.url / LOADBENCH_TARGET_URL, or add target.start to config.yaml`,
    );
  }
}
