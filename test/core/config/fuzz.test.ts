import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';
import type { LoadbenchConfig } from '../../../core/config/schema.ts';
import { buildRequestTemplate } from '../../../engine/http1.ts';
import { resolveScenario } from '../../../core/scenario/resolve.ts';

/** Node's setTimeout holds at most 2^31-1 ms; a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What "the loader accepted it" must mean: every time fits a timer (also warm-up, measurement and a
 * request timeout together), and the request the engine builds from the config does not throw.
 */
function expectRunnable(config: LoadbenchConfig, text: string): void {
  const w = config.workload;
  const times = [w.duration_seconds ?? 0, w.warmup_seconds, w.timeout_seconds, config.target.start?.timeout_seconds ?? 0];
  for (const t of times) {
    expect(Number.isFinite(t), text).toBe(true);
    expect(t * 1000, text).toBeLessThanOrEqual(MAX_TIMER_MS);
  }
  expect(((w.duration_seconds ?? 0) + w.warmup_seconds + w.timeout_seconds) * 1000, text).toBeLessThanOrEqual(MAX_TIMER_MS);
  const s = resolveScenario('fuzz', {}, config);
  expect(() => buildRequestTemplate(s.url, s.method, s.headers, s.body), text).not.toThrow();
}

/** mulberry32: a tiny seeded PRNG so that every run feeds the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['run_label', 'output_dir', 'target', 'workload', 'slo', 'report', 'url', 'method', 'token', 'headers',
  'start', 'command', 'concurrency_levels', 'duration_seconds', 'requests_per_level', 'payload', 'p95_ms', 'x', '__proto__', 'constructor'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 6 ? 6 : 9));
  switch (pick) {
    case 0: return Math.floor(r() * 200) - 50;
    case 1: return [1e308, -1e308, 2 ** 53 + 1, 0, -0, 0.5, 1e-9][Math.floor(r() * 7)];
    case 2: return ['', 'http://localhost:8080/submit', 'POST', '../../etc', '${NOPE}', '${X:-1}', '{{challenge_id}}', 'ünïcode', 'a'.repeat(500)][Math.floor(r() * 9)];
    case 3: return r() < 0.5;
    case 4: return null;
    case 5: return [];
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 4); i > 0; i--) o[KEYS[Math.floor(r() * KEYS.length)]!] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function mutateValid(r: () => number): unknown {
  const valid: Record<string, unknown> = {
    target: { url: 'http://127.0.0.1:8080/submit', method: 'POST', token: 't' },
    workload: { concurrency_levels: [1, 2], duration_seconds: 1 },
    slo: { p95_ms: 100 },
  };
  const section = ['target', 'workload', 'slo', 'report', 'run_label'][Math.floor(r() * 5)]!;
  const inner = valid[section];
  if (inner && typeof inner === 'object' && r() < 0.7) {
    const k = KEYS[Math.floor(r() * KEYS.length)]!;
    (inner as Record<string, unknown>)[k] = randomValue(r, 3);
  } else {
    valid[section] = randomValue(r, 2);
  }
  return valid;
}

function deepNest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { target: v };
  return v;
}

const BROKEN_YAML = [
  'target: [', 'a: b: c', '\t- x', 'key: "unterminated', '&a [*a]', '? : :', '---\n---\n- 1\n...\n%%%', 'a: 1\na: 2',
  'x: &anchor\n  y: *anchor', '{'.repeat(200), 'b: !!binary ZZZ', 'c: !!timestamp nope',
];

describe('config loader fuzz (fixed seed)', () => {
  it('answers every random, mutated, deep or broken input with a valid config or a clear ConfigError', () => {
    const r = prng(20261128);
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-fuzz-'));
    const inputs: string[] = [];
    for (let i = 0; i < 250; i++) inputs.push(stringify(randomValue(r, 0)));
    for (let i = 0; i < 250; i++) inputs.push(stringify(mutateValid(r)));
    inputs.push(stringify(deepNest(500)), '[]', '42', '"just a string"', '~', '');
    inputs.push(...BROKEN_YAML);
    let valid = 0;
    let refused = 0;
    for (const [i, text] of inputs.entries()) {
      const file = join(dir, `c${i}.yaml`);
      writeFileSync(file, text);
      try {
        const { config } = loadConfig(file, dir, {});
        expect(config.workload.concurrency_levels!.length).toBeGreaterThan(0);
        expectRunnable(config, text);
        valid++;
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          throw new Error(`input #${i} raised ${String(error)} instead of a ConfigError:\n${text.slice(0, 300)}`);
        }
        expect(error.problems.length, text).toBeGreaterThan(0);
        for (const p of error.problems) {
          expect(p.includes('\n'), p).toBe(false);
          expect(p.length).toBeLessThan(400);
        }
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(400);
    expect(valid + refused).toBe(inputs.length);
  });

  it('accepts only times a timer can hold and headers a request can carry (fixed seed)', () => {
    const r = prng(20260411);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    // Mostly values near the limits that pass, sometimes ones that must not.
    const either = <T,>(good: readonly T[], bad: readonly T[]): T => (r() < 0.75 ? pick(good) : pick(bad));
    const time = (): number => either([1e-9, 0.5, 1, 30, 3_600], [0, -1, 3_600.5, 86_400, 86_401, 2 ** 31, 1e300, 1e308, Number.MAX_SAFE_INTEGER]);
    const name = (): string => either(['x-a', 'X-Request-Id', 'host', 'Host', 'connection', 'authorization', "!#$%&'*+-.^_`|~", 'constructor'],
      ['bad name', '', 'x:y', 'ü-x', 'content-length', 'Transfer-Encoding', 'x\r\ny', 'a'.repeat(300)]);
    const value = (): unknown => either(['v', '', 'tab\tok', 'café', 42, 1e300, '${NOPE:-x}'],
      ['v\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b', 'a\u0007b', '€', 'a\u007f', '${NOPE:-x\ny}', ' ']);
    const dir = mkdtempSync(join(tmpdir(), 'loadbench-fuzz-'));
    let valid = 0;
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const workload: Record<string, unknown> = { concurrency_levels: [1, 2] };
      workload[r() < 0.8 ? 'duration_seconds' : 'requests_per_level'] = r() < 0.8 ? time() : 10;
      if (r() < 0.5) workload.warmup_seconds = time();
      if (r() < 0.5) workload.timeout_seconds = time();
      const target: Record<string, unknown> = { url: 'http://127.0.0.1:8080/submit', method: pick(['GET', 'POST', 'HEAD']) };
      if (r() < 0.5) target.token = value();
      if (r() < 0.7) {
        const headers: Record<string, unknown> = {};
        for (let n = Math.floor(r() * 4); n > 0; n--) headers[name()] = value();
        target.headers = headers;
      }
      if (r() < 0.3) target.start = { command: 'node x.js', ready_url: 'http://127.0.0.1:8080/healthz', timeout_seconds: time() };
      const text = stringify({ target, workload, ...(r() < 0.3 ? { workload: { ...workload, payload: { a: '{{challenge_id}}' } } } : {}) });
      const file = join(dir, `t${i}.yaml`);
      writeFileSync(file, text);
      try {
        const { config } = loadConfig(file, dir, {});
        expectRunnable(config, text);
        valid++;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`input #${i} raised ${String(error)}:\n${text}`);
        for (const p of error.problems) {
          expect(p.includes('\n'), p).toBe(false);
          expect(p, text).toMatch(/^(target|workload)\./);
          expect(p.length).toBeLessThan(400);
        }
        refused++;
      }
    }
    // Both outcomes are exercised, so the invariants above were checked on accepted configs.
    expect(valid).toBeGreaterThan(80);
    expect(refused).toBeGreaterThan(200);
  });
});
