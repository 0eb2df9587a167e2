// When and how long to wait before trying a request again.

/** Bounds on retrying 429/503 answers and failed connections. */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 4. */
  maxRetries: number;
  /** First backoff in ms, doubled each retry. Default 500. */
  baseDelayMs: number;
  /** Ceiling of one wait, including Retry-After. Default 60 000. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 60_000 };

/**
 * Milliseconds a `Retry-After` value asks for (delta-seconds or an HTTP date), or undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  // Only an HTTP-date (RFC 9110 §5.6.7, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"): Date.parse alone
  // would read "-5" as a year.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Full-jitter exponential backoff: a random wait up to base × 2^attempt, but never less than what the
 * server asked for with Retry-After, and never more than `maxDelayMs`.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}
