import { createHash } from 'node:crypto';
import type { Certificate } from '@mdmkit/crypto';
import type { PushCertStore } from '@mdmkit/storage';

/** How often the stored push certificates are looked at again. */
const REFRESH_MS = 30_000;

/**
 * The APNs topic written into enrollment profiles: the newest stored push certificate's, or, until one
 * is uploaded, a placeholder derived from the SCEP CA (stable across restarts, never a real topic, so
 * pushes to it fail visibly). Re-read every 30 seconds, so an upload on any replica is picked up.
 *
 * @example
 * ```ts
 * const topics = new TopicSource(storage, ca.certificate);
 * await topics.refresh();
 * console.log(topics.current, topics.placeholder);
 * ```
 */
export class TopicSource {
  readonly #store: Pick<PushCertStore, 'listPushCerts'>;
  readonly #fallback: string;
  #current: string | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(store: Pick<PushCertStore, 'listPushCerts'>, ca: Certificate) {
    this.#store = store;
    const h = createHash('sha256').update(ca.der).digest('hex');
    this.#fallback = `com.apple.mgmt.External.${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), REFRESH_MS);
    this.#timer.unref();
  }

  get current(): string {
    return this.#current ?? this.#fallback;
  }

  /** True while no push certificate is stored. */
  get placeholder(): boolean {
    return this.#current === undefined;
  }

  async refresh(): Promise<void> {
    const certs = await this.#store.listPushCerts();
    const newest = certs.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())[0];
    this.#current = newest?.topic;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
