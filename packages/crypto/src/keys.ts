import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as nodeGenerateKeyPair,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { parseDer, readBitString, readOid, Tag } from './der';
import { CryptoError } from './errors';
import { OID } from './oids';
import { looksLikePem, pemDecodeAll } from './pem';

const generate = promisify(nodeGenerateKeyPair);

/** A private key with its public half. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What {@link generateKeyPair} makes. */
export type KeySpec = { type: 'rsa'; bits?: 2048 | 3072 | 4096 } | { type: 'ec'; curve: 'P-256' | 'P-384' };

/** Private key export formats. `sec1-*` is for EC keys, `pkcs1-*` for RSA keys. */
export type PrivateKeyFormat =
  | 'pkcs8-pem'
  | 'pkcs8-der'
  | 'pkcs1-pem'
  | 'pkcs1-der'
  | 'sec1-pem'
  | 'sec1-der';

/** Public key export formats. `pkcs1-*` is for RSA keys. */
export type PublicKeyFormat = 'spki-pem' | 'spki-der' | 'pkcs1-pem' | 'pkcs1-der';

/**
 * Generates an RSA (2048, 3072 or 4096 bits; default 2048) or EC (P-256, P-384) key pair.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = await generateKeyPair({ type: 'ec', curve: 'P-256' });
 * const rsa = await generateKeyPair({ type: 'rsa', bits: 3072 });
 * ```
 */
export async function generateKeyPair(spec: KeySpec = { type: 'rsa' }): Promise<KeyPair> {
  if (spec.type === 'rsa') {
    const bits = spec.bits ?? 2048;
    if (bits !== 2048 && bits !== 3072 && bits !== 4096) {
      throw new CryptoError('UNSUPPORTED_ALGORITHM', `RSA keys must be 2048, 3072 or 4096 bits, not ${bits}`);
    }
    return generate('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  }
  if (spec.type === 'ec') {
    const namedCurve =
      spec.curve === 'P-256' ? 'prime256v1' : spec.curve === 'P-384' ? 'secp384r1' : undefined;
    if (!namedCurve)
      throw new CryptoError('UNSUPPORTED_ALGORITHM', `unsupported curve ${String(spec.curve)}`);
    return generate('ec', { namedCurve });
  }
  throw new CryptoError('UNSUPPORTED_ALGORITHM', 'unsupported key type');
}

const PRIVATE_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];

/**
 * Imports a private key from PEM (PKCS#8, encrypted PKCS#8, PKCS#1 `RSA PRIVATE KEY`, SEC1
 * `EC PRIVATE KEY`) or DER (PKCS#8, PKCS#1 or SEC1, tried in that order).
 *
 * Throws `CryptoError` `BAD_PASSWORD` for an encrypted key with a missing or wrong passphrase and
 * `INVALID_KEY` for anything else that is not a key.
 *
 * @example
 * ```ts
 * const key = importPrivateKey(fs.readFileSync('ca.key', 'utf8'));
 * const encrypted = importPrivateKey(pem, { passphrase: 'secret' });
 * ```
 */
export function importPrivateKey(
  pemOrDer: string | Uint8Array,
  options: { passphrase?: string } = {},
): KeyObject {
  const { passphrase } = options;
  if (typeof pemOrDer === 'string' || looksLikePem(pemOrDer)) {
    const text = typeof pemOrDer === 'string' ? pemOrDer : Buffer.from(pemOrDer).toString('latin1');
    const block = pemDecodeAll(text).find((b) => PRIVATE_LABELS.includes(b.label));
    if (!block) throw new CryptoError('INVALID_KEY', 'no private key PEM block');
    const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text);
    if (encrypted && passphrase === undefined) {
      throw new CryptoError('BAD_PASSWORD', 'the private key is encrypted; a passphrase is required');
    }
    try {
      return createPrivateKey(
        passphrase === undefined ? { key: text, format: 'pem' } : { key: text, format: 'pem', passphrase },
      );
    } catch (e) {
      throw new CryptoError(encrypted ? 'BAD_PASSWORD' : 'INVALID_KEY', 'cannot import the private key', {
        cause: e,
      });
    }
  }
  if (!(pemOrDer instanceof Uint8Array))
    throw new CryptoError('INVALID_KEY', 'expected PEM text or DER bytes');
  const key = Buffer.from(pemOrDer);
  const attempts: { type: 'pkcs8' | 'pkcs1' | 'sec1' }[] = [
    { type: 'pkcs8' },
    { type: 'pkcs1' },
    { type: 'sec1' },
  ];
  let last: unknown;
  for (const a of attempts) {
    try {
      return createPrivateKey(
        passphrase === undefined
          ? { key, format: 'der', type: a.type }
          : { key, format: 'der', type: a.type, passphrase },
      );
    } catch (e) {
      last = e;
    }
  }
  throw new CryptoError(
    passphrase === undefined ? 'INVALID_KEY' : 'BAD_PASSWORD',
    'cannot import the private key',
    {
      cause: last,
    },
  );
}

/**
 * Imports a public key from PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`) or DER (SPKI or PKCS#1). A private key
 * (KeyObject or PEM) yields its public half.
 *
 * @example
 * ```ts
 * const pub = importPublicKey(fs.readFileSync('key.pub', 'utf8'));
 * ```
 */
