// RSA key transport decryption. Node 20 refuses privateDecrypt with RSA_PKCS1_PADDING (CVE-2023-46809),
// so PKCS#1 v1.5 padding is removed here, in constant time and with implicit rejection: a malformed
// block yields a pseudo-random key of the expected length, derived from the ciphertext under a secret
// bound to the private key. The caller then fails later at the content layer exactly as it would with
// a wrong key, so neither the error nor the timing tells an attacker whether the padding was valid.
import {
  constants,
  createHash,
  createHmac,
  type KeyObject,
  privateDecrypt,
  type RsaPrivateKey,
} from 'node:crypto';

interface KeyInfo {
  modulusBytes: number;
  rejectionSecret: Uint8Array;
}

const keyInfo = new WeakMap<KeyObject, KeyInfo>();

function infoFor(key: KeyObject): KeyInfo {
  let info = keyInfo.get(key);
  if (info === undefined) {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa' || bits === undefined) {
      throw new TypeError('an RSA private key is required');
    }
    // A secret that only the key holder can compute, so synthetic keys are unpredictable to others.
    const der = key.export({ format: 'der', type: 'pkcs8' });
    const rejectionSecret = createHash('sha256')
      .update('mdmkit pkcs1 implicit rejection')
      .update(der)
      .digest();
    der.fill(0);
    info = { modulusBytes: (bits + 7) >>> 3, rejectionSecret };
    keyInfo.set(key, info);
  }
  return info;
}

/** Size of the RSA modulus in bytes (cached per key). */
export function rsaModulusBytes(key: KeyObject): number {
  return infoFor(key).modulusBytes;
}

function syntheticKey(secret: Uint8Array, ciphertext: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  for (let counter = 0; filled < length; counter++) {
    const block = createHmac('sha256', secret).update(ciphertext).update(Uint8Array.of(counter)).digest();
    const n = Math.min(block.length, length - filled);
    out.set(block.subarray(0, n), filled);
    filled += n;
  }
  return out;
}

/**
 * Decrypts an rsaEncryption (PKCS#1 v1.5) key transport block that must hold exactly
 * `expectedLength` bytes. Never throws for a bad ciphertext: an invalid block (bad padding, wrong
 * length, out-of-range value) returns a deterministic pseudo-random key of `expectedLength` bytes.
 */
export function rsaPkcs1v15DecryptImplicit(
  privateKey: KeyObject,
  ciphertext: Uint8Array,
  expectedLength: number,
): Uint8Array {
  const { modulusBytes: k, rejectionSecret } = infoFor(privateKey);
  const synthetic = syntheticKey(rejectionSecret, ciphertext, expectedLength);
  let em: Uint8Array;
  let good = 1;
  try {
    if (ciphertext.length !== k) throw new RangeError('length');
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING } as RsaPrivateKey, ciphertext);
    if (em.length !== k) throw new RangeError('length');
  } catch {
    em = new Uint8Array(k);
    good = 0;
  }
  // EM = 00 || 02 || PS (>= 8 non-zero bytes) || 00 || M, with |M| = expectedLength.
  const sep = k - expectedLength - 1;
  if (sep < 10) {
    good = 0;
  } else {
    good &= isZero(em[0] as number);
    good &= isZero((em[1] as number) ^ 2);
    for (let i = 2; i < sep; i++) good &= 1 ^ isZero(em[i] as number);
    good &= isZero(em[sep] as number);
  }
  const mask = -good & 0xff;
  const out = synthetic;
  const start = Math.max(sep + 1, 0);
  for (let i = 0; i < expectedLength; i++) {
    const real = (em[start + i] ?? 0) as number;
    out[i] = (real & mask) | ((out[i] as number) & ~mask);
  }
  em.fill(0);
  return out;
}

/** 1 when `x` (0..255) is zero, else 0, without branching. */
function isZero(x: number): number {
  return ((x - 1) >>> 31) & 1;
}

function mgf1(hash: string, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  let filled = 0;
  for (let c = 0; filled < length; c++) {
    counter[0] = c >>> 24;
    counter[1] = c >>> 16;
    counter[2] = c >>> 8;
    counter[3] = c;
    const block = createHash(hash).update(seed).update(counter).digest();
    const n = Math.min(block.length, length - filled);
    out.set(block.subarray(0, n), filled);
    filled += n;
  }
  return out;
}

/**
 * RSAES-OAEP decoding (RFC 8017 section 7.1.2) with separate OAEP and MGF1 hashes, which
 * node:crypto cannot express (it uses one hash for both) but Java's common "OAEP with SHA-256 and
 * MGF1" produces (MGF1 stays SHA-1). The message must be exactly `expectedLength` bytes. Every check
 * is computed without data-dependent branches and all failures return undefined alike.
 */
export function rsaOaepDecryptMixed(
  privateKey: KeyObject,
  ciphertext: Uint8Array,
  hash: string,
  mgfHash: string,
  expectedLength: number,
): Uint8Array | undefined {
  const { modulusBytes: k } = infoFor(privateKey);
  const lHash = createHash(hash).digest();
  const hLen = lHash.length;
  if (ciphertext.length !== k || k < 2 * hLen + 2 || expectedLength > k - 2 * hLen - 2) return undefined;
  let em: Uint8Array;
  try {
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING } as RsaPrivateKey, ciphertext);
  } catch {
    return undefined;
  }
  if (em.length !== k) return undefined;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = mgf1(mgfHash, maskedDb, hLen);
  for (let i = 0; i < hLen; i++) seed[i] = (seed[i] as number) ^ (maskedSeed[i] as number);
  const db = mgf1(mgfHash, seed, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (maskedDb[i] as number);
  // DB = lHash || PS (zeros) || 01 || M, with |M| = expectedLength.
  const sep = db.length - expectedLength - 1;
  let good = isZero(em[0] as number);
  for (let i = 0; i < hLen; i++) good &= isZero((db[i] as number) ^ (lHash[i] as number));
  for (let i = hLen; i < sep; i++) good &= isZero(db[i] as number);
  good &= isZero((db[sep] as number) ^ 1);
  const out = Uint8Array.from(db.subarray(sep + 1));
  db.fill(0);
  seed.fill(0);
  em.fill(0);
  return good === 1 ? out : undefined;
}

/** RSAES-OAEP decryption; returns undefined on any failure (the caller maps it to DECRYPT_FAILED). */
export function rsaOaepDecrypt(
  privateKey: KeyObject,
  ciphertext: Uint8Array,
  hash: string,
): Uint8Array | undefined {
  try {
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      ciphertext,
    );
  } catch {
    return undefined;
  }
}
