import type { RetryOptions } from './types';

export interface ResolvedRetry {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function resolveRetry(o: RetryOptions | undefined): ResolvedRetry {
  return {
    maxAttempts: Math.max(1, Math.floor(o?.maxAttempts ?? 3)),
    baseDelayMs: Math.max(0, o?.baseDelayMs ?? 100),
    maxDelayMs: Math.max(0, o?.maxDelayMs ?? 5000),
  };
}

/**
 * Exponential backoff with "equal jitter": a uniform delay between half and all of the exponential step, so that many pushes
 * throttled at the same moment do not come back at the same moment.
 */
export function backoffDelay(attempt: number, r: ResolvedRetry, random: () => number = Math.random): number {
  const cap = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(cap / 2 + (random() * cap) / 2);
}
