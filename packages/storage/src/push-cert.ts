/** An APNs push certificate with its sealed private key. */
export interface StoredPushCert {
  topic: string;
  certificatePem: string;
  /** Private key sealed with `@mdmkit/crypto`'s `sealSecret`. */
  sealedKey: Uint8Array;
  /** Changes on every replacement, so pushers can hot-reload by comparing it. */
  version: string;
  updatedAt: Date;
}

/**
 * Push certificates per APNs topic.
 *
 * @example
 * ```ts
 * const stored = await storage.putPushCert({ topic, certificatePem, sealedKey });
 * if ((await storage.getPushCert(topic))?.version !== loadedVersion) reload();
 * ```
 */
export interface PushCertStore {
  getPushCert(topic: string): Promise<StoredPushCert | undefined>;
  /** Stores or replaces the certificate for a topic; the returned record has a new version. */
  putPushCert(rec: { topic: string; certificatePem: string; sealedKey: Uint8Array }): Promise<StoredPushCert>;
  listPushCerts(): Promise<StoredPushCert[]>;
}
