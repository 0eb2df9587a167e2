import { describe, expect, it } from 'vitest';
import { appleErrorWord, backoffDelay, DEFAULT_RETRY, parseRetryAfter } from '../src/index';

describe('Retry-After and backoff', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('jitters within the doubling ceiling, never below Retry-After, never above the maximum', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, p, () => 0.999)).toBe(99);
    expect(backoffDelay(3, p, () => 0.5)).toBe(400);
    expect(backoffDelay(10, p, () => 0.999)).toBe(999);
    expect(backoffDelay(0, p, () => 0, 700)).toBe(700);
    expect(backoffDelay(0, p, () => 0, 3_600_000)).toBe(1000);
  });

  it("finds Apple's error word with or without quotes", () => {
    expect(appleErrorWord('INVALID_CURSOR')).toBe('INVALID_CURSOR');
    expect(appleErrorWord('"EXPIRED_CURSOR"')).toBe('EXPIRED_CURSOR');
    expect(appleErrorWord('<html>502 Bad Gateway</html>')).toBeUndefined();
  });
});
