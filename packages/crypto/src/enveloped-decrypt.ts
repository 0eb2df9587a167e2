// CMS EnvelopedData / AuthEnvelopedData decryption on the minimal DER reader. This runs on every SCEP
// request, so it parses only what it needs, caches per-certificate identifiers and per-key secrets, and
// never goes through pkijs (which cannot do rsaEncryption key transport nor DES anyway).
import { createDecipheriv, type KeyObject } from 'node:crypto';
import { type DerElement, parseDer, readOctets, readOid, readSmallInt, Tag } from './der';
import { desCbcDecryptRaw } from './des';
import {
  CIPHER_BY_OID,
  type CipherSpec,
  type ContentCipher,
  certificateIds,
  HASH_OIDS,
  OID,
  type RecipientCertificate,
  trimZeros,
} from './enveloped-data';
import { CryptoError } from './errors';
import { toDer } from './pem';
import { rsaOaepDecrypt, rsaOaepDecryptMixed, rsaPkcs1v15DecryptImplicit } from './pkcs1';

/** One certificate and its private key that may be a recipient of a message. */
export interface RecipientKey<C extends RecipientCertificate = RecipientCertificate> {
  certificate: C;
  privateKey: KeyObject;
}

/** Options of {@link decryptCms}. */
export interface DecryptCmsOptions<C extends RecipientCertificate = RecipientCertificate> {
  /**
   * Candidate recipients, tried in order against the message's recipient identifiers (issuer and
   * serial number, or subject key identifier). Pass the current and previous keys when they rotate.
   */
  recipients: readonly RecipientKey<C>[];
  /**
   * Content ciphers to accept; others fail with `UNSUPPORTED_ALGORITHM` before any private-key
   * operation. Default: all of {@link ContentCipher} (single DES included, for old SCEP clients).
   */
  allowedCiphers?: readonly ContentCipher[];
}

/** Result of {@link decryptCms}. */
export interface DecryptedCms<C extends RecipientCertificate = RecipientCertificate> {
  content: Uint8Array;
  cipher: ContentCipher;
  /** The candidate whose key opened the message. */
  recipient: C;
}

const DECRYPT_FAILED_MESSAGE = 'CMS decryption failed';

function decryptFailed(): CryptoError {
  // Deliberately one code, one message and no cause for every failure after recipient matching.
  return new CryptoError('DECRYPT_FAILED', DECRYPT_FAILED_MESSAGE);
}

function invalidCms(message: string, cause?: unknown): CryptoError {
  return new CryptoError('INVALID_CMS', message, cause === undefined ? undefined : { cause });
}

type KeyTransportAlg = { kind: 'pkcs1' } | { kind: 'oaep'; hash: string; mgfHash: string };

interface KeyTrans {
  rid: DerElement;
  alg: KeyTransportAlg | undefined;
  encryptedKey: Uint8Array;
}

interface Parsed {
  auth: boolean;
  recipients: KeyTrans[];
  spec: CipherSpec;
  iv: Uint8Array;
  tagLength: number;
  ciphertext: Uint8Array;
  mac?: Uint8Array;
  aad?: Uint8Array;
}

function parseKeyTransport(alg: DerElement): KeyTransportAlg | undefined {
  const it = alg.iterate();
  const oid = readOid(it.next(Tag.OID, 'algorithm'));
  if (oid === OID.rsaEncryption) return { kind: 'pkcs1' };
  if (oid !== OID.rsaesOaep) return undefined;
  let hash = 'sha1';
  let mgfHash = 'sha1';
  const params = it.optional(Tag.SEQUENCE);
  if (params) {
    for (const p of params.children()) {
      if (p.isContext(0)) {
        hash = HASH_OIDS[readOid(p.iterate().next(Tag.SEQUENCE).iterate().next(Tag.OID))] ?? '';
      } else if (p.isContext(1)) {
        const mgf = p.iterate().next(Tag.SEQUENCE).iterate();
        if (readOid(mgf.next(Tag.OID)) !== OID.mgf1) return undefined;
        mgfHash = HASH_OIDS[readOid(mgf.next(Tag.SEQUENCE).iterate().next(Tag.OID))] ?? '';
      } else if (p.isContext(2)) {
        // A non-empty label is not something any CMS producer uses; refuse rather than mis-decrypt.
        const ps = p.iterate().next(Tag.SEQUENCE).iterate();
        if (readOid(ps.next(Tag.OID)) !== OID.pSpecified) return undefined;
        const label = ps.optional(Tag.OCTET_STRING);
        if (label && label.content.length > 0) return undefined;
      }
    }
  }
  if (hash === '' || mgfHash === '') return undefined;
  return { kind: 'oaep', hash, mgfHash };
}

