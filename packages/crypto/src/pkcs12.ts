// PKCS#12 (RFC 7292) import and export. Import understands the files admins actually hold: PBES2 with
// AES (OpenSSL 3 default), and the legacy PKCS#12 PBEs with 3DES and RC2 (Keychain Access, Windows,
// `openssl pkcs12 -legacy`). RC2 and the PKCS#12 key derivation are ours since Node's default
// OpenSSL provider has no RC2 and no PKCS#12 KDF.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { type Certificate, parseCertificate } from './certificate';
import {
  type DerElement,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTlv,
  parseDer,
  readOctets,
  readOid,
  readSmallInt,
  Tag,
} from './der';
import { CryptoError } from './errors';
import { rc2CbcDecryptRaw } from './rc2';

const P12 = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbeSha1Rc2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',
  pbeSha1Des3: '1.2.840.113549.1.12.1.3',
  pbeSha1Des2: '1.2.840.113549.1.12.1.4',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const HASHES: Record<string, { name: string; v: number }> = {
  '1.3.14.3.2.26': { name: 'sha1', v: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', v: 128 },
};

const PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const PBES2_CIPHERS: Record<string, { node: string; keyLength: number; ivLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { node: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  '2.16.840.1.101.3.4.1.22': { node: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  '2.16.840.1.101.3.4.1.42': { node: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  '1.2.840.113549.3.7': { node: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

/** Iteration counts above this are refused, so a hostile file cannot pin a CPU. */
const MAX_ITERATIONS = 1_000_000;

/** The password as the PKCS#12 KDF wants it: UTF-16BE with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 appendix B.2 key derivation (`id` 1 = key, 2 = IV, 3 = MAC key). */
export function pkcs12Kdf(
  hash: string,
  blockSize: number,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  id: 1 | 2 | 3,
  length: number,
): Buffer {
  const v = blockSize;
  const d = Buffer.alloc(v, id);
  const fill = (src: Uint8Array): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const i = Buffer.concat([fill(salt), fill(password)]);
  const out = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
    a.copy(out, filled, 0, Math.min(a.length, length - filled));
    filled += a.length;
    if (filled >= length) break;
    const b = Buffer.alloc(v);
    for (let j = 0; j < v; j++) b[j] = a[j % a.length] as number;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I.
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let j = v - 1; j >= 0; j--) {
        const s = (i[off + j] as number) + (b[j] as number) + carry;
        i[off + j] = s & 0xff;
        carry = s >>> 8;
      }
    }
  }
  return out;
}

function badPassword(): CryptoError {
  return new CryptoError('BAD_PASSWORD', 'PKCS#12 password is wrong or the file is corrupt');
}

function invalid(message: string, cause?: unknown): CryptoError {
  return new CryptoError('INVALID_PKCS12', message, cause === undefined ? undefined : { cause });
}

function checkIterations(n: number): number {
  if (n < 1 || n > MAX_ITERATIONS)
    throw new CryptoError('LIMIT_EXCEEDED', `iteration count ${n} out of range`);
  return n;
}

function stripPkcs7Padding(plain: Buffer, blockSize: number): Buffer {
  const pad = plain[plain.length - 1] ?? 0;
  if (plain.length === 0 || pad === 0 || pad > blockSize) throw badPassword();
  for (let i = 1; i <= pad; i++) if (plain[plain.length - i] !== pad) throw badPassword();
  return plain.subarray(0, plain.length - pad);
}

/** Decrypts with a PKCS#12 PBE or PBES2 algorithm identifier. */
function pbeDecrypt(alg: DerElement, data: Uint8Array, password: string): Buffer {
  const it = alg.iterate();
  const oid = readOid(it.next(Tag.OID, 'algorithm'));
  const params = it.next(Tag.SEQUENCE, 'parameters').iterate();
  if (oid === P12.pbes2) {
    const kdf = params.next(Tag.SEQUENCE, 'keyDerivationFunc').iterate();
    if (readOid(kdf.next(Tag.OID)) !== P12.pbkdf2)
      throw new CryptoError('UNSUPPORTED_ALGORITHM', 'PBES2 KDF is not PBKDF2');
    const kp = kdf.next(Tag.SEQUENCE, 'PBKDF2-params').iterate();
    const salt = readOctets(kp.next(Tag.OCTET_STRING, 'salt'));
    const iterations = checkIterations(readSmallInt(kp.next(Tag.INTEGER, 'iterationCount')));
    const keyLenEl = kp.optional(Tag.INTEGER);
    const prfEl = kp.optional(Tag.SEQUENCE);
    const prf = prfEl ? PRFS[readOid(prfEl.iterate().next(Tag.OID))] : 'sha1';
    if (prf === undefined) throw new CryptoError('UNSUPPORTED_ALGORITHM', 'PBKDF2 PRF is not supported');
    const enc = params.next(Tag.SEQUENCE, 'encryptionScheme').iterate();
    const encOid = readOid(enc.next(Tag.OID));
    const cipher = PBES2_CIPHERS[encOid];
    if (cipher === undefined)
      throw new CryptoError('UNSUPPORTED_ALGORITHM', `PBES2 cipher ${encOid} is not supported`);
    const iv = readOctets(enc.next(Tag.OCTET_STRING, 'IV'));
    if (iv.length !== cipher.ivLength) throw invalid('PBES2 IV has the wrong length');
    if (keyLenEl && readSmallInt(keyLenEl) !== cipher.keyLength) throw invalid('PBES2 key length mismatch');
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf);
    try {
      const d = createDecipheriv(cipher.node, key, iv);
      return Buffer.concat([d.update(data), d.final()]);
    } catch {
      throw badPassword();
    }
  }
  const salt = readOctets(params.next(Tag.OCTET_STRING, 'salt'));
  const iterations = checkIterations(readSmallInt(params.next(Tag.INTEGER, 'iterations')));
  const pw = bmpPassword(password);
  const derive = (id: 1 | 2, n: number) => pkcs12Kdf('sha1', 64, pw, salt, iterations, id, n);
  if (data.length === 0 || data.length % 8 !== 0) throw badPassword();
  switch (oid) {
    case P12.pbeSha1Des3:
    case P12.pbeSha1Des2: {
      const two = oid === P12.pbeSha1Des2;
      const key = derive(1, two ? 16 : 24);
      const iv = derive(2, 8);
      try {
        const d = createDecipheriv(two ? 'des-ede-cbc' : 'des-ede3-cbc', key, iv);
        return Buffer.concat([d.update(data), d.final()]);
      } catch {
        throw badPassword();
      }
    }
    case P12.pbeSha1Rc2_40:
    case P12.pbeSha1Rc2_128: {
      const bits = oid === P12.pbeSha1Rc2_40 ? 40 : 128;
      const key = derive(1, bits / 8);
      const iv = derive(2, 8);
      return stripPkcs7Padding(Buffer.from(rc2CbcDecryptRaw(key, bits, iv, data)), 8);
    }
    default:
      throw new CryptoError('UNSUPPORTED_ALGORITHM', `PKCS#12 encryption ${oid} is not supported`);
  }
}

/** Result of {@link importPkcs12}. */
export interface Pkcs12Contents {
  /** The private key, when the file holds one. */
  privateKey?: KeyObject;
  /** The certificate that belongs to `privateKey` (or the first certificate when there is no key). */
  certificate?: Certificate;
  /** Every other certificate in the file, in file order. */
  chain: Certificate[];
}

interface Bag {
  oid: string;
  value: DerElement;
  localKeyId?: Buffer;
}

function readBags(safeContents: Uint8Array, out: Bag[], depth = 0): void {
  if (depth > 4) throw invalid('safe contents nested too deeply');
  for (const bag of parseDer(safeContents, { allowIndefinite: true }).children()) {
    const it = bag.iterate();
    const oid = readOid(it.next(Tag.OID, 'bagId'));
    const value = it.next(0xa0, 'bagValue').iterate().next(undefined, 'bag value');
    const attrs = it.optional(Tag.SET);
    let localKeyId: Buffer | undefined;
    for (const attr of attrs?.children() ?? []) {
      const a = attr.iterate();
      if (readOid(a.next(Tag.OID)) === P12.localKeyId) {
        const v = a.next(Tag.SET).children()[0];
        if (v) localKeyId = Buffer.from(readOctets(v));
      }
    }
    if (oid === P12.safeContentsBag) readBags(value.raw, out, depth + 1);
    else out.push({ oid, value, ...(localKeyId ? { localKeyId } : {}) });
  }
}

function verifyMac(macData: DerElement, authSafe: Uint8Array, password: string): void {
  const it = macData.iterate();
  const digestInfo = it.next(Tag.SEQUENCE, 'mac').iterate();
  const hashOid = readOid(digestInfo.next(Tag.SEQUENCE, 'digestAlgorithm').iterate().next(Tag.OID));
  const expected = readOctets(digestInfo.next(Tag.OCTET_STRING, 'digest'));
  const salt = readOctets(it.next(Tag.OCTET_STRING, 'macSalt'));
  const iterEl = it.optional(Tag.INTEGER);
  const iterations = iterEl ? checkIterations(readSmallInt(iterEl)) : 1;
  const hash = HASHES[hashOid];
  if (hash === undefined)
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `PKCS#12 MAC hash ${hashOid} is not supported`);
  const digestLength = createHash(hash.name).digest().length;
  // An empty password is encoded as just the terminator by most producers; some omit it entirely.
  const candidates = password === '' ? [bmpPassword(''), Buffer.alloc(0)] : [bmpPassword(password)];
  for (const pw of candidates) {
    const key = pkcs12Kdf(hash.name, hash.v, pw, salt, iterations, 3, digestLength);
    const mac = createHmac(hash.name, key).update(authSafe).digest();
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return;
  }
  throw badPassword();
}

function parsePrivateKey(pkcs8: Uint8Array): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new CryptoError('BAD_PASSWORD', 'PKCS#12 password is wrong or the file is corrupt', { cause: e });
  }
}

