import type { KeyObject } from 'node:crypto';
import { type KeyProvider, openSecret, sealSecret } from '@mdmkit/crypto';
import { importKey } from './credentials';
import { ApnsError } from './errors';
import {
  assertCertificateCurrent,
  certificateMatchesKey,
  type PushCertificateInfo,
  parsePushCertificate,
} from './push-certificate';
import { PUSH_KEY_SECRET_KIND } from './store-source';

/** A stored push certificate, as `@mdmkit/storage`'s `PushCertStore` returns it. */
export interface StoredPushCertRecord {
  topic: string;
  certificatePem: string;
  sealedKey: Uint8Array;
  version: string;
  updatedAt: Date;
}

/** The part of `@mdmkit/storage`'s `PushCertStore` that installing a certificate needs. */
export interface PushCertWriter {
  getPushCert(topic: string): Promise<StoredPushCertRecord | undefined>;
  putPushCert(rec: {
    topic: string;
    certificatePem: string;
    sealedKey: Uint8Array;
  }): Promise<StoredPushCertRecord>;
  /** Every stored certificate; the renewal guard compares the new topic with these. */
  listPushCerts(): Promise<StoredPushCertRecord[]>;
}

/** Options of {@link installPushCertificate}. */
export interface InstallPushCertificateOptions {
  store: PushCertWriter;
  /** Seals the private key at rest. */
  keyProvider: KeyProvider;
  /** The new certificate (PEM or DER) as downloaded from Apple's push certificate portal. */
  certificate: string | Uint8Array;
  /**
   * Its private key. Omit when renewing with the CSR made from the stored key: the stored key is
   * unsealed and used.
   */
  privateKey?: KeyObject | string | Uint8Array;
  /**
   * The topic in use now, i.e. the one enrolled devices listen on. A certificate for another topic
   * is refused unless `force` is set, because devices enrolled under the old topic would never be
   * woken again and would have to re-enroll. Without it, the topics already in the store are the
   * ones in use: once the store holds a certificate, one for a topic not among them is refused the
   * same way.
   */
  currentTopic?: string;
  /**
   * Accept a certificate for a topic other than `currentTopic` or the stored ones (replacing a
   * certificate on purpose, or adding a second topic).
   */
  force?: boolean;
}

/** What {@link installPushCertificate} stored. */
export interface InstalledPushCertificate {
  info: PushCertificateInfo;
  record: StoredPushCertRecord;
  /** The certificate this one replaced under the same topic, if any. */
  replaced?: PushCertificateInfo;
}

/**
 * Stores a new or renewed push certificate with its sealed key, after the renewal guard: the
 * certificate must be a current MDM push certificate, its key must match (the given key or the
 * stored one), and its topic must be the one in use unless `force` is set. Push clients that load
 * from the same store pick it up without a restart.
 *
 * @example Renewing the push certificate
 * ```ts
 * import { installPushCertificate, parsePushCertificate } from '@mdmkit/apns';
 *
 * const current = parsePushCertificate((await storage.getPushCert(topic))!.certificatePem);
 * if (new Date() >= current.renewBy) notifyAdmin(`renew the push certificate for ${current.topic}`);
 * // After the admin renewed it at Apple with a CSR from the same key and uploaded the new file:
 * const { info } = await installPushCertificate({
 *   store: storage,
 *   keyProvider,
 *   certificate: uploadedPem,
 *   currentTopic: topic, // refuses a certificate for another topic
 * });
 * console.log(`valid until ${info.notAfter.toISOString()}`);
 * ```
 */
export async function installPushCertificate(
  options: InstallPushCertificateOptions,
): Promise<InstalledPushCertificate> {
  const info = parsePushCertificate(options.certificate);
  assertCertificateCurrent(info);
  const { store, keyProvider, currentTopic } = options;
  if (!options.force) await assertSameTopic(info.topic, currentTopic, store);
  const existing = await store.getPushCert(info.topic);
  let privateKey: KeyObject;
  if (options.privateKey !== undefined) {
    privateKey = importKey(options.privateKey);
  } else {
    const source =
      existing ?? (currentTopic !== undefined ? await store.getPushCert(currentTopic) : undefined);
    if (!source) {
      throw new ApnsError('INVALID_ARGUMENT', `no private key given and none stored for ${info.topic}`);
    }
    const der = await openSecret(source.sealedKey, {
      provider: keyProvider,
      owner: source.topic,
      kind: PUSH_KEY_SECRET_KIND,
    });
    privateKey = importKey(der);
  }
  if (!certificateMatchesKey(info.certificate, privateKey)) {
    throw new ApnsError(
      'KEY_MISMATCH',
      `the certificate for ${info.topic} does not match the ${options.privateKey ? 'given' : 'stored'} private key`,
    );
  }
  const keyDer = privateKey.export({ type: 'pkcs8', format: 'der' });
  const sealedKey = await sealSecret(keyDer, {
    provider: keyProvider,
    owner: info.topic,
    kind: PUSH_KEY_SECRET_KIND,
  });
  keyDer.fill(0);
  const certificatePem = [info.certificate.pem, ...info.chain.map((c) => c.pem)].join('');
  const record = await store.putPushCert({ topic: info.topic, certificatePem, sealedKey });
  const result: InstalledPushCertificate = { info, record };
  if (existing) {
    try {
      result.replaced = parsePushCertificate(existing.certificatePem);
    } catch {
      // an unreadable old record is simply replaced
    }
  }
  return result;
}

/**
 * The renewal guard's topic rule: the new certificate's topic must be `currentTopic` when given,
 * else one already stored (any topic is fine for the very first certificate).
 */
async function assertSameTopic(
  topic: string,
  currentTopic: string | undefined,
  store: PushCertWriter,
): Promise<void> {
  let inUse: string[];
  if (currentTopic !== undefined) inUse = [currentTopic];
  else {
    inUse = (await store.listPushCerts()).map((r) => r.topic);
    if (inUse.length === 0) return;
  }
  if (inUse.includes(topic)) return;
  const shown = inUse.slice(0, 3).join(', ') + (inUse.length > 3 ? ', …' : '');
  throw new ApnsError(
    'TOPIC_MISMATCH',
    `the new certificate is for ${topic}, not ${shown}: it is a new certificate, not a renewal, ` +
      'and devices enrolled under the old topic would stop receiving pushes (pass force to install anyway)',
  );
}
