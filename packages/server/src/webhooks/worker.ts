import { randomBytes } from 'node:crypto';
import type { OutboxEvent, OutboxStore } from '@mdmkit/storage';
import { ServerError } from '../errors';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from './signature';

/** Options of {@link createWebhookWorker}. */
export interface WebhookWorkerOptions {
  /** Where events wait (the storage, when it implements `OutboxStore`). */
  store: OutboxStore;
  /** The receiver: every event is POSTed here as JSON. */
  url: string;
  /** Signs every body (header {@link WEBHOOK_SIGNATURE_HEADER}); without it, bodies go unsigned. */
  secret?: string | Uint8Array;
  /** Events per claim. Default 50. */
  batchSize?: number;
  /** How long a claim holds before another worker may take the events. Default 60 s. */
  leaseMs?: number;
  /** Time allowed for one delivery; must be shorter than `leaseMs`. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay; doubles per attempt. Default 1 s. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 5 min. */
  retryMaxMs?: number;
  /** Pause between rounds when nothing was due. Default 1 s. */
  pollMs?: number;
  /** The HTTP client. Default global fetch. */
  fetch?: typeof fetch;
  /** Told about each delivery and failure (never throws into the worker). */
  onDelivery?: (report: WebhookDelivery) => void;
  now?: () => Date;
}

/** One delivery attempt. */
export interface WebhookDelivery {
  eventId: string;
  topic: string;
  attempt: number;
  ok: boolean;
  /** HTTP status, when the receiver answered. */
  status?: number;
  /** Why it failed. */
  error?: string;
  /** When it will be tried again, after a failure. */
  retryAt?: Date;
}

/** A running webhook worker. */
export interface WebhookWorker {
  /** Claims and delivers one batch; resolves with how many were confirmed and how many failed. */
  runOnce(): Promise<{ delivered: number; failed: number }>;
  /** Delivers in the background until {@link WebhookWorker.stop}. */
  start(): void;
  /** Stops the background loop and waits for the batch in flight. */
  stop(): Promise<void>;
}

/**
 * Delay before attempt `attempt + 1`: exponential from `base`, capped at `max`, with full jitter in
 * its upper half so that a receiver coming back is not hit by every worker at once.
 *
 * @example
 * ```ts
 * import { retryDelay } from '@mdmkit/server';
 * retryDelay(3, 1000, 60_000); // between 2000 and 4000
 * ```
 */
export function retryDelay(attempt: number, base: number, max: number, random = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * The webhook worker: claims due events from the outbox under a lease, POSTs each one (signed) to
 * the receiver, confirms the ones answered 2xx and puts the others back with a backoff. Delivery is
 * at least once: a worker that dies mid-batch leaves its events to be claimed again when the lease
 * runs out, so receivers de-duplicate on `event_id`. Several workers (replicas) may share one outbox.
 *
 * @example
 * ```ts
 * import { createWebhookWorker } from '@mdmkit/server';
 * const worker = createWebhookWorker({ store: storage, url: 'https://hooks.example.com/mdm', secret: process.env.WEBHOOK_SECRET });
 * worker.start();
 * // on shutdown
 * await worker.stop();
 * ```
 */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  try {
    const u = new URL(options.url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(u.protocol);
  } catch (e) {
    throw new ServerError('INVALID_OPTIONS', 'webhook url must be an http(s) URL', { cause: e });
  }
  const store = options.store;
  const holder = `webhook-${randomBytes(8).toString('hex')}`;
  const batchSize = options.batchSize ?? 50;
  const leaseMs = options.leaseMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.retryBaseMs ?? 1000;
  const max = options.retryMaxMs ?? 300_000;
  const pollMs = options.pollMs ?? 1000;
  if (
    !Number.isSafeInteger(timeoutMs) ||
    timeoutMs < 1 ||
    !Number.isSafeInteger(leaseMs) ||
    timeoutMs >= leaseMs
  ) {
    throw new ServerError('INVALID_OPTIONS', 'timeoutMs must be a positive integer below leaseMs');
  }
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const tell = (d: WebhookDelivery) => {
    try {
      options.onDelivery?.(d);
    } catch {
      // The host's listener never stops deliveries.
    }
  };

  async function deliver(e: OutboxEvent): Promise<boolean> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'mdmkit-webhook',
    };
    if (options.secret !== undefined)
      headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookBody(options.secret, e.payload);
    let status: number | undefined;
    let error: string | undefined;
    try {
      const res = await doFetch(options.url, {
        method: 'POST',
        headers,
        body: e.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      // The status is the answer: the body is dropped unread, so a receiver streaming an endless
      // answer neither holds the worker until the timeout nor fills its memory.
      await res.body?.cancel().catch(() => undefined);
      if (status >= 200 && status < 300) {
        tell({ eventId: e.id, topic: e.topic, attempt: e.attempts, ok: true, status });
        return true;
      }
      error = `HTTP ${status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const retryAt = new Date(now().getTime() + retryDelay(e.attempts, base, max));
    await store.rescheduleOutbox(holder, e.id, retryAt, error);
    tell({
      eventId: e.id,
      topic: e.topic,
      attempt: e.attempts,
      ok: false,
      error,
      retryAt,
      ...(status !== undefined ? { status } : {}),
    });
    return false;
  }

  async function runOnce(): Promise<{ delivered: number; failed: number }> {
    const claimedAt = performance.now();
    const events = await store.claimOutbox(holder, { limit: batchSize, leaseMs, now: now() });
    const done: string[] = [];
    let failed = 0;
    // In order, one at a time: a device's events reach the receiver in the order they happened.
    for (const [i, e] of events.entries()) {
      if (stopping) break;
      // A delivery that could outlast the lease might overlap with another worker's claim of the
      // same event: hand the rest of the batch back untried instead.
      if (performance.now() - claimedAt + timeoutMs >= leaseMs) {
        const retryAt = now();
        for (const rest of events.slice(i)) {
          await store.rescheduleOutbox(holder, rest.id, retryAt, 'not attempted: the lease ran short');
        }
        break;
      }
      if (await deliver(e)) {
        done.push(e.id);
        // Confirmed at once: a crash later in the batch redelivers only what was not confirmed.
        await store.confirmOutbox(holder, [e.id]);
      } else failed += 1;
    }
    return { delivered: done.length, failed };
  }

  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  return {
    runOnce,
    start() {
      if (loop) return;
      stopping = false;
      loop = (async () => {
        while (!stopping) {
          let busy = false;
          try {
            const r = await runOnce();
            busy = r.delivered + r.failed >= batchSize;
          } catch {
            // Storage unavailable: try again after the pause.
          }
          if (!stopping && !busy) await pause(pollMs);
        }
      })();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      loop = undefined;
    },
  };
}