/**
 * Reads a PKCS#12 (.p12/.pfx) file: the private key, its certificate and any other certificates.
 * Verifies the integrity MAC (when present) before decrypting anything.
 *
 * @throws CryptoError `BAD_PASSWORD` (wrong password or corrupt data), `INVALID_PKCS12`,
 *   `UNSUPPORTED_ALGORITHM` (e.g. public-key protected safes), `LIMIT_EXCEEDED`.
 *
 * @example
 * ```ts
 * const { privateKey, certificate } = importPkcs12(fs.readFileSync('push.p12'), 'password');
 * certificate?.subjectUid; // the APNs topic
 * ```
 */
export function importPkcs12(der: Uint8Array, password: string): Pkcs12Contents {
  const bags: Bag[] = [];
  try {
    const it = parseDer(der, { allowIndefinite: true }).iterate();
    if (readSmallInt(it.next(Tag.INTEGER, 'version')) !== 3) throw invalid('PFX version is not 3');
    const ci = it.next(Tag.SEQUENCE, 'authSafe').iterate();
    if (readOid(ci.next(Tag.OID)) !== P12.data) {
      throw new CryptoError('UNSUPPORTED_ALGORITHM', 'public-key integrity mode is not supported');
    }
    const authSafe = readOctets(ci.next(0xa0, 'content').iterate().next(undefined, 'authSafe data'));
    const macData = it.optional(Tag.SEQUENCE);
    if (macData) verifyMac(macData, authSafe, password);
    for (const content of parseDer(authSafe, { allowIndefinite: true }).children()) {
      const c = content.iterate();
      const type = readOid(c.next(Tag.OID, 'contentType'));
      const body = c.next(0xa0, 'content').iterate().next(undefined, 'content');
      if (type === P12.data) {
        readBags(readOctets(body), bags);
      } else if (type === P12.encryptedData) {
        const ed = body.iterate();
        readSmallInt(ed.next(Tag.INTEGER, 'version'));
        const eci = ed.next(Tag.SEQUENCE, 'encryptedContentInfo').iterate();
        eci.next(Tag.OID, 'contentType');
        const alg = eci.next(Tag.SEQUENCE, 'contentEncryptionAlgorithm');
        const enc = readOctets(eci.next(undefined, 'encryptedContent'), 0x80);
        const plain = pbeDecrypt(alg, enc, password);
        try {
          readBags(plain, bags);
        } catch (e) {
          // Without a MAC a wrong password shows up here, as garbage that does not parse.
          if (!macData) throw badPassword();
          throw e;
        }
      } else {
        throw new CryptoError('UNSUPPORTED_ALGORITHM', `PKCS#12 content type ${type} is not supported`);
      }
    }
  } catch (e) {
    if (e instanceof CryptoError && e.code !== 'INVALID_DER') throw e;
    throw invalid('malformed PKCS#12 file', e);
  }

  let privateKey: KeyObject | undefined;
  let keyId: Buffer | undefined;
  const certs: { cert: Certificate; localKeyId?: Buffer }[] = [];
  for (const bag of bags) {
    try {
      if (bag.oid === P12.keyBag && !privateKey) {
        privateKey = parsePrivateKey(bag.value.raw);
        keyId = bag.localKeyId;
      } else if (bag.oid === P12.shroudedKeyBag && !privateKey) {
        const it = bag.value.iterate();
        const alg = it.next(Tag.SEQUENCE, 'encryptionAlgorithm');
        const enc = readOctets(it.next(Tag.OCTET_STRING, 'encryptedData'));
        privateKey = parsePrivateKey(pbeDecrypt(alg, enc, password));
        keyId = bag.localKeyId;
      } else if (bag.oid === P12.certBag) {
        const it = bag.value.iterate();
        if (readOid(it.next(Tag.OID, 'certId')) !== P12.x509Certificate) continue;
        const certDer = readOctets(it.next(0xa0, 'certValue').iterate().next(undefined, 'certificate'));
        certs.push({
          cert: parseCertificate(certDer),
          ...(bag.localKeyId ? { localKeyId: bag.localKeyId } : {}),
        });
      }
    } catch (e) {
      if (e instanceof CryptoError && e.code !== 'INVALID_DER') throw e;
      throw invalid('malformed PKCS#12 bag', e);
    }
  }

  let leaf = -1;
  if (privateKey) {
    if (keyId) leaf = certs.findIndex((c) => c.localKeyId?.equals(keyId as Buffer) === true);
    if (leaf < 0) {
      const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
      leaf = certs.findIndex((c) =>
        Buffer.from(c.cert.publicKey.export({ format: 'der', type: 'spki' })).equals(spki),
      );
    }
  }
  if (leaf < 0 && certs.length > 0) leaf = 0;
  const result: Pkcs12Contents = { chain: certs.filter((_, i) => i !== leaf).map((c) => c.cert) };
  if (privateKey) result.privateKey = privateKey;
  if (leaf >= 0) result.certificate = (certs[leaf] as { cert: Certificate }).cert;
  return result;
}

