import { createPrivateKey, type KeyObject } from 'node:crypto';
import { ApnsError } from './errors';
import {
  certificateMatchesKey,
  type ParsePushCertificateOptions,
  type PushCertificateInfo,
  parsePushCertificate,
} from './push-certificate';

/** A push certificate with its private key: separate PEM/DER, or one PKCS#12 file. */
export type PushCredentials = PemPushCredentials | Pkcs12PushCredentials;

/** A push certificate and key as PEM/DER. */
export interface PemPushCredentials {
  /** The push certificate as PEM (optionally followed by its chain) or DER. */
  certificate: string | Uint8Array;
  /** Its private key: a `KeyObject`, or PEM/DER (PKCS#8, PKCS#1 or SEC1). */
  privateKey: KeyObject | string | Uint8Array;
  /** Passphrase of an encrypted PEM key. */
  passphrase?: string;
}

/** A push certificate and key in one PKCS#12 (.p12) file. */
export interface Pkcs12PushCredentials {
  pkcs12: Uint8Array;
  password: string;
}

/** Credentials checked and turned into what TLS needs. */
export interface ResolvedCredentials {
  info: PushCertificateInfo;
  privateKey: KeyObject;
  /** PEM of the leaf followed by the chain, and of the key (PKCS#8), for `node:tls`. */
  certPem: string;
  keyPem: string;
  /** Storage version the credentials came from, when loaded from a store. */
  version?: string;
}

export function importKey(key: KeyObject | string | Uint8Array, passphrase?: string): KeyObject {
  if (typeof key === 'object' && 'type' in key && (key as KeyObject).type === 'private')
    return key as KeyObject;
  try {
    if (typeof key === 'string') return createPrivateKey(passphrase ? { key, passphrase } : key);
    const buf = Buffer.from(key as Uint8Array);
    if (buf.subarray(0, 11).toString('latin1') === '-----BEGIN ') {
      return createPrivateKey(passphrase ? { key: buf, passphrase } : buf);
    }
    return createPrivateKey({ key: buf, format: 'der', type: 'pkcs8' });
  } catch (e) {
    // The message of node's error may quote the input; keep key material out of ours.
    throw new ApnsError('INVALID_ARGUMENT', 'the private key could not be read', { cause: e });
  }
}

/**
 * Checks a certificate and key for use with APNs: a readable MDM push certificate whose public key
 * is the private key's. Validity dates are checked per push (see `assertCertificateCurrent`).
 */
export function resolveCredentials(
  creds: PushCredentials,
  options: ParsePushCertificateOptions & { version?: string } = {},
): ResolvedCredentials {
  let info: PushCertificateInfo;
  let privateKey: KeyObject;
  if ('pkcs12' in creds) {
    info = parsePushCertificate(creds.pkcs12, { ...options, password: creds.password });
    if (!info.privateKey) throw new ApnsError('INVALID_ARGUMENT', 'the PKCS#12 file holds no private key');
    privateKey = info.privateKey;
  } else {
    info = parsePushCertificate(creds.certificate, options);
    privateKey = importKey(creds.privateKey, creds.passphrase);
  }
  if (!certificateMatchesKey(info.certificate, privateKey)) {
    throw new ApnsError(
      'KEY_MISMATCH',
      `the private key does not belong to the push certificate for ${info.topic}`,
    );
  }
  const certPem = [info.certificate.pem, ...info.chain.map((c) => c.pem)].join('');
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { info, privateKey, certPem, keyPem, ...(options.version ? { version: options.version } : {}) };
}
