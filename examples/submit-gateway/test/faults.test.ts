import { describe, expect, it } from 'vitest';
import { createFaultInjector } from '../faults.ts';

const draw = (n: number, injector: ReturnType<typeof createFaultInjector>) =>
  Array.from({ length: n }, () => injector.decide());

describe('fault injector', () => {
  it('is off by default', () => {
    const injector = createFaultInjector();
    expect(injector.enabled).toBe(false);
    expect(new Set(draw(1000, injector))).toEqual(new Set(['none']));
  });

  it('counter mode fires exactly every Nth request', () => {
    const injector = createFaultInjector({ mode: 'counter', errorRate: 0.25 });
    const decisions = draw(12, injector);
    expect(decisions.map((d, i) => (d === 'error' ? i + 1 : 0)).filter(Boolean)).toEqual([4, 8, 12]);
  });

  it('counter mode: hang wins over error, shares are exact over a long run', () => {
    const injector = createFaultInjector({ mode: 'counter', errorRate: 0.1, hangRate: 0.05 });
    const decisions = draw(2000, injector);
    expect(decisions.filter((d) => d === 'hang')).toHaveLength(100);
    // Every 20th request (a hang) is also an "error" slot, so 200 − 100 errors survive.
    expect(decisions.filter((d) => d === 'error')).toHaveLength(100);
  });

  it('random mode with a seed is reproducible and close to the rate', () => {
    const a = draw(10_000, createFaultInjector({ errorRate: 0.2, seed: 7 }));
    const b = draw(10_000, createFaultInjector({ errorRate: 0.2, seed: 7 }));
    expect(a).toEqual(b);
    const share = a.filter((d) => d === 'error').length / a.length;
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.22);
  });

  it('rate 1 always fires', () => {
    expect(new Set(draw(100, createFaultInjector({ errorRate: 1 })))).toEqual(new Set(['error']));
    expect(new Set(draw(100, createFaultInjector({ hangRate: 1, errorRate: 1 })))).toEqual(new Set(['hang']));
  });

  it('rejects out-of-range settings', () => {
    expect(() => createFaultInjector({ errorRate: 1.5 })).toThrow(RangeError);
    expect(() => createFaultInjector({ hangRate: -0.1 })).toThrow(RangeError);
    expect(() => createFaultInjector({ latencyMs: -1 })).toThrow(RangeError);
  });
});