/** Options of {@link exportPkcs12}. */
export interface ExportPkcs12Options {
  privateKey: KeyObject;
  /** The certificate of `privateKey`. */
  certificate: Certificate;
  /** Intermediate/root certificates to include. */
  chain?: readonly Certificate[];
  password: string;
  /**
   * `3des` (default): pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates with a SHA-1 MAC, which
   * Apple devices and older tools import. `aes-256`: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) with a
   * SHA-256 MAC, like OpenSSL 3.
   */
  encryption?: '3des' | 'aes-256';
  /** friendlyName attribute on the key and certificate. */
  friendlyName?: string;
  /** PBE and MAC iteration count; default 2048. */
  iterations?: number;
}

function pbeEncrypt(
  data: Uint8Array,
  password: string,
  encryption: '3des' | 'aes-256',
  iterations: number,
): { alg: Uint8Array; ciphertext: Buffer } {
  const salt = randomBytes(encryption === '3des' ? 8 : 16);
  if (encryption === '3des') {
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', 64, pw, salt, iterations, 1, 24);
    const iv = pkcs12Kdf('sha1', 64, pw, salt, iterations, 2, 8);
    const c = createCipheriv('des-ede3-cbc', key, iv);
    return {
      alg: derSequence([
        derOid(P12.pbeSha1Des3),
        derSequence([derOctetString(salt), derInteger(iterations)]),
      ]),
      ciphertext: Buffer.concat([c.update(data), c.final()]),
    };
  }
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const alg = derSequence([
    derOid(P12.pbes2),
    derSequence([
      derSequence([
        derOid(P12.pbkdf2),
        derSequence([
          derOctetString(salt),
          derInteger(iterations),
          derSequence([derOid('1.2.840.113549.2.9'), derNull()]),
        ]),
      ]),
      derSequence([derOid('2.16.840.1.101.3.4.1.42'), derOctetString(iv)]),
    ]),
  ]);
  return { alg, ciphertext: Buffer.concat([c.update(data), c.final()]) };
}

