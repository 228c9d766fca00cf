import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureProject } from '../helpers/fixture-project.ts';
import { closedPort, startServer, type TestServer } from '../helpers/servers.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((_n, req, res) => {
    const auth = req.headers.authorization;
    res.statusCode = auth === 'Bearer e2e-secret' ? 200 : 401;
    setTimeout(() => res.end('{"ok":true}'), 10);
  });
});
afterAll(() => server.close());

const yaml = (over = '') => `run_label: e2e
target: { url: "${server.url}", method: POST, token: "\${E2E_TOKEN:-e2e-secret}" }
workload: { concurrency_levels: [1, 2], duration_seconds: 0.6, warmup_seconds: 0.1, timeout_seconds: 2 }
${over}
`;

const readCsv = (path: string): Record<string, string>[] => parse(readFileSync(path, 'utf8'), { columns: true });

describe('npx vitest bench on a fixture project', () => {
  it('exits 0 when the SLO holds and writes raw and summary CSVs that parse', async () => {
    const p = fixtureProject(yaml('slo: { p95_ms: 1000, error_rate_pct: 1 }'), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n`,
    });
    const { code, output } = await p.runBench();
    expect(output).toContain('concurrency 1');
    expect(output).toContain('concurrency 2');
    expect(code, output).toBe(0);
    const summary = readCsv(join(p.dir, 'runs/e2e_summary.csv'));
    expect(summary.map((r) => [r.scenario, r.concurrency, r.slo_pass])).toEqual([
      ['submit', '1', 'true'],
      ['submit', '2', 'true'],
    ]);
    for (const row of summary) {
      expect(Number(row.requests)).toBeGreaterThan(10);
      expect(Number(row.latency_p50_ms)).toBeGreaterThanOrEqual(9);
      expect(Number(row.error_rate_pct)).toBe(0);
    }
    const raw = readCsv(join(p.dir, 'runs/e2e_raw.csv'));
    expect(raw.length).toBe(summary.reduce((a, r) => a + Number(r.requests), 0));
    expect(Object.keys(raw[0]!)).toEqual(['scenario', 'concurrency', 'worker', 'timestamp_ms', 'latency_ms', 'status', 'ok', 'error']);
    const json = JSON.parse(readFileSync(join(p.dir, 'runs/e2e_summary.json'), 'utf8'));
    expect(json.format).toBe('loadbench-summary');
    expect(json.scenarios[0].levels[0].histogram.length).toBeGreaterThan(10);
    expect(output).toMatch(/submit\s+1\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\.00\s+\d+\s+PASS/);
    // The token is in no output file.
    for (const f of readdirSync(join(p.dir, 'runs'))) {
      if (f.endsWith('.csv') || f.endsWith('.json') || f.endsWith('.md')) {
        expect(readFileSync(join(p.dir, 'runs', f), 'utf8')).not.toContain('e2e-secret');
      }
    }
  });

  it('exits non-zero when an SLO is broken and names scenario, level, metric, value and limit', async () => {
    const p = fixtureProject(yaml('slo: { p95_ms: 2 }'), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('slow-submit', { slo: { p95_ms: 2, up_to_concurrency: 1 } });\n`,
    });
    const { code, output } = await p.runBench();
    expect(code).not.toBe(0);
    expect(output).toMatch(/SLO failed: scenario "slow-submit" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 2 ms/);
    expect(output).not.toMatch(/at concurrency 2/);
    const summary = readCsv(join(p.dir, 'runs/e2e_summary.csv'));
    expect(summary.map((r) => [r.concurrency, r.slo_judged, r.slo_pass])).toEqual([
      ['1', 'true', 'false'],
      ['2', 'false', 'true'],
    ]);
    // The scenario() call's line (2: after the import) is in the summary, and the JUnit file fails that level there.
    const json = JSON.parse(readFileSync(join(p.dir, 'runs/e2e_summary.json'), 'utf8'));
    expect([json.scenarios[0].file, json.scenarios[0].line]).toEqual(['benches/submit.bench.ts', 2]);
    const junit = readFileSync(join(p.dir, 'runs/e2e_junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase name="concurrency 1" classname="slow-submit" time="[\d.]+" file="benches\/submit\.bench\.ts" line="2">\n\s+<failure message="SLO failed: scenario &quot;slow-submit&quot; at concurrency 1: p95_ms = [\d.]+ ms, limit &lt;= 2 ms" type="SloFailure">/);
    expect(junit).toMatch(/<testcase name="concurrency 2" classname="slow-submit" time="[\d.]+" file="benches\/submit\.bench\.ts" line="2">\n\s+<system-out>/);
  });

  it('points GitHub annotations at the scenario() call, also when a helper module calls scenario()', async () => {
    const p = fixtureProject(yaml('slo: { p95_ms: 2 }'), {
      'helpers.ts': `import { scenario } from SCENARIO;\nexport function submitScenario(name: string): void {\n  scenario(name, { concurrency_levels: [1] });\n}\n`,
      'submit.bench.ts': `// a comment\nimport { submitScenario } from './helpers.ts';\n\ntype Unused = { a: number };\nsubmitScenario('via-helper');\n`,
    });
    const stepSummary = join(p.dir, 'summary.md');
    const { code, output } = await p.runBench({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: stepSummary });
    expect(code, output).toBe(1);
    // Line 5 of the .ts source (Vitest maps the stack through the transform), the call in the bench file.
    expect(output).toMatch(/^::error file=benches\/submit\.bench\.ts,line=5,title=loadbench%3A SLO failed \(scenario "via-helper" at concurrency 1\)::SLO failed: scenario "via-helper" at concurrency 1: p95_ms = [\d.]+ ms, limit <= 2 ms$/m);
    expect(readFileSync(stepSummary, 'utf8')).toMatch(/^## loadbench run `e2e`: failed \(1 of 1 level\)$/m);
  });

  it('skips the higher levels after a failure with stop_on_slo_failure', async () => {
    const p = fixtureProject(yaml('slo: { p95_ms: 2 }\nstop_on_slo_failure: true'), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n`,
    });
    const { code } = await p.runBench();
    expect(code).not.toBe(0);
    const summary = readCsv(join(p.dir, 'runs/e2e_summary.csv'));
    expect(summary.map((r) => [r.concurrency, r.skipped])).toEqual([
      ['1', 'false'],
      ['2', 'true'],
    ]);
  });

  it('counts 401s as http_4xx when the token is wrong', async () => {
    const p = fixtureProject(yaml('slo: { error_rate_pct: 50 }'), {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit', { concurrency_levels: [1] });\n`,
    });
    const { code } = await p.runBench({ LOADBENCH_TOKEN: 'wrong' });
    expect(code).not.toBe(0);
    const [row] = readCsv(join(p.dir, 'runs/e2e_summary.csv'));
    expect(row!.error_rate_pct).toBe('100');
    expect(row!.errors_http_4xx).toBe(row!.requests);
  });

  it('never writes the token, even when the target echoes it into a failing check', async () => {
    const echo = await startServer((_n, req, res) => res.end(JSON.stringify({ saw: req.headers.authorization, key: req.headers['x-api-key'] })));
    try {
      const p = fixtureProject(
        `run_label: secret
target: { url: "${echo.url}", method: POST, token: "tok-e2e-0001", headers: { x-api-key: "key-e2e-0002" } }
workload: { concurrency_levels: [1], requests_per_level: 20 }
`,
        {
          'echo.bench.ts': `import { scenario } from SCENARIO;
scenario('echo', { check: (res) => { throw new Error('unexpected body ' + res.body); } });
`,
        },
      );
      const { output } = await p.runBench();
      const files = readdirSync(join(p.dir, 'runs')).filter((f) => !f.startsWith('.') && f !== 'previous');
      expect(files).toContain('secret_summary.json');
      const json = readFileSync(join(p.dir, 'runs/secret_summary.json'), 'utf8');
      expect(json).toContain('check threw: unexpected body');
      expect(json).toContain('REDACTED');
      for (const f of files) {
        const text = readFileSync(join(p.dir, 'runs', f)).toString('latin1');
        expect(text, f).not.toContain('tok-e2e-0001');
        expect(text, f).not.toContain('key-e2e-0002');
      }
      expect(output).not.toContain('tok-e2e-0001');
    } finally {
      await echo.close();
    }
  });

  it('never writes the start of a secret that a check threw across the 200-character cut', async () => {
    const echo = await startServer((_n, req, res) => res.end(JSON.stringify({ saw: req.headers.authorization, cookie: req.headers.cookie })));
    const token = 'yTOKENSECRETV-e2e-0003';
    const cookie = 'sid=COOKIESECRET-e2e-0004';
    try {
      const p = fixtureProject(
        `run_label: straddle
target: { url: "${echo.url}", method: POST, token: "${token}", headers: { cookie: "${cookie}" } }
workload: { concurrency_levels: [1], requests_per_level: 20 }
`,
        {
          // 175 characters, then the secret: "check threw: " puts it across the 200th character.
          'echo.bench.ts': `import { scenario } from SCENARIO;
let n = 0;
scenario('echo', {
  check: (res) => {
    const seen = res.json();
    throw new Error('x'.repeat(175) + (n++ % 2 ? seen.cookie + ' (cookie)' : seen.saw.slice('Bearer '.length) + ' (token)'));
  },
});
`,
        },
      );
      await p.runBench();
      const summary = JSON.parse(readFileSync(join(p.dir, 'runs/straddle_summary.json'), 'utf8')) as {
        scenarios: { levels: { error_samples: { category: string; message: string }[] }[] }[];
      };
      const samples = summary.scenarios[0]!.levels[0]!.error_samples;
      expect(samples.map((s) => s.message).sort()).toEqual([
        `check threw: ${'x'.repeat(175)}REDACTED (co`,
        `check threw: ${'x'.repeat(175)}REDACTED (to`,
      ]);
      for (const f of readdirSync(join(p.dir, 'runs')).filter((f) => !f.startsWith('.') && f !== 'previous')) {
        const text = readFileSync(join(p.dir, 'runs', f)).toString('latin1');
        for (const secret of [token, cookie]) expect(text, f).not.toContain(secret.slice(0, 4));
      }
    } finally {
      await echo.close();
    }
  });

  it('says in one line that nothing answers at the target, and sends nothing', async () => {
    const port = await closedPort();
    const p = fixtureProject(
      `target: { url: "http://127.0.0.1:${port}/submit", method: POST }\nworkload: { concurrency_levels: [1], duration_seconds: 1 }\n`,
      { 'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n` },
    );
    const { code, output } = await p.runBench();
    expect(code).not.toBe(0);
    expect(output).toContain(`nothing answers at 127.0.0.1:${port}`);
    expect(existsSync(join(p.dir, 'runs/baseline_summary.csv'))).toBe(false);
  });

  it('refuses a bad config before any request, one line per problem', async () => {
    const p = fixtureProject(`target: { url: "${server.url}", method: POST }\nworkload: { concurrency_levels: [0], duration_seconds: -1 }\n`, {
      'submit.bench.ts': `import { scenario } from SCENARIO;\nscenario('submit');\n`,
    });
    const before = server.count();
    const { code, output } = await p.runBench();
    expect(code).toBe(2);
    expect(output).toMatch(/- workload.concurrency_levels.0: found number 0/);
    expect(output).toMatch(/- workload.duration_seconds: found number -1/);
    expect(output).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(server.count()).toBe(before);
  });
});