function parse(der: Uint8Array): Parsed {
  const root = parseDer(der, { allowIndefinite: true });
  if (root.tag !== Tag.SEQUENCE) throw invalidCms('not a CMS ContentInfo');
  const top = root.iterate();
  let auth = false;
  let body: DerElement;
  const first = top.next(undefined, 'contentType');
  if (first.tag === Tag.INTEGER) {
    // A bare EnvelopedData without the ContentInfo wrapper.
    body = root;
  } else {
    const type = readOid(first);
    if (type === OID.authEnvelopedData) auth = true;
    else if (type !== OID.envelopedData) throw invalidCms(`content type ${type} is not (Auth)EnvelopedData`);
    const wrapped = top.next(0xa0, 'content');
    body = wrapped.iterate().next(Tag.SEQUENCE, 'EnvelopedData');
  }
  const it = body.iterate();
  readSmallInt(it.next(Tag.INTEGER, 'version'));
  it.optional(0xa0); // originatorInfo
  const recipients: KeyTrans[] = [];
  for (const ri of it.next(Tag.SET, 'recipientInfos').children()) {
    // Only KeyTransRecipientInfo (an untagged SEQUENCE); agreement/KEK/password recipients are skipped.
    if (ri.tag !== Tag.SEQUENCE) continue;
    const r = ri.iterate();
    readSmallInt(r.next(Tag.INTEGER, 'version'));
    const rid = r.next(undefined, 'rid');
    if (rid.tag !== Tag.SEQUENCE && rid.tag !== 0x80) throw invalidCms('unknown recipient identifier');
    const alg = parseKeyTransport(r.next(Tag.SEQUENCE, 'keyEncryptionAlgorithm'));
    const encryptedKey = readOctets(r.next(undefined, 'encryptedKey'));
    recipients.push({ rid, alg, encryptedKey });
  }
  const eci = it.next(Tag.SEQUENCE, 'encryptedContentInfo').iterate();
  readOid(eci.next(Tag.OID, 'contentType'));
  const algId = eci.next(Tag.SEQUENCE, 'contentEncryptionAlgorithm').iterate();
  const cipherOid = readOid(algId.next(Tag.OID, 'algorithm'));
  const spec = CIPHER_BY_OID.get(cipherOid);
  if (spec === undefined || (spec.mode === 'gcm') !== auth) {
    throw new CryptoError(
      'UNSUPPORTED_ALGORITHM',
      `content encryption algorithm ${cipherOid} is not supported`,
    );
  }
  let iv: Uint8Array;
  let tagLength = 0;
  if (spec.mode === 'gcm') {
    const gcm = algId.next(Tag.SEQUENCE, 'GCMParameters').iterate();
    iv = readOctets(gcm.next(Tag.OCTET_STRING, 'nonce'));
    const icv = gcm.optional(Tag.INTEGER);
    tagLength = icv ? readSmallInt(icv) : 12;
    if (tagLength < 12 || tagLength > 16) throw invalidCms('unsupported GCM tag length');
    if (iv.length === 0 || iv.length > 64) throw invalidCms('bad GCM nonce');
  } else {
    iv = readOctets(algId.next(Tag.OCTET_STRING, 'IV'));
    if (iv.length !== spec.ivLength) throw invalidCms('IV has the wrong length');
  }
  const content = eci.optional(0x80) ?? eci.optional(0xa0);
  if (content === undefined) throw invalidCms('detached encrypted content is not supported');
  const ciphertext = readOctets(content, 0x80);
  const parsed: Parsed = { auth, recipients, spec, iv, tagLength, ciphertext };
  if (auth) {
    const attrs = it.optional(0xa1);
    if (attrs) {
      // The MAC covers the authenticated attributes DER-encoded as a SET (universal tag, not [1]).
      const aad = Uint8Array.from(attrs.raw);
      aad[0] = Tag.SET;
      parsed.aad = aad;
    }
    parsed.mac = readOctets(it.next(Tag.OCTET_STRING, 'mac'));
    if (parsed.mac.length !== tagLength) throw invalidCms('MAC length does not match the GCM parameters');
  }
  return parsed;
}

