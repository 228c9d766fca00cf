import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, submit, waitFor } from './helpers.ts';

const GATEWAY = fileURLToPath(new URL('../gateway.ts', import.meta.url));
// tsx is resolved from the cwd by `--import tsx`, exactly as for an end user running from the repo root.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Started {
  child: ChildProcess;
  url: string;
  readyMs: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const workerPids: number[] = [];

afterEach(() => {
  // Belt and braces: a failed assertion must not leave processes behind for the next test file.
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of workerPids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

function launch(args: string[], env: Record<string, string> = {}) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, started, exited, stdout: () => stdout, stderr: () => stderr };
}

async function startChild(args: string[], env?: Record<string, string>): Promise<Started> {
  const launched = launch(['--port', '0', ...args], env);
  const ok = await waitFor(() => /listening on http:\/\/\S+/.test(launched.stdout()) || launched.child.exitCode !== null, 10_000);
  const match = /submit-gateway listening on (http:\/\/\S+) \(workers=(\d+), difficulty=(\d+)/.exec(launched.stdout());
  if (!ok || match?.[1] === undefined) throw new Error(`gateway did not start: ${launched.stderr()}`);
  return { ...launched, url: match[1], readyMs: Date.now() - launched.started };
}

async function pidsOf(url: string): Promise<number[]> {
  const health = await (await fetch(`${url}/healthz`)).json();
  const pids = health.worker_pids as number[];
  workerPids.push(...pids);
  return pids;
}

describe('gateway process', () => {
  it('SIGTERM: exits 0 within 2 s and leaves no worker behind (token from env)', async () => {
    const gw = await startChild(['--workers', '2'], { GATEWAY_TOKEN: 'secret' });
    expect(gw.readyMs).toBeLessThan(5_000);
    const pids = await pidsOf(gw.url);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    expect((await submit(gw.url, { challenge_id: 'x' })).status).toBe(401); // token comes from env
    const ok = await submit(gw.url, { challenge_id: 'x' }, { token: 'secret' });
    expect(ok.status).toBe(200);

    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    const { code, signal } = await gw.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(2_000);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('SIGTERM with jobs stuck at the workers: they are answered 503 and shutdown still takes < 2 s', async () => {
    // Difficulty 40 never finishes, so shutdown has to fail in-flight work rather than wait for it.
    const gw = await startChild(['--workers', '2', '--difficulty', '40', '--max-in-flight', '1']);
    const pids = await pidsOf(gw.url);
    const pending = Array.from({ length: 5 }, (_, i) =>
      submit(gw.url, { challenge_id: `stuck${i}` }).then(
        (res) => res.status,
        (error: unknown) => error,
      ),
    );
    const accepted = await waitFor(async () => {
      const health = await (await fetch(`${gw.url}/healthz`)).json();
      return health.in_flight === 2 && health.queue_depth === 3;
    }, 3_000);
    expect(accepted).toBe(true);

    const signalled = Date.now();
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(await Promise.all(pending)).toEqual([503, 503, 503, 503, 503]);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('SIGINT behaves like SIGTERM', async () => {
    const gw = await startChild(['--workers', '1']);
    const pids = await pidsOf(gw.url);
    gw.child.kill('SIGINT');
    expect((await gw.exited).code).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('SIGKILL of the gateway: workers notice the IPC disconnect and exit by themselves', async () => {
    // High difficulty keeps a worker busy mid-job, so it must notice the disconnect between slices.
    const gw = await startChild(['--workers', '2', '--difficulty', '40']);
    const pids = await pidsOf(gw.url);
    void submit(gw.url, { challenge_id: 'busy' }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    gw.child.kill('SIGKILL');
    await gw.exited;
    expect(await waitFor(() => pids.every((pid) => !isAlive(pid)), 3_000)).toBe(true);
  });

  it('port in use: one clear error line and exit code 1', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = launch(['--port', String(port)]);
      const { code } = await run.exited;
      expect(code).toBe(1);
      expect(run.stdout()).toBe('');
      expect(run.stderr().trim()).toBe(`submit-gateway: error: cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`);
    } finally {
      blocker.close();
    }
  });

  it('invalid flags and env values fail fast with exit code 1', async () => {
    const bad = launch(['--workers', 'many']);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toMatch(/^submit-gateway: error: workers must be an integer/);
    const unknown = launch(['--wat']);
    expect((await unknown.exited).code).toBe(1);
    expect(unknown.stderr()).toMatch(/Unknown option '--wat'/);
    const env = launch([], { FAULT_ERROR_RATE: '2' });
    expect((await env.exited).code).toBe(1);
    expect(env.stderr()).toMatch(/fault error rate must be a number between 0 and 1/);
  });
});
