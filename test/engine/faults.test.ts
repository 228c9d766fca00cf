import { describe, expect, it } from 'vitest';
import { runLevel, type LevelPlan } from '../../engine/level-controller.ts';
import { startFaultServer, type Fault } from '../helpers/fault-server.ts';
import { startServer } from '../helpers/servers.ts';
import { levelPlan } from '../helpers/level-plan.ts';

const plan = (url: string, over: Partial<LevelPlan> = {}): LevelPlan =>
  levelPlan(url, { scenario: 'faults', durationSeconds: 1.2, timeoutSeconds: 0.5, ...over });

async function underFault(fault: Fault, over: Partial<LevelPlan> = {}) {
  const server = await startFaultServer(fault);
  const started = Date.now();
  try {
    const result = await runLevel(plan(server.url, over));
    return { result, elapsedMs: Date.now() - started, connections: server.connections() };
  } finally {
    await server.close();
  }
}

describe('faults during a level are measured, bounded and classified, never fatal', () => {
  it('a stalled target: every request times out and the level ends on time', async () => {
    const { result, elapsedMs } = await underFault('stall');
    expect(result.requests).toBeGreaterThan(0);
    expect(result.errors.timeout).toBe(result.requests);
    expect(elapsedMs).toBeLessThan(1200 + 800);
  });

  it('a byte-by-byte answer is bounded by the total timeout', async () => {
    const { result, elapsedMs } = await underFault('drip');
    expect(result.errors.timeout).toBe(result.requests);
    expect(result.successes).toBe(0);
    expect(elapsedMs).toBeLessThan(1200 + 800);
  });

  it('a target that closes the connection after each response still serves every request', async () => {
    const { result, connections } = await underFault('close-after-response', { requestsPerLevel: 200, durationSeconds: undefined });
    expect(result.requests).toBe(200);
    expect(result.failures).toBe(0);
    expect(connections).toBeGreaterThanOrEqual(200);
  });

  it('a huge body is cut at max_body_bytes and counted as body_too_large, with flat memory', async () => {
    const before = process.memoryUsage().rss;
    const { result } = await underFault('huge-body', { maxBodyBytes: 1024 * 1024, requestsPerLevel: 20, durationSeconds: undefined, timeoutSeconds: 5 });
    expect(result.errors.body_too_large).toBe(20);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('invalid HTTP is invalid_response', async () => {
    const { result } = await underFault('invalid-http', { requestsPerLevel: 10, durationSeconds: undefined });
    expect(result.errors.invalid_response).toBe(10);
  });

  it('a status outside 100-599 is invalid_response', async () => {
    const { result } = await underFault('status-999', { requestsPerLevel: 10, durationSeconds: undefined });
    expect(result.requests).toBe(10);
    expect(result.errors.invalid_response).toBe(10);
  });

  it('a non-JSON body fails a JSON check as check_failed, with the reason sampled', async () => {
    const { result } = await underFault('not-json', {
      requestsPerLevel: 10,
      durationSeconds: undefined,
      check: (res) => res.json<{ ok: boolean }>().ok,
    });
    expect(result.errors.check_failed).toBe(10);
    expect(result.error_samples[0]!.message).toMatch(/^check threw: .*JSON/);
  });

  it('a target that dies mid-level: failures are connect_refused/connection_reset and the level ends on time', async () => {
    const server = await startServer((_n, _req, res) => setTimeout(() => res.end('{}'), 2));
    setTimeout(() => void server.close(), 500);
    const started = Date.now();
    const result = await runLevel(plan(server.url, { durationSeconds: 1.5 }));
    expect(Date.now() - started).toBeLessThan(1500 + 800);
    expect(result.successes).toBeGreaterThan(0);
    expect(result.errors.connect_refused + result.errors.connection_reset).toBe(result.failures);
    expect(result.errors.connect_refused).toBeGreaterThan(0);
  });
});

describe('the reference gateway killed during a level', () => {
  it('ends the level on time with the failures counted as connect_refused / connection_reset', async () => {
    const { spawn } = await import('node:child_process');
    const { closedPort } = await import('../helpers/servers.ts');
    const { REPO_ROOT } = await import('../helpers/fixture-project.ts');
    const port = await closedPort();
    const gateway = spawn(process.execPath, ['--import', 'tsx', 'examples/submit-gateway/gateway.ts', '--port', String(port), '--workers', '1'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('gateway not ready')), 20_000);
        gateway.stdout!.on('data', (c: Buffer) => {
          if (String(c).includes('listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      setTimeout(() => gateway.kill('SIGKILL'), 600);
      const started = Date.now();
      const r = await runLevel(
        plan(`http://127.0.0.1:${port}/submit`, {
          headers: { 'content-type': 'application/json', authorization: 'Bearer dev-token' },
          durationSeconds: 1.5,
          timeoutSeconds: 2,
        }),
      );
      expect(Date.now() - started).toBeLessThan(1500 + 1000);
      expect(r.successes).toBeGreaterThan(0);
      expect(r.failures).toBeGreaterThan(0);
      expect(r.errors.connect_refused + r.errors.connection_reset).toBe(r.failures);
    } finally {
      gateway.kill('SIGKILL');
    }
  });
});