function ridMatches(rid: DerElement, cert: RecipientCertificate): boolean {
  const ids = certificateIds(cert);
  if (rid.tag === 0x80) {
    // Producers that name recipients by key identifier but got a certificate without the extension
    // use the RFC 5280 method-1 value (SHA-1 of the public key bits).
    return ids.ski !== undefined ? ids.ski.equals(rid.content) : ids.skiFromKey.equals(rid.content);
  }
  const parts = rid.iterate();
  const issuer = parts.next(Tag.SEQUENCE, 'issuer');
  const serial = parts.next(Tag.INTEGER, 'serialNumber');
  return ids.serial.equals(trimZeros(serial.content)) && ids.issuer.equals(issuer.raw);
}

/** Removes PKCS#7 padding; returns undefined when it is malformed (checked without early exit). */
function unpad(plain: Uint8Array, blockSize: number): Uint8Array | undefined {
  const n = plain.length;
  if (n === 0 || n % blockSize !== 0) return undefined;
  const pad = plain[n - 1] as number;
  let bad = (pad === 0 ? 1 : 0) | (pad > blockSize ? 1 : 0);
  for (let i = 1; i <= blockSize; i++) {
    const inPad = i <= pad ? 1 : 0;
    bad |= inPad & ((plain[n - i] as number) !== pad ? 1 : 0);
  }
  return bad ? undefined : plain.subarray(0, n - pad);
}

function decryptContent(p: Parsed, key: Uint8Array): Uint8Array | undefined {
  const { spec } = p;
  try {
    if (spec.nodeName === undefined) {
      // Single DES: ours, since the default OpenSSL provider has none.
      if (p.ciphertext.length === 0 || p.ciphertext.length % 8 !== 0) return undefined;
      return unpad(desCbcDecryptRaw(key, p.iv, p.ciphertext), 8);
    }
    if (spec.mode === 'gcm') {
      const d = createDecipheriv(spec.nodeName as 'aes-256-gcm', key, p.iv, { authTagLength: p.tagLength });
      d.setAuthTag(p.mac as Uint8Array);
      if (p.aad) d.setAAD(p.aad);
      const head = d.update(p.ciphertext);
      const tail = d.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    }
    // Padding is removed by `unpad` so that the whole plaintext comes from one update() call.
    const blockSize = p.iv.length;
    if (p.ciphertext.length === 0 || p.ciphertext.length % blockSize !== 0) return undefined;
    const d = createDecipheriv(spec.nodeName, key, p.iv).setAutoPadding(false);
    return unpad(d.update(p.ciphertext), blockSize);
  } catch {
    return undefined;
  }
}

function unwrapKey(
  kt: KeyTrans,
  alg: KeyTransportAlg,
  privateKey: KeyObject,
  keyLength: number,
): Uint8Array | undefined {
  if (alg.kind === 'pkcs1') return rsaPkcs1v15DecryptImplicit(privateKey, kt.encryptedKey, keyLength);
  if (alg.hash !== alg.mgfHash) {
    // node:crypto ties MGF1 to the OAEP hash; other combinations are decoded here.
    return rsaOaepDecryptMixed(privateKey, kt.encryptedKey, alg.hash, alg.mgfHash, keyLength);
  }
  const key = rsaOaepDecrypt(privateKey, kt.encryptedKey, alg.hash);
  return key !== undefined && key.length === keyLength ? key : undefined;
}

