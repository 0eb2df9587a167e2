import { KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { serializeAsn1 } from './asn1';
import { CryptoError } from './errors';
import { ECDSA_SIGNATURE_OID, type HashName, OID, RSA_SIGNATURE_OID, SIGNATURE_ALGORITHMS } from './oids';

/**
 * A private key that lives elsewhere (KMS, HSM, another process). `sign` receives the data to sign
 * (not a digest) and returns an RSA PKCS#1 v1.5 signature or a DER-encoded ECDSA signature.
 *
 * @example
 * ```ts
 * const signer: Signer = {
 *   publicKey,
 *   async sign(data, hash) {
 *     return kms.sign({ message: data, algorithm: hash === 'sha256' ? 'RSASSA_PKCS1_V1_5_SHA_256' : '…' });
 *   },
 * };
 * await issueCertificate({ subject: 'CN=device', publicKey: devKey, issuer: ca, issuerKey: signer });
 * ```
 */
export interface Signer {
  readonly publicKey: KeyObject;
  sign(data: Uint8Array, hash: HashName): Promise<Uint8Array>;
}

/** Hash names accepted by signing functions. */
export type { HashName } from './oids';

const HASHES = new Set<string>(['sha1', 'sha256', 'sha384', 'sha512']);

/** @internal */
export function checkHash(hash: string | undefined, fallback: HashName = 'sha256'): HashName {
  const h = hash ?? fallback;
  if (!HASHES.has(h))
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `unsupported hash ${String(h).slice(0, 20)}`);
  return h as HashName;
}

/** @internal */
export function isSigner(k: KeyObject | Signer): k is Signer {
  return !(k instanceof KeyObject) && typeof (k as Signer | undefined)?.sign === 'function';
}

/** Key family of a key, or throws UNSUPPORTED_ALGORITHM. @internal */
export function keyFamily(key: KeyObject): 'rsa' | 'ec' {
  const t = key.asymmetricKeyType;
  if (t === 'rsa' || t === 'ec') return t;
  throw new CryptoError('UNSUPPORTED_ALGORITHM', `unsupported key type ${String(t)}`);
}

/** DER AlgorithmIdentifier of the X.509 signature algorithm for a key type and hash. @internal */
export function signatureAlgorithmFor(
  key: KeyObject | Signer,
  hash: HashName,
): { oid: string; der: Uint8Array; schema: AlgorithmIdentifier } {
  const family = keyFamily(isSigner(key) ? key.publicKey : key);
  // RSA algorithms carry an explicit NULL parameter (RFC 4055 §5); ECDSA ones carry none (RFC 5758 §3.2).
  const schema =
    family === 'rsa'
      ? new AlgorithmIdentifier({ algorithm: RSA_SIGNATURE_OID[hash], parameters: null })
      : new AlgorithmIdentifier({ algorithm: ECDSA_SIGNATURE_OID[hash] });
  return { oid: schema.algorithm, der: serializeAsn1(schema), schema };
}

/** Signs with a local key or a Signer. @internal */
export async function signData(
  key: KeyObject | Signer,
  data: Uint8Array,
  hash: HashName,
): Promise<Uint8Array> {
  if (isSigner(key)) {
    let sig: Uint8Array;
    try {
      sig = await key.sign(data, hash);
    } catch (e) {
      throw new CryptoError('KEY_PROVIDER_FAILED', 'the signer failed', { cause: e });
    }
    if (!(sig instanceof Uint8Array) || sig.length === 0) {
      throw new CryptoError('KEY_PROVIDER_FAILED', 'the signer returned no signature');
    }
    return sig;
  }
  if (key.type !== 'private') throw new CryptoError('INVALID_KEY', 'signing needs a private key');
  keyFamily(key);
  try {
    return new Uint8Array(nodeSign(hash, data, key));
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'signing failed', { cause: e });
  }
}

/**
 * Verifies `sig` over `data` for an X.509/CMS signature algorithm OID. `hash` is used for algorithms
 * that do not name one (rsaEncryption, id-ecPublicKey in CMS). Returns false on a bad signature and
 * throws UNSUPPORTED_ALGORITHM for algorithms we do not verify. @internal
 */
export function verifyData(
  publicKey: KeyObject,
  algorithmOid: string,
  data: Uint8Array,
  sig: Uint8Array,
  hash?: HashName,
): boolean {
  let family: 'rsa' | 'ec';
  let h: HashName | undefined;
  const known = SIGNATURE_ALGORITHMS[algorithmOid];
  if (known) {
    family = known.key;
    h = known.hash;
  } else if (algorithmOid === OID.rsaEncryption) {
    family = 'rsa';
    h = hash;
  } else if (algorithmOid === OID.ecPublicKey) {
    family = 'ec';
    h = hash;
  } else {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `unsupported signature algorithm ${algorithmOid}`);
  }
  if (!h) throw new CryptoError('UNSUPPORTED_ALGORITHM', 'signature algorithm without a hash');
  if (keyFamily(publicKey) !== family) return false;
  try {
    return nodeVerify(h, data, publicKey, sig);
  } catch {
    // Malformed signatures (bad ECDSA DER, wrong RSA length) are just invalid.
    return false;
  }
}
