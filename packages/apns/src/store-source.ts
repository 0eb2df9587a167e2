import { type KeyProvider, openSecret } from '@mdmkit/crypto';
import { type ResolvedCredentials, resolveCredentials } from './credentials';
import { ApnsError } from './errors';

/** `kind` under which push private keys are sealed; the `owner` is the topic. */
export const PUSH_KEY_SECRET_KIND = 'apns-push-key';

/** The part of `@mdmkit/storage`'s `PushCertStore` the push client reads. */
export interface PushCertReader {
  getPushCert(
    topic: string,
  ): Promise<{ topic: string; certificatePem: string; sealedKey: Uint8Array; version: string } | undefined>;
}

/** Where {@link ApnsClient} loads its certificate from when it should follow renewals. */
export interface PushCertStoreSource {
  /** A `PushCertStore` (any storage adapter). */
  certs: PushCertReader;
  /** The topic whose certificate to use. */
  topic: string;
  /** Opens the sealed private key (the provider it was sealed with). */
  keyProvider: KeyProvider;
  /** How often to look for a new version. Default 30 000 ms. */
  checkIntervalMs?: number;
}

/**
 * Follows a stored push certificate: at most once per interval it reads the record, and only when
 * its version changed does it unseal the key and check the pair again.
 */
export class CertificateSource {
  private nextCheck = 0;
  private version: string | undefined;
  private inflight: Promise<ResolvedCredentials | undefined> | undefined;

  constructor(private readonly store: PushCertStoreSource | undefined) {}

  /** Whether a check of the store is due before the next push. */
  due(): boolean {
    return this.store !== undefined && Date.now() >= this.nextCheck;
  }

  /** Resolves to new credentials when the stored version changed, `undefined` when it did not. */
  refresh(force = false): Promise<ResolvedCredentials | undefined> {
    if (!this.store) return Promise.resolve(undefined);
    if (!force && !this.due()) return Promise.resolve(undefined);
    this.inflight ??= this.load(this.store).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(store: PushCertStoreSource): Promise<ResolvedCredentials | undefined> {
    const interval = store.checkIntervalMs ?? 30_000;
    let rec: Awaited<ReturnType<PushCertReader['getPushCert']>>;
    try {
      rec = await store.certs.getPushCert(store.topic);
    } catch (e) {
      // Retry the store soon rather than on every push.
      this.nextCheck = Date.now() + Math.min(interval, 5000);
      throw new ApnsError('NO_CERTIFICATE', `could not read the push certificate for ${store.topic}`, {
        cause: e,
      });
    }
    this.nextCheck = Date.now() + interval;
    if (!rec) throw new ApnsError('NO_CERTIFICATE', `no push certificate is stored for ${store.topic}`);
    if (rec.version === this.version) return undefined;
    const keyDer = await openSecret(rec.sealedKey, {
      provider: store.keyProvider,
      owner: store.topic,
      kind: PUSH_KEY_SECRET_KIND,
    });
    const creds = resolveCredentials(
      { certificate: rec.certificatePem, privateKey: keyDer },
      { version: rec.version },
    );
    if (creds.info.topic !== store.topic) {
      throw new ApnsError(
        'TOPIC_MISMATCH',
        `the certificate stored for ${store.topic} is for ${creds.info.topic}`,
      );
    }
    this.version = rec.version;
    return creds;
  }
}