/**
 * Decrypts a CMS EnvelopedData (or AuthEnvelopedData with AES-GCM) addressed to one of `recipients`.
 *
 * Key transport: rsaEncryption (PKCS#1 v1.5, with implicit rejection) and RSAES-OAEP. Content:
 * AES-128/192/256-CBC, AES-GCM, DES-EDE3-CBC and single DES-CBC. Accepts DER, BER (indefinite
 * lengths, chunked content) or PEM.
 *
 * @throws CryptoError `NO_MATCHING_RECIPIENT` when no candidate is named by the message;
 *   `DECRYPT_FAILED` for every failure after that (wrong key, bad padding, tampered ciphertext or tag),
 *   always with the same message; `INVALID_CMS` / `UNSUPPORTED_ALGORITHM` for malformed or unsupported input.
 *
 * @example
 * ```ts
 * const { content, recipient } = await decryptCms(pkiEnvelope, {
 *   recipients: [
 *     { certificate: currentRaCert, privateKey: currentRaKey },
 *     { certificate: previousRaCert, privateKey: previousRaKey },
 *   ],
 * });
 * ```
 */
export async function decryptCms<C extends RecipientCertificate>(
  der: Uint8Array | string,
  opts: DecryptCmsOptions<C>,
): Promise<DecryptedCms<C>> {
  return decryptCmsSync(der, opts);
}

/**
 * Synchronous form of {@link decryptCms} (the work is CPU-bound either way), for callers on a hot
 * path that want to skip the promise.
 *
 * @example
 * ```ts
 * const { content } = decryptCmsSync(envelope, { recipients: [{ certificate, privateKey }] });
 * ```
 */
export function decryptCmsSync<C extends RecipientCertificate>(
  der: Uint8Array | string,
  opts: DecryptCmsOptions<C>,
): DecryptedCms<C> {
  if (!Array.isArray(opts?.recipients)) throw new TypeError('opts.recipients must be an array');
  let p: Parsed;
  try {
    p = parse(toDer(der, ['CMS', 'PKCS7']));
  } catch (e) {
    if (e instanceof CryptoError && e.code !== 'INVALID_DER') throw e;
    throw invalidCms('malformed CMS EnvelopedData', e);
  }
  if (opts.allowedCiphers !== undefined && !opts.allowedCiphers.includes(p.spec.name)) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `content cipher ${p.spec.name} is not allowed`);
  }
  let matched = false;
  for (const kt of p.recipients) {
    for (const candidate of opts.recipients) {
      let hit: boolean;
      try {
        hit = ridMatches(kt.rid, candidate.certificate);
      } catch (e) {
        if (e instanceof CryptoError && e.code !== 'INVALID_DER') throw e;
        throw invalidCms('malformed recipient identifier', e);
      }
      if (!hit) continue;
      matched = true;
      if (kt.alg === undefined) {
        throw new CryptoError('UNSUPPORTED_ALGORITHM', 'key encryption algorithm is not supported');
      }
      const key = candidate.privateKey;
      if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
        throw new CryptoError('INVALID_KEY', 'key transport recipients need an RSA private key');
      }
      const cek = unwrapKey(kt, kt.alg, key, p.spec.keyLength);
      if (cek === undefined) continue;
      const content = decryptContent(p, cek);
      cek.fill(0);
      if (content !== undefined) return { content, cipher: p.spec.name, recipient: candidate.certificate };
    }
  }
  if (!matched)
    throw new CryptoError('NO_MATCHING_RECIPIENT', 'no candidate key is a recipient of this message');
  throw decryptFailed();
}
