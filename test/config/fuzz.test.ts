import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../plugin/config/load-config.ts';

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
        expect(config.workload.concurrency_levels.length).toBeGreaterThan(0);
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
});
