import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leadingZeroBits, searchNonce, solve, verify } from '../proof-of-work.ts';

describe('leadingZeroBits', () => {
  it('counts bits across byte boundaries', () => {
    expect(leadingZeroBits(Uint8Array.of(0x80))).toBe(0);
    expect(leadingZeroBits(Uint8Array.of(0x01))).toBe(7);
    expect(leadingZeroBits(Uint8Array.of(0x00, 0x40))).toBe(9);
    expect(leadingZeroBits(Uint8Array.of(0x00, 0x00, 0x0f))).toBe(20);
    expect(leadingZeroBits(Uint8Array.of(0, 0))).toBe(16);
    expect(leadingZeroBits(new Uint8Array(0))).toBe(0);
  });
});

describe('solve / verify', () => {
  it('finds a nonce whose sha256(challenge:nonce) has the required leading zero bits', () => {
    const difficulty = 12;
    const { nonce, hash, attempts } = solve('abc', difficulty, 1_000);
    expect(nonce).toBeGreaterThanOrEqual(1_000);
    expect(attempts).toBe(nonce - 1_000 + 1);
    // Independent re-computation, not via the module under test.
    const digest = createHash('sha256').update(`abc:${nonce}`).digest();
    expect(digest.toString('hex')).toBe(hash);
    expect(hash.startsWith('000')).toBe(true); // 12 bits = three hex zeros
    expect(verify('abc', nonce, difficulty, hash)).toBe(true);
  });

  it('rejects wrong nonces, hashes and challenge ids', () => {
    const { nonce, hash } = solve('abc', 10, 0);
    expect(verify('abc', nonce, 10, hash.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBe(false);
    expect(verify('abc', -1, 0)).toBe(false);
    // The probability that the same nonce also solves another challenge at 16 bits is 2^-16.
    const strict = solve('abc', 16, 0);
    expect(verify('abd', strict.nonce, 16)).toBe(false);
  });

  it('different start offsets lead to different work', () => {
    const a = solve('same', 8, 0);
    const b = solve('same', 8, a.nonce + 1);
    expect(b.nonce).toBeGreaterThan(a.nonce);
    expect(b.hash).not.toBe(a.hash);
  });

  it('bounded search reports where to resume', () => {
    const step = searchNonce('abc', 64, 5, 10);
    expect(step).toEqual({ done: false, nextNonce: 15, attempts: 10 });
  });

  it('difficulty 0 is solved by the first attempt; invalid difficulty throws', () => {
    expect(solve('x', 0, 42).nonce).toBe(42);
    expect(() => solve('x', 65, 0)).toThrow(RangeError);
    expect(() => solve('x', 1.5, 0)).toThrow(RangeError);
  });
});
