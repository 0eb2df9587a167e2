// CMS EnvelopedData (CBC ciphers) and AuthEnvelopedData (AES-GCM, RFC 5083/5084) encryption for RSA
// recipients, built with the @peculiar/asn1-cms schema classes. A recipient's issuer Name goes in as
// the certificate's own bytes, so a name that is not in canonical form still matches at the peer.
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import {
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  IssuerAndSerialNumber,
  KeyTransRecipientInfo,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
} from '@peculiar/asn1-cms';
import { RsaEsOaepParams } from '@peculiar/asn1-rsa';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, type Name, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { preEncoded, serializeAsn1, toArrayBuffer } from './asn1';
import { AuthEnvelopedData, contentInfoDer, GcmParameters } from './cms-schema';
import { parseDer } from './der';
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

function keyTransportAlgorithm(kt: KeyTransport, hash: string): AlgorithmIdentifier {
  if (kt === 'rsa-pkcs1') return new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null });
  const hashOid = HASH_TO_OID[hash];
  if (hashOid === undefined)
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `OAEP hash ${hash} is not supported`);
  // SHA-1 is every field's default, so its parameters are an empty SEQUENCE.
  const hashAlgorithm = new AlgorithmIdentifier({ algorithm: hashOid, parameters: null });
  const params =
    hash === 'sha1'
      ? new RsaEsOaepParams()
      : new RsaEsOaepParams({
          hashAlgorithm,
          maskGenAlgorithm: new AlgorithmIdentifier({
            algorithm: OID.mgf1,
            parameters: AsnConvert.serialize(hashAlgorithm),
          }),
        });
  return new AlgorithmIdentifier({ algorithm: OID.rsaesOaep, parameters: AsnConvert.serialize(params) });
}

/** A SET OF in DER order (X.690 §11.6): members sorted by their encodings. */
function derSetOrder(infos: RecipientInfo[]): RecipientInfos {
  const encoded = infos.map((info) => ({ info, der: Buffer.from(serializeAsn1(info)) }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return new RecipientInfos(encoded.map((e) => e.info));
}

function contentInfo(contentType: string, body: object): Uint8Array {
  return contentInfoDer(contentType, serializeAsn1(body, 'INVALID_CMS'));
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
    // Without the extension, the RFC 5280 method-1 identifier that decryptCms also accepts.
    const rid = bySki
      ? new RecipientIdentifier({ subjectKeyIdentifier: new SubjectKeyIdentifier(ids.ski ?? ids.skiFromKey) })
      : new RecipientIdentifier({
          issuerAndSerialNumber: new IssuerAndSerialNumber({
            issuer: preEncoded<Name>(ids.issuer),
            serialNumber: toArrayBuffer(parseDer(ids.serialTlv).content),
          }),
        });
    const encryptedKey =
      kt === 'rsa-pkcs1'
        ? publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, cek)
        : publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, cek);
    const ktri = new KeyTransRecipientInfo({
      version: bySki ? 2 : 0,
      rid,
      keyEncryptionAlgorithm: keyTransportAlgorithm(kt, oaepHash),
      encryptedKey: new OctetString(encryptedKey),
    });
    return new RecipientInfo({ ktri });
  });

  const encryptedContentInfo = (algorithm: AlgorithmIdentifier, ct: Uint8Array) =>
    new EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: algorithm,
      encryptedContent: new EncryptedContent({ value: new OctetString(ct) }),
    });
  if (spec.mode === 'gcm') {
    const c = createCipheriv(spec.nodeName as 'aes-256-gcm', cek, iv, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(opts.content), c.final()]);
    const tag = c.getAuthTag();
    const params = Object.assign(new GcmParameters(), { nonce: new OctetString(iv), icvLength: 16 });
    const body = Object.assign(new AuthEnvelopedData(), {
      version: 0,
      recipientInfos: derSetOrder(recipientInfos),
      authEncryptedContentInfo: encryptedContentInfo(
        new AlgorithmIdentifier({ algorithm: spec.oid, parameters: AsnConvert.serialize(params) }),
        ct,
      ),
      mac: new OctetString(tag),
    });
    cek.fill(0);
    return contentInfo(OID.authEnvelopedData, body);
  }
  let ct: Uint8Array;
  if (spec.nodeName === undefined) {
    ct = desCbcEncryptRaw(cek, iv, pkcs7Pad(opts.content, 8));
  } else {
    const c = createCipheriv(spec.nodeName, cek, iv);
    ct = Buffer.concat([c.update(opts.content), c.final()]);
  }
  const body = new EnvelopedData({
    version: bySki ? 2 : 0,
    recipientInfos: derSetOrder(recipientInfos),
    encryptedContentInfo: encryptedContentInfo(
      new AlgorithmIdentifier({ algorithm: spec.oid, parameters: AsnConvert.serialize(new OctetString(iv)) }),
      ct,
    ),
  });
  cek.fill(0);
  return contentInfo(OID.envelopedData, body);
}
