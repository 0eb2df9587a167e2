import { ApnsClient, type ApnsClientOptions, type PushResult } from '@mdmkit/apns';
import type { KeyProvider } from '@mdmkit/crypto';
import type { PushCertStore, PushInfo } from '@mdmkit/storage';

/** What one push round did. */
export interface PushReport {
  /** Enrollment ids APNs accepted a push for. */
  delivered: string[];
  /** Enrollment ids whose push failed, with APNs' (or the client's) reason. */
  failed: { id: string; reason: string }[];
  /** The `apns-id` APNs answered for each delivered enrollment id, when the pusher knows it. */
  apnsIds?: Record<string, string>;
}

/** Sends MDM pushes. Replace it to push through a queue or a worker. */
export interface Pusher {
  push(targets: readonly PushInfo[]): Promise<PushReport>;
  close(): Promise<void>;
}

/** Options of {@link apnsPusher}. */
export interface ApnsPusherOptions {
  /** Where the push certificate of each topic is read from (and re-read when it changes). */
  certificates: Pick<PushCertStore, 'getPushCert'>;
  /** Opens the sealed private key of the push certificate. */
  keyProvider: KeyProvider;
  /** Passed to every {@link ApnsClient} (e.g. `origin` and `ca` of a mock APNs in tests). */
  client?: Omit<ApnsClientOptions, 'credentials' | 'store'>;
}

/**
 * The default {@link Pusher}: one `@mdmkit/apns` client per topic, with the push certificate taken
 * from storage (hot-reloaded when it is replaced).
 *
 * @example
 * ```ts
 * import { apnsPusher } from '@mdmkit/server';
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createStaticKeyProvider } from '@mdmkit/crypto';
 * const pusher = apnsPusher({
 *   certificates: new MemoryStorage(),
 *   keyProvider: createStaticKeyProvider(new Uint8Array(32).fill(7)),
 * });
 * await pusher.close();
 * ```
 */
export function apnsPusher(options: ApnsPusherOptions): Pusher {
  const clients = new Map<string, ApnsClient>();
  const clientFor = (topic: string): ApnsClient => {
    let c = clients.get(topic);
    if (!c) {
      c = new ApnsClient({
        ...options.client,
        store: { certs: options.certificates, topic, keyProvider: options.keyProvider },
      });
      clients.set(topic, c);
    }
    return c;
  };
  return {
    async push(targets) {
      const byToken = new Map<string, string>();
      const results: Promise<PushResult>[] = [];
      for (const t of targets) {
        byToken.set(t.pushToken, t.id);
        results.push(clientFor(t.topic).push({ token: t.pushToken, pushMagic: t.pushMagic }));
      }
      const report: PushReport = { delivered: [], failed: [], apnsIds: {} };
      for (const r of await Promise.all(results)) {
        const id = byToken.get(r.push.token) ?? r.push.token;
        if (r.ok) {
          report.delivered.push(id);
          (report.apnsIds as Record<string, string>)[id] = r.apnsId;
        } else report.failed.push({ id, reason: r.reason });
      }
      return report;
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
}