export function importPublicKey(input: string | Uint8Array | KeyObject): KeyObject {
  try {
    if (typeof input === 'object' && !(input instanceof Uint8Array)) return createPublicKey(input);
    if (typeof input === 'string' || looksLikePem(input)) {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
      return createPublicKey({ key: text, format: 'pem' });
    }
    const key = Buffer.from(input);
    try {
      return createPublicKey({ key, format: 'der', type: 'spki' });
    } catch {
      return createPublicKey({ key, format: 'der', type: 'pkcs1' });
    }
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'cannot import the public key', { cause: e });
  }
}

/**
 * Exports a private key. PEM formats return a string, DER formats a Uint8Array. With a `passphrase`,
 * `pkcs8-*` output is encrypted with AES-256-CBC (PBES2).
 *
 * @example
 * ```ts
 * const pem = exportPrivateKey(key, 'pkcs8-pem') as string;
 * const der = exportPrivateKey(key, 'pkcs8-der', { passphrase: 'secret' }) as Uint8Array;
 * ```
 */
export function exportPrivateKey(
  key: KeyObject,
  format: PrivateKeyFormat,
  options: { passphrase?: string } = {},
): string | Uint8Array {
  if (key.type !== 'private') throw new CryptoError('INVALID_KEY', 'not a private key');
  const [type, enc] = format.split('-') as ['pkcs8' | 'pkcs1' | 'sec1', 'pem' | 'der'];
  if (type === 'pkcs1' && key.asymmetricKeyType !== 'rsa') {
    throw new CryptoError('INVALID_KEY', 'PKCS#1 export needs an RSA key');
  }
  if (type === 'sec1' && key.asymmetricKeyType !== 'ec')
    throw new CryptoError('INVALID_KEY', 'SEC1 export needs an EC key');
  if (options.passphrase !== undefined && type !== 'pkcs8') {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', 'only PKCS#8 export can be encrypted');
  }
  try {
    const out: string | Buffer =
      options.passphrase !== undefined
        ? key.export({
            type: 'pkcs8',
            format: enc as 'pem',
            cipher: 'aes-256-cbc',
            passphrase: options.passphrase,
          })
        : key.export({ type, format: enc as 'pem' });
    return typeof out === 'string' ? out : new Uint8Array(out);
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'cannot export the private key', { cause: e });
  }
}

/**
 * Exports a public key (or the public half of a private key).
 *
 * @example
 * ```ts
 * const pem = exportPublicKey(publicKey, 'spki-pem') as string;
 * ```
 */
export function exportPublicKey(key: KeyObject, format: PublicKeyFormat): string | Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.type !== 'public') throw new CryptoError('INVALID_KEY', 'not an asymmetric key');
  const [type, enc] = format.split('-') as ['spki' | 'pkcs1', 'pem' | 'der'];
  if (type === 'pkcs1' && pub.asymmetricKeyType !== 'rsa') {
    throw new CryptoError('INVALID_KEY', 'PKCS#1 export needs an RSA key');
  }
  try {
    const out: string | Buffer = pub.export({ type, format: enc as 'pem' });
    return typeof out === 'string' ? out : new Uint8Array(out);
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'cannot export the public key', { cause: e });
  }
}

/**
 * Whether a public key belongs to a private key (compares the SPKI encodings).
 *
 * @example
 * ```ts
 * keysMatch(importPrivateKey(keyPem), parseCertificate(certPem).publicKey); // true
 * ```
 */
export function keysMatch(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const a = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const b = publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.compare(a, b) === 0;
}

const EC_CURVES: Record<string, { crv: string; size: number }> = {
  [OID.prime256v1]: { crv: 'P-256', size: 32 },
  [OID.secp384r1]: { crv: 'P-384', size: 48 },
  [OID.secp521r1]: { crv: 'P-521', size: 66 },
};

/**
 * A public KeyObject from SubjectPublicKeyInfo DER. OpenSSL 3's generic SPKI decoder costs ~150 µs
 * per key; importing the RSA key as PKCS#1 or the EC point as JWK gives the same key for a fraction
 * of that, which matters when every new device certificate is parsed. Other key types take the
 * generic route. Throws `CryptoError('INVALID_KEY')`.
 */
export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  try {
    const it = parseDer(spki).iterate();
    const alg = it.next(Tag.SEQUENCE, 'algorithm').iterate();
    const oid = readOid(alg.next(Tag.OID, 'algorithm'));
    const params = alg.peek();
    const { unusedBits, bytes } = readBitString(it.next(Tag.BIT_STRING, 'subjectPublicKey'));
    it.end();
    if (unusedBits === 0 && oid === OID.rsaEncryption) {
      return createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs1' });
    }
    if (unusedBits === 0 && oid === OID.ecPublicKey && params?.tag === Tag.OID) {
      const curve = EC_CURVES[readOid(params)];
      if (curve && bytes.length === 1 + 2 * curve.size && bytes[0] === 0x04) {
        const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
        return createPublicKey({
          key: {
            kty: 'EC',
            crv: curve.crv,
            x: b64url(bytes.subarray(1, 1 + curve.size)),
            y: b64url(bytes.subarray(1 + curve.size)),
          },
          format: 'jwk',
        });
      }
    }
    return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'unsupported or malformed public key', { cause: e });
  }
}
