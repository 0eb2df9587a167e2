import { createPublicKey, type KeyObject, sign as nodeSign } from 'node:crypto';
import {
  type Certificate,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyProvider,
  type NameInput,
  openSecret,
  type Signer,
  sealSecret,
} from '@mdmkit/crypto';
import { ScepError } from './errors';

/**
 * The CA a SCEP server issues from.
 *
 * Without an RA, requests are encrypted to the CA certificate and replies are signed with the CA key, so
 * the CA key must be a `KeyObject` (or `decryptionKey` given). With an RA (`ra`), requests are encrypted to
 * the RA and replies signed by it, so the CA key can live in a KMS/HSM behind an async `Signer` (from `@mdmkit/crypto`).
 */
export interface ScepCa {
  /** The issuing CA certificate. */
  certificate: Certificate;
  /** Signs issued certificates: a local key, or an async signer (KMS/HSM). */
  signer: KeyObject | Signer;
  /** Key that decrypts requests sent to the CA certificate, when `signer` is not a `KeyObject`. */
  decryptionKey?: KeyObject;
  /**
   * A registration authority that receives and answers the pkiMessages instead of the CA. With
   * `signing`, replies are signed by that second RA certificate and `certificate` only decrypts
   * requests (separate encryption and signing RA certificates, as Microsoft NDES uses).
   */
  ra?: {
    certificate: Certificate;
    privateKey: KeyObject;
    signing?: { certificate: Certificate; privateKey: KeyObject };
  };
  /** Intermediate certificates to hand out with GetCACert. */
  chain?: Certificate[];
}

/** Owner/kind under which a local CA key is sealed (binds the sealed blob to its certificate). */
export function caKeySealContext(certificate: Certificate): { owner: string; kind: string } {
  return { owner: `scep-ca:${certificate.fingerprintSha256}`, kind: 'scep-ca-key' };
}

/** Options of {@link createLocalCa}. */
export interface CreateLocalCaOptions {
  /** Default `CN=mdmkit SCEP CA`. */
  subject?: NameInput;
  /** RSA modulus size of the CA key. Default 2048. */
  keyBits?: 2048 | 3072 | 4096;
  /** Default 3650 (ten years). */
  validityDays?: number;
  /** Seals the CA key at rest. */
  provider: KeyProvider;
}

/** A newly created CA: keep `certificate` (public) and `sealedKey` (opaque, encrypted) wherever you like. */
export interface LocalCa {
  certificate: Certificate;
  sealedKey: Uint8Array;
  ca: ScepCa;
}

/**
 * Creates a self-signed RSA CA whose private key is sealed through `@mdmkit/crypto`'s key provider.
 *
 * @example
 * ```ts
 * import { createLocalKeyProvider } from '@mdmkit/crypto';
 * import { createLocalCa, openLocalCa } from '@mdmkit/scep';
 * const provider = await createLocalKeyProvider({ path: '/var/lib/mdm/kek' });
 * const { certificate, sealedKey } = await createLocalCa({ provider, subject: 'CN=Example Device CA' });
 * // later, e.g. after a restart:
 * const ca = await openLocalCa({ certificate, sealedKey, provider });
 * ```
 */
export async function createLocalCa(options: CreateLocalCaOptions): Promise<LocalCa> {
  const key = await generateKeyPair({ type: 'rsa', bits: options.keyBits ?? 2048 });
  const { certificate, privateKey } = await createSelfSignedCa({
    subject: options.subject ?? 'CN=mdmkit SCEP CA',
    key,
    validityDays: options.validityDays ?? 3650,
  });
  const pkcs8 = exportPrivateKey(privateKey, 'pkcs8-der') as Uint8Array;
  const sealedKey = await sealSecret(pkcs8, { provider: options.provider, ...caKeySealContext(certificate) });
  return { certificate, sealedKey, ca: { certificate, signer: privateKey } };
}

/** Opens a CA created by {@link createLocalCa}. */
export async function openLocalCa(options: {
  certificate: Certificate;
  sealedKey: Uint8Array;
  provider: KeyProvider;
}): Promise<ScepCa> {
  const pkcs8 = await openSecret(options.sealedKey, {
    provider: options.provider,
    ...caKeySealContext(options.certificate),
  });
  const privateKey = importPrivateKey(pkcs8);
  return { certificate: options.certificate, signer: privateKey };
}

/**
 * A `Signer` (from `@mdmkit/crypto`) over a local key that signs on libuv's thread pool, so that the RSA work of issuing a
 * certificate and signing a CertRep runs beside the event loop instead of blocking it.
 */
export function threadPoolSigner(key: KeyObject): Signer {
  const publicKey = createPublicKey(key);
  return {
    publicKey,
    sign: (data, hash) =>
      new Promise((resolve, reject) => {
        nodeSign(hash, data, key, (err, sig) => (err ? reject(err) : resolve(new Uint8Array(sig))));
      }),
  };
}

/** Checks that a CA configuration can work and returns the keys the server uses. */
export function messageKeys(ca: ScepCa): {
  /** The certificate requests are encrypted to, and its key. */
  certificate: Certificate;
  privateKey: KeyObject;
  /** The certificate that signs CertReps, and its signer. */
  signingCertificate: Certificate;
  signer: Signer;
  issuer: Signer;
} {
  const issuer = isKeyObject(ca.signer) ? threadPoolSigner(ca.signer) : ca.signer;
  if (ca.ra) {
    const signing = ca.ra.signing ?? ca.ra;
    return {
      certificate: ca.ra.certificate,
      privateKey: ca.ra.privateKey,
      signingCertificate: signing.certificate,
      signer: threadPoolSigner(signing.privateKey),
      issuer,
    };
  }
  const key = ca.decryptionKey ?? (isKeyObject(ca.signer) ? ca.signer : undefined);
  if (!key) {
    throw new ScepError(
      'INVALID_OPTIONS',
      'a CA whose key is behind a Signer needs an RA or a decryptionKey to read requests',
    );
  }
  return {
    certificate: ca.certificate,
    privateKey: key,
    signingCertificate: ca.certificate,
    signer: issuer,
    issuer,
  };
}

export function isKeyObject(k: unknown): k is KeyObject {
  return typeof k === 'object' && k !== null && 'asymmetricKeyType' in k && 'export' in k;
}
