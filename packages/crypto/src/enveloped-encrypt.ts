// CMS EnvelopedData (CBC ciphers) and AuthEnvelopedData (AES-GCM, RFC 5083/5084) encryption for RSA
// recipients. The structure is small and fixed, so it is written with the DER writer directly.
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { derInteger, derNull, derOctetString, derOid, derSequence, derSet, derTlv } from './der';
import {
  CIPHER_BY_NAME,
  type ContentCipher,
  certificateIds,
  HASH_TO_OID,
  type KeyTransport,
  OID,
  type RecipientCertificate,
  recipientPublicKey,
} from './enveloped-data';
import { desCbcEncryptRaw } from './des';
import { CryptoError } from './errors';

/** Options of {@link encryptCms}. */
export interface EncryptCmsOptions {
  content: Uint8Array;
  /** Certificates with RSA keys; each can open the message. */
  recipients: readonly RecipientCertificate[];
  /** Content cipher; default `aes-256-cbc`. `aes-*-gcm` produces AuthEnvelopedData. `des-cbc` is refused. */
  cipher?: ContentCipher;
  /** Key transport; default `rsa-pkcs1` (what Apple devices and SCEP peers expect). */
  keyTransport?: KeyTransport;
  /** Hash for RSAES-OAEP and its MGF1; default `sha256`. */
  oaepHash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /**
   * How recipients are named: issuer and serial (default) or subject key identifier (the certificate's
   * extension, or SHA-1 of its public key when it has none).
   */
  recipientIdentifier?: 'issuerAndSerialNumber' | 'subjectKeyIdentifier';
  /**
   * Permits `cipher: 'des-cbc'` (56-bit single DES, broken). Only for tests that must produce what old
   * clients such as micromdm's SCEP client send; never use it to protect data.
   */
  insecureAllowSingleDes?: boolean;
}

function pkcs7Pad(data: Uint8Array, blockSize: number): Uint8Array {
  const pad = blockSize - (data.length % blockSize);
  const out = new Uint8Array(data.length + pad);
  out.set(data);
  out.fill(pad, data.length);
  return out;
}

function algorithmIdentifier(oid: string, params?: Uint8Array): Uint8Array {
  return params === undefined ? derSequence([derOid(oid)]) : derSequence([derOid(oid), params]);
}

function keyTransportAlgorithm(kt: KeyTransport, hash: string): Uint8Array {
  if (kt === 'rsa-pkcs1') return algorithmIdentifier(OID.rsaEncryption, derNull());
  const hashOid = HASH_TO_OID[hash];
  if (hashOid === undefined)
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `OAEP hash ${hash} is not supported`);
  if (hash === 'sha1') return algorithmIdentifier(OID.rsaesOaep, derSequence([])); // all defaults
  const hashAlg = algorithmIdentifier(hashOid, derNull());
  return algorithmIdentifier(
    OID.rsaesOaep,
    derSequence([derTlv(0xa0, hashAlg), derTlv(0xa1, algorithmIdentifier(OID.mgf1, hashAlg))]),
  );
}

/**
 * Encrypts `content` for one or more RSA recipients as CMS EnvelopedData (CBC ciphers) or
 * AuthEnvelopedData (AES-GCM), returning the DER ContentInfo.
 *
 * @throws CryptoError `UNSUPPORTED_ALGORITHM` for `des-cbc` or a non-RSA recipient key;
 *   `INVALID_CERTIFICATE` when a recipient certificate cannot be read.
 *
 * @example
 * ```ts
 * const der = await encryptCms({
 *   content: new TextEncoder().encode('secret'),
 *   recipients: [deviceCertificate],
 *   cipher: 'aes-256-cbc',
 * });
 * ```
 */
export async function encryptCms(opts: EncryptCmsOptions): Promise<Uint8Array> {
  return encryptCmsSync(opts);
}

/**
 * Synchronous form of {@link encryptCms}.
 *
 * @example
 * ```ts
 * const der = encryptCmsSync({ content, recipients: [deviceCertificate], cipher: 'aes-128-gcm', keyTransport: 'rsa-oaep' });
 * ```
 */
export function encryptCmsSync(opts: EncryptCmsOptions): Uint8Array {
  const spec = CIPHER_BY_NAME.get(opts.cipher ?? 'aes-256-cbc');
  const singleDes = spec?.name === 'des-cbc' && opts.insecureAllowSingleDes === true;
  if (spec === undefined || (spec.nodeName === undefined && !singleDes)) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `cannot encrypt with ${String(opts.cipher)}`);
  }
  if (opts.recipients.length === 0) throw new CryptoError('NO_MATCHING_RECIPIENT', 'no recipients given');
  const kt = opts.keyTransport ?? 'rsa-pkcs1';
  if (kt !== 'rsa-pkcs1' && kt !== 'rsa-oaep') {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `key transport ${String(kt)} is not supported`);
  }
  const oaepHash = opts.oaepHash ?? 'sha256';
  const bySki = opts.recipientIdentifier === 'subjectKeyIdentifier';
  const cek = randomBytes(spec.keyLength);
  const iv = randomBytes(spec.ivLength);

  const recipientInfos = opts.recipients.map((cert) => {
    const publicKey = recipientPublicKey(cert);
    if (publicKey.asymmetricKeyType !== 'rsa') {
      throw new CryptoError('UNSUPPORTED_ALGORITHM', 'only RSA recipients are supported');
    }
    const ids = certificateIds(cert);
    let rid: Uint8Array;
    if (bySki) {
      // Without the extension, the RFC 5280 method-1 identifier that decryptCms also accepts.
      rid = derTlv(0x80, ids.ski ?? ids.skiFromKey);
    } else {
      rid = derSequence([ids.issuer, ids.serialTlv]);
    }
    const encryptedKey =
      kt === 'rsa-pkcs1'
        ? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, cek)
        : publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, cek);
    return derSequence([
      derInteger(bySki ? 2 : 0),
      rid,
      keyTransportAlgorithm(kt, oaepHash),
      derOctetString(encryptedKey),
    ]);
  });

  if (spec.mode === 'gcm') {
    const c = createCipheriv(spec.nodeName as 'aes-256-gcm', cek, iv, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(opts.content), c.final()]);
    const tag = c.getAuthTag();
    const params = derSequence([derOctetString(iv), derInteger(16)]);
    const body = derSequence([
      derInteger(0),
      derSet(recipientInfos),
      derSequence([derOid(OID.data), algorithmIdentifier(spec.oid, params), derTlv(0x80, ct)]),
      derOctetString(tag),
    ]);
    cek.fill(0);
    return derSequence([derOid(OID.authEnvelopedData), derTlv(0xa0, body)]);
  }
  let ct: Uint8Array;
  if (spec.nodeName === undefined) {
    ct = desCbcEncryptRaw(cek, iv, pkcs7Pad(opts.content, 8));
  } else {
    const c = createCipheriv(spec.nodeName, cek, iv);
    ct = Buffer.concat([c.update(opts.content), c.final()]);
  }
  const body = derSequence([
    derInteger(bySki ? 2 : 0),
    derSet(recipientInfos),
    derSequence([derOid(OID.data), algorithmIdentifier(spec.oid, derOctetString(iv)), derTlv(0x80, ct)]),
  ]);
  cek.fill(0);
  return derSequence([derOid(OID.envelopedData), derTlv(0xa0, body)]);
}