function bagAttributes(localKeyId: Uint8Array | undefined, friendlyName: string | undefined): Uint8Array[] {
  const attrs: Uint8Array[] = [];
  if (friendlyName !== undefined) {
    const bmp = bmpPassword(friendlyName).subarray(0, friendlyName.length * 2);
    attrs.push(derSequence([derOid(P12.friendlyName), derSet([derTlv(Tag.BMP_STRING, bmp)])]));
  }
  if (localKeyId) attrs.push(derSequence([derOid(P12.localKeyId), derSet([derOctetString(localKeyId)])]));
  return attrs.length ? [derSet(attrs)] : [];
}

function contentInfoData(bytes: Uint8Array): Uint8Array {
  return derSequence([derOid(P12.data), derTlv(0xa0, derOctetString(bytes))]);
}

/**
 * Writes a password-protected PKCS#12 file holding a private key, its certificate and a chain.
 *
 * @example
 * ```ts
 * const p12 = exportPkcs12({ privateKey, certificate, password: 'secret' }); // 3DES + SHA-1 MAC
 * const modern = exportPkcs12({ privateKey, certificate, password: 'secret', encryption: 'aes-256' });
 * ```
 */
export function exportPkcs12(opts: ExportPkcs12Options): Uint8Array {
  const encryption = opts.encryption ?? '3des';
  if (encryption !== '3des' && encryption !== 'aes-256') {
    throw new CryptoError(
      'UNSUPPORTED_ALGORITHM',
      `PKCS#12 encryption ${String(encryption)} is not supported`,
    );
  }
  const iterations = opts.iterations ?? 2048;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new CryptoError('LIMIT_EXCEEDED', 'iteration count out of range');
  }
  let pkcs8: Buffer;
  try {
    pkcs8 = opts.privateKey.export({ format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new CryptoError('INVALID_KEY', 'cannot export the private key', { cause: e });
  }
  const localKeyId = createHash('sha1').update(opts.certificate.der).digest();

  const certBag = (cert: Certificate, leaf: boolean) =>
    derSequence([
      derOid(P12.certBag),
      derTlv(0xa0, derSequence([derOid(P12.x509Certificate), derTlv(0xa0, derOctetString(cert.der))])),
      ...(leaf ? bagAttributes(localKeyId, opts.friendlyName) : []),
    ]);
  const certSafe = derSequence([
    certBag(opts.certificate, true),
    ...(opts.chain ?? []).map((c) => certBag(c, false)),
  ]);
  const certEnc = pbeEncrypt(certSafe, opts.password, encryption, iterations);
  const encryptedCerts = derSequence([
    derOid(P12.encryptedData),
    derTlv(
      0xa0,
      derSequence([
        derInteger(0),
        derSequence([derOid(P12.data), certEnc.alg, derTlv(0x80, certEnc.ciphertext)]),
      ]),
    ),
  ]);

  const keyEnc = pbeEncrypt(pkcs8, opts.password, encryption, iterations);
  pkcs8.fill(0);
  const keyBag = derSequence([
    derOid(P12.shroudedKeyBag),
    derTlv(0xa0, derSequence([keyEnc.alg, derOctetString(keyEnc.ciphertext)])),
    ...bagAttributes(localKeyId, opts.friendlyName),
  ]);
  const authSafe = derSequence([encryptedCerts, contentInfoData(derSequence([keyBag]))]);

  const macHash = encryption === '3des' ? 'sha1' : 'sha256';
  const macSalt = randomBytes(8);
  const macKey = pkcs12Kdf(
    macHash,
    64,
    bmpPassword(opts.password),
    macSalt,
    iterations,
    3,
    macHash === 'sha1' ? 20 : 32,
  );
  const mac = createHmac(macHash, macKey).update(authSafe).digest();
  const macOid = macHash === 'sha1' ? '1.3.14.3.2.26' : '2.16.840.1.101.3.4.2.1';
  const macData = derSequence([
    derSequence([derSequence([derOid(macOid), derNull()]), derOctetString(mac)]),
    derOctetString(macSalt),
    derInteger(iterations),
  ]);
  return derSequence([derInteger(3), contentInfoData(authSafe), macData]);
}
