import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { isListening } from '../../core/target/target-process.ts';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { closedPort, startServer } from '../helpers/servers.ts';

const SERVER = `import http from 'node:http';
import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => { writeFileSync('stopped-by-sigterm', 'yes'); process.exit(0); });
const port = Number(process.env.PORT);
if (process.env.CRASH) { console.log('booting...'); console.error('fatal: database unreachable'); process.exit(3); }
if (process.env.SLOW_BOOT) { console.log('booting slowly...'); writeFileSync('booting.pid', String(process.pid)); setInterval(() => undefined, 1000); }
else
http.createServer((req, res) => { req.resume(); req.on('end', () => setTimeout(() => res.end('{"ok":true}'), 5)); })
  .listen(port, '127.0.0.1', () => console.log('listening on ' + port));
`;

const BENCH = { 'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n` };

function project(port: number, extraEnv = '', workload = 'concurrency_levels: [1, 2, 4], duration_seconds: 1.5') {
  const p = fixtureProject(
    `run_label: lifecycle
target:
  url: "http://127.0.0.1:${port}/submit"
  method: POST
  start: { command: "node server.mjs", ready_url: "http://127.0.0.1:${port}/healthz", timeout_seconds: 5, env: { PORT: "${port}"${extraEnv} } }
workload: { ${workload} }
`,
    BENCH,
  );
  writeFileSync(join(p.dir, 'server.mjs'), SERVER);
  return p;
}

describe('target.start lifecycle', () => {
  it('starts the target, runs the sweep, and stops it afterwards', async () => {
    const port = await closedPort();
    const p = project(port, '', 'concurrency_levels: [1, 2], duration_seconds: 0.5');
    const { code, output } = await p.runBench();
    expect(code, output).toBe(0);
    expect(output).toContain('loadbench: target ready');
    const rows = parse(readFileSync(join(p.dir, 'runs/lifecycle_summary.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.failures)).toEqual(['0', '0']);
    expect(await isListening('127.0.0.1', port)).toBe(false);
    expect(readFileSync(join(p.dir, 'stopped-by-sigterm'), 'utf8')).toBe('yes');
  });

  it('quotes the last lines of a command that exits before it is ready, and sends no load', async () => {
    const port = await closedPort();
    const p = project(port, ', CRASH: "1"');
    const { code, output } = await p.runBench();
    expect(code).toBe(1);
    expect(output).toMatch(/target.start.command exited \(code 3\) before http:\/\/127.0.0.1:\d+\/healthz answered/);
    expect(output).toContain('| fatal: database unreachable');
    expect(output).not.toContain('loadbench results');
  });

  it('refuses to start a second copy when the port is already taken', async () => {
    const squatter = await startServer((_n, _req, res) => res.end('not yours'));
    try {
      const p = project(squatter.port);
      const { code, output } = await p.runBench();
      expect(code).toBe(1);
      expect(output).toContain(`something already listens on 127.0.0.1:${squatter.port}`);
      expect(squatter.count()).toBe(0);
    } finally {
      await squatter.close();
    }
  });
});

describe('interruption', () => {
  it('when loadbench itself is killed (SIGKILL, no exit hook can run), its watchdog still stops the target', async () => {
    const port = await closedPort();
    const p = project(port, '', 'concurrency_levels: [1], duration_seconds: 20');
    let killedAt = 0;
    const { code } = await p.runBench({}, [], (text, child) => {
      if (!killedAt && text.includes('@ 1 conc [')) {
        killedAt = Date.now();
        child.kill('SIGKILL');
      }
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(code).toBeNull();
    // The watchdog sends SIGTERM at once (SIGKILL 3 s later if needed).
    while ((await isListening('127.0.0.1', port)) && Date.now() - killedAt < 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(await isListening('127.0.0.1', port)).toBe(false);
    expect(readFileSync(join(p.dir, 'stopped-by-sigterm'), 'utf8')).toBe('yes');
    // The raw CSV was handed to the disk as the level ran, although nothing could be written at the end.
    const raw = readFileSync(join(p.dir, 'runs/lifecycle_raw.csv'), 'utf8').trim().split('\n');
    expect(raw[0]).toBe('scenario,concurrency,worker,timestamp_ms,latency_ms,status,ok,error');
  });

  it('on SIGINT while the target is still starting: stops waiting at once, stops the target, sends no load, exits 130', async () => {
    const port = await closedPort();
    // A target that never becomes ready within its 30 s.
    const p = project(port, ', SLOW_BOOT: "1"');
    writeFileSync(join(p.dir, 'config.yaml'), readFileSync(join(p.dir, 'config.yaml'), 'utf8').replace('timeout_seconds: 5', 'timeout_seconds: 30'));
    let sent = false;
    const started = Date.now();
    const { code, output } = await p.runBench({}, [], (text, child) => {
      if (!sent && text.includes('loadbench: starting the target')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 1000);
      }
    });
    expect(sent).toBe(true);
    expect(code, output).toBe(130);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(output).toContain('interrupted by SIGINT while the target was starting: it was stopped, and no load was sent');
    expect(output).not.toMatch(/\n\s+at /);
    const pid = Number(readFileSync(join(p.dir, 'booting.pid'), 'utf8'));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 20 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toBe(false);
    expect(readFileSync(join(p.dir, 'stopped-by-sigterm'), 'utf8')).toBe('yes');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s mid-level: writes every output with the level marked partial, stops the target, exits %i', async (signal, exitCode) => {
    const port = await closedPort();
    const p = project(port);
    let sent = false;
    const { code, output } = await p.runBench({}, [], (text, child) => {
      // The first progress line of level 2 comes about a second into it (CI mode); the level lasts 1.5 s.
      if (!sent && text.includes('@ 2 conc [')) {
        sent = true;
        setTimeout(() => child.kill(signal), 50);
      }
    });
    expect(sent).toBe(true);
    expect(code, output).toBe(exitCode);
    expect(output).toContain('INTERRUPTED');
    const rows = parse(readFileSync(join(p.dir, 'runs/lifecycle_summary.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.concurrency, r.partial, r.skipped])).toEqual([
      ['1', 'false', 'false'],
      ['2', 'true', 'false'],
      ['4', 'false', 'true'],
    ]);
    expect(Number(rows[1]!.requests)).toBeGreaterThan(0);
    expect(Number(rows[1]!.duration_s)).toBeLessThan(1.4);
    const json = JSON.parse(readFileSync(join(p.dir, 'runs/lifecycle_summary.json'), 'utf8'));
    expect(json.interrupted).toBe(true);
    const raw = readFileSync(join(p.dir, 'runs/lifecycle_raw.csv'), 'utf8').trim().split('\n');
    expect(raw.length - 1).toBe(Number(rows[0]!.requests) + Number(rows[1]!.requests));
    await new Promise((r) => setTimeout(r, 300));
    expect(await isListening('127.0.0.1', port)).toBe(false);
    // Stopped gracefully (SIGTERM first), not only by the last-resort SIGKILL.
    expect(readFileSync(join(p.dir, 'stopped-by-sigterm'), 'utf8')).toBe('yes');
  });
});
