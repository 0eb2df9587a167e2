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
import { ContentInfo, EncryptedContent, EncryptedContentInfo } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS8ShroudedKeyBag,
  PKCS12Attribute,
  SafeBag,
  SafeContents,
} from '@peculiar/asn1-pfx';
import { EncryptedData } from '@peculiar/asn1-pkcs8';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, DirectoryString } from '@peculiar/asn1-x509';
import { parseAsn1, serializeAsn1 } from './asn1';
import { type Certificate, parseCertificate } from './certificate';
import { parseDer, readOctets } from './der';
import { CryptoError } from './errors';
import { Pbes2Params, Pbkdf2Params, Pkcs7EncryptedData, Pkcs12PbeParams } from './pkcs12-schema';
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
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ITERATIONS)
    throw new CryptoError('LIMIT_EXCEEDED', `iteration count ${n} out of range`);
  return n;
}

function stripPkcs7Padding(plain: Buffer, blockSize: number): Buffer {
  const pad = plain[plain.length - 1] ?? 0;
  if (plain.length === 0 || pad === 0 || pad > blockSize) throw badPassword();
  for (let i = 1; i <= pad; i++) if (plain[plain.length - i] !== pad) throw badPassword();
  return plain.subarray(0, plain.length - pad);
}

/** Parses a PKCS#12 part through the bounded gate; BER is accepted, as PKCS#12 producers stream. */
function parsePart<T>(bytes: ArrayBuffer | Uint8Array, type: new () => T, what: string): T {
  return parseAsn1(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), type, 'INVALID_PKCS12', what);
}

/** The contents of an OCTET STRING given as its whole encoding, primitive or chunked (BER). */
function octetStringContents(encoding: ArrayBuffer): Uint8Array {
  return readOctets(parseDer(new Uint8Array(encoding), { allowIndefinite: true }));
}

function parametersOf<T>(alg: AlgorithmIdentifier, type: new () => T, what: string): T {
  if (!alg.parameters) throw invalid(`${what} are missing`);
  return parsePart(alg.parameters, type, what);
}

/** A password-based decryption read from its algorithm identifier, not yet run. */
interface PbeScheme {
  /** Key-derivation iterations the decryption will spend. */
  iterations: number;
  decrypt(data: Uint8Array, password: string): Buffer;
}

/** Reads a PKCS#12 PBE or PBES2 algorithm identifier; nothing is derived until `decrypt`. */
function pbeScheme(alg: AlgorithmIdentifier): PbeScheme {
  const oid = alg.algorithm;
  if (oid === P12.pbes2) {
    const params = parametersOf(alg, Pbes2Params, 'PBES2 parameters');
    if (params.keyDerivationFunc.algorithm !== P12.pbkdf2)
      throw new CryptoError('UNSUPPORTED_ALGORITHM', 'PBES2 KDF is not PBKDF2');
    const kp = parametersOf(params.keyDerivationFunc, Pbkdf2Params, 'PBKDF2 parameters');
    const salt = new Uint8Array(kp.salt.buffer);
    const iterations = checkIterations(kp.iterationCount);
    const prf = kp.prf ? PRFS[kp.prf.algorithm] : 'sha1';
    if (prf === undefined) throw new CryptoError('UNSUPPORTED_ALGORITHM', 'PBKDF2 PRF is not supported');
    const encOid = params.encryptionScheme.algorithm;
    const cipher = PBES2_CIPHERS[encOid];
    if (cipher === undefined)
      throw new CryptoError('UNSUPPORTED_ALGORITHM', `PBES2 cipher ${encOid} is not supported`);
    const iv = new Uint8Array(parametersOf(params.encryptionScheme, OctetString, 'PBES2 IV').buffer);
    if (iv.length !== cipher.ivLength) throw invalid('PBES2 IV has the wrong length');
    if (kp.keyLength !== undefined && kp.keyLength !== cipher.keyLength)
      throw invalid('PBES2 key length mismatch');
    return {
      iterations,
      decrypt(data, password) {
        const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf);
        try {
          const d = createDecipheriv(cipher.node, key, iv);
          return Buffer.concat([d.update(data), d.final()]);
        } catch {
          throw badPassword();
        }
      },
    };
  }
  if (!LEGACY_PBES.has(oid))
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `PKCS#12 encryption ${oid} is not supported`);
  const params = parametersOf(alg, Pkcs12PbeParams, 'PKCS#12 PBE parameters');
  const salt = new Uint8Array(params.salt.buffer);
  const iterations = checkIterations(params.iterations);
  return {
    iterations,
    decrypt(data, password) {
      const pw = bmpPassword(password);
      const derive = (id: 1 | 2, n: number) => pkcs12Kdf('sha1', 64, pw, salt, iterations, id, n);
      if (data.length === 0 || data.length % 8 !== 0) throw badPassword();
      if (oid === P12.pbeSha1Des3 || oid === P12.pbeSha1Des2) {
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
      const bits = oid === P12.pbeSha1Rc2_40 ? 40 : 128;
      const key = derive(1, bits / 8);
      const iv = derive(2, 8);
      return stripPkcs7Padding(Buffer.from(rc2CbcDecryptRaw(key, bits, iv, data)), 8);
    },
  };
}

/**
 * Key-derivation iterations one import may spend in all: the MAC, one encrypted safe and one key,
 * each at the largest count. Each part is limited on its own, but a file can hold many encrypted
 * parts, and every derivation runs on the caller's thread.
 */
const MAX_TOTAL_ITERATIONS = 3 * MAX_ITERATIONS;

/** What is left of {@link MAX_TOTAL_ITERATIONS} while one file is read. */
class IterationBudget {
  private left = MAX_TOTAL_ITERATIONS;
  spend(iterations: number): void {
    if (iterations > this.left)
      throw new CryptoError(
        'LIMIT_EXCEEDED',
        `PKCS#12 file asks for more than ${MAX_TOTAL_ITERATIONS} key-derivation iterations in all`,
      );
    this.left -= iterations;
  }
}

const LEGACY_PBES: ReadonlySet<string> = new Set([
  P12.pbeSha1Des3,
  P12.pbeSha1Des2,
  P12.pbeSha1Rc2_40,
  P12.pbeSha1Rc2_128,
]);

/** Result of {@link importPkcs12}. */
export interface Pkcs12Contents {
  /** The private key, when the file holds one. */
  privateKey?: KeyObject;
  /** The certificate that belongs to `privateKey` (or the first certificate when there is no key). */
  certificate?: Certificate;
  /** Every other certificate in the file, in file order. */
  chain: Certificate[];
  /**
   * Whether the file's integrity MAC was present and checked. `false` only when
   * {@link ImportPkcs12Options.allowMissingMac} let a file without one open: nothing then shows that
   * its unencrypted parts (often the certificates) are the ones its owner wrote.
   */
  macVerified: boolean;
}

/** Options of {@link importPkcs12}. */
export interface ImportPkcs12Options {
  /**
   * Open a file that has no MacData (`openssl pkcs12 -nomac`). Off by default: without a MAC anyone
   * who handles the file can swap its unencrypted bags unnoticed.
   */
  allowMissingMac?: boolean;
}

/** One ContentInfo of the authenticated safe: plain safe contents, or an encryption to run. */
type AuthSafePart = { bags: Uint8Array; scheme?: undefined } | { scheme: PbeScheme; ciphertext: Uint8Array };

interface Bag {
  oid: string;
  /** The whole encoding of the bag's value. */
  value: ArrayBuffer;
  localKeyId?: Buffer;
}

function readBags(safeContents: Uint8Array, out: Bag[], depth = 0): void {
  if (depth > 4) throw invalid('safe contents nested too deeply');
  for (const bag of parsePart(safeContents, SafeContents, 'PKCS#12 safe contents')) {
    let localKeyId: Buffer | undefined;
    for (const attr of bag.bagAttributes ?? []) {
      const v = attr.attrId === P12.localKeyId ? attr.attrValues[0] : undefined;
      if (v) localKeyId = Buffer.from(octetStringContents(v));
    }
    if (bag.bagId === P12.safeContentsBag) readBags(new Uint8Array(bag.bagValue), out, depth + 1);
    else out.push({ oid: bag.bagId, value: bag.bagValue, ...(localKeyId ? { localKeyId } : {}) });
  }
}

function verifyMac(macData: MacData, authSafe: Uint8Array, password: string): void {
  const hashOid = macData.mac.digestAlgorithm.algorithm;
  const expected = new Uint8Array(macData.mac.digest.buffer);
  const salt = new Uint8Array(macData.macSalt.buffer);
  const iterations = checkIterations(macData.iterations);
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
 * Verifies the integrity MAC before decrypting anything; a file without one is refused unless
 * `options.allowMissingMac` is set. The certificate returned with a private key is the one holding
 * that key's public key.
 *
 * @throws CryptoError `BAD_PASSWORD` (wrong password or corrupt data), `INVALID_PKCS12` (also: no
 *   MAC), `KEY_MISMATCH` (no certificate in the file belongs to the private key),
 *   `UNSUPPORTED_ALGORITHM` (e.g. public-key protected safes), `LIMIT_EXCEEDED`.
 *
 * @example
 * ```ts
 * const { privateKey, certificate } = importPkcs12(fs.readFileSync('push.p12'), 'password');
 * certificate?.subjectUid; // the APNs topic
 * ```
 */
export function importPkcs12(
  der: Uint8Array,
  password: string,
  options: ImportPkcs12Options = {},
): Pkcs12Contents {
  const bags: Bag[] = [];
  const budget = new IterationBudget();
  let macData: MacData | undefined;
  let macVerified = false;
  try {
    const pfx = parsePart(der, PFX, 'PKCS#12 file');
    if (pfx.version !== 3) throw invalid('PFX version is not 3');
    if (pfx.authSafe.contentType !== P12.data) {
      throw new CryptoError('UNSUPPORTED_ALGORITHM', 'public-key integrity mode is not supported');
    }
    const authSafe = octetStringContents(pfx.authSafe.content);
    // Whether MacData is there is read from the encoding itself (a third PFX element), never from the
    // schema object: an absent optional field and a present one the library filled oddly look alike.
    const macPresent = parseDer(der, { allowIndefinite: true }).children().length > 2;
    macData = macPresent ? pfx.macData : undefined;
    if (macPresent && !macData?.mac.digestAlgorithm.algorithm) throw invalid('PKCS#12 MacData is malformed');
    if (!macPresent && !options.allowMissingMac)
      throw invalid('PKCS#12 file has no integrity MAC (allowMissingMac opens it unchecked)');
    // Every part is read, and the work it asks for counted, before any key is derived.
    const parts = parsePart(authSafe, AuthenticatedSafe, 'PKCS#12 authenticated safe').map(
      (content): AuthSafePart => {
        if (content.contentType === P12.data) return { bags: octetStringContents(content.content) };
        if (content.contentType !== P12.encryptedData) {
          throw new CryptoError(
            'UNSUPPORTED_ALGORITHM',
            `PKCS#12 content type ${content.contentType} is not supported`,
          );
        }
        const eci = parsePart(
          content.content,
          Pkcs7EncryptedData,
          'PKCS#12 encrypted data',
        ).encryptedContentInfo;
        const enc = eci.encryptedContent;
        const ciphertext = enc?.value
          ? new Uint8Array(enc.value.buffer)
          : Buffer.concat((enc?.constructedValue ?? []).map((c) => new Uint8Array(c.buffer)));
        return { scheme: pbeScheme(eci.contentEncryptionAlgorithm), ciphertext };
      },
    );
    if (macData) budget.spend(checkIterations(macData.iterations));
    for (const part of parts) if (part.scheme) budget.spend(part.scheme.iterations);
    if (macData) {
      verifyMac(macData, authSafe, password);
      macVerified = true;
    }
    for (const part of parts) {
      if (!part.scheme) {
        readBags(part.bags, bags);
        continue;
      }
      const plain = part.scheme.decrypt(part.ciphertext, password);
      try {
        readBags(plain, bags);
      } catch (e) {
        // Without a MAC a wrong password shows up here, as garbage that does not parse.
        if (!macData) throw badPassword();
        throw e;
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
        privateKey = parsePrivateKey(new Uint8Array(bag.value));
        keyId = bag.localKeyId;
      } else if (bag.oid === P12.shroudedKeyBag && !privateKey) {
        const shrouded = parsePart(bag.value, PKCS8ShroudedKeyBag, 'PKCS#12 shrouded key bag');
        const enc = new Uint8Array(shrouded.encryptedData.buffer);
        const scheme = pbeScheme(shrouded.encryptionAlgorithm);
        budget.spend(scheme.iterations);
        privateKey = parsePrivateKey(scheme.decrypt(enc, password));
        keyId = bag.localKeyId;
      } else if (bag.oid === P12.certBag) {
        const certBag = parsePart(bag.value, CertBag, 'PKCS#12 certificate bag');
        if (certBag.certId !== P12.x509Certificate) continue;
        certs.push({
          cert: parseCertificate(octetStringContents(certBag.certValue)),
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
  if (privateKey && certs.length > 0) {
    // A localKeyId is only a label: the certificate handed back with the key must hold its public key.
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    const leafKey = leaf >= 0 ? (certs[leaf] as { cert: Certificate }).cert.publicKey : undefined;
    if (!leafKey || !Buffer.from(leafKey.export({ format: 'der', type: 'spki' })).equals(spki))
      throw new CryptoError('KEY_MISMATCH', 'no certificate in the PKCS#12 file belongs to its private key');
  }
  if (leaf < 0 && certs.length > 0) leaf = 0;
  const result: Pkcs12Contents = {
    chain: certs.filter((_, i) => i !== leaf).map((c) => c.cert),
    macVerified,
  };
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
): { alg: AlgorithmIdentifier; ciphertext: Buffer } {
  const salt = randomBytes(encryption === '3des' ? 8 : 16);
  if (encryption === '3des') {
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', 64, pw, salt, iterations, 1, 24);
    const iv = pkcs12Kdf('sha1', 64, pw, salt, iterations, 2, 8);
    const c = createCipheriv('des-ede3-cbc', key, iv);
    const params = Object.assign(new Pkcs12PbeParams(), { salt: new OctetString(salt), iterations });
    return {
      alg: new AlgorithmIdentifier({ algorithm: P12.pbeSha1Des3, parameters: AsnConvert.serialize(params) }),
      ciphertext: Buffer.concat([c.update(data), c.final()]),
    };
  }
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const kdfParams = Object.assign(new Pbkdf2Params(), {
    salt: new OctetString(salt),
    iterationCount: iterations,
    prf: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.2.9', parameters: null }),
  });
  const params = Object.assign(new Pbes2Params(), {
    keyDerivationFunc: new AlgorithmIdentifier({
      algorithm: P12.pbkdf2,
      parameters: AsnConvert.serialize(kdfParams),
    }),
    encryptionScheme: new AlgorithmIdentifier({
      algorithm: '2.16.840.1.101.3.4.1.42',
      parameters: AsnConvert.serialize(new OctetString(iv)),
    }),
  });
  return {
    alg: new AlgorithmIdentifier({ algorithm: P12.pbes2, parameters: AsnConvert.serialize(params) }),
    ciphertext: Buffer.concat([c.update(data), c.final()]),
  };
}

function attribute(attrId: string, value: object): PKCS12Attribute {
  // PKCS12Attribute's constructor drops its argument, so the fields are set afterwards.
  return Object.assign(new PKCS12Attribute(), { attrId, attrValues: [AsnConvert.serialize(value)] });
}

function bagAttributes(localKeyId: Uint8Array, friendlyName: string | undefined): PKCS12Attribute[] {
  const attrs: PKCS12Attribute[] = [];
  if (friendlyName !== undefined)
    attrs.push(attribute(P12.friendlyName, new DirectoryString({ bmpString: friendlyName })));
  attrs.push(attribute(P12.localKeyId, new OctetString(localKeyId)));
  return attrs;
}

/** A `data` ContentInfo carrying `bytes`. */
function dataContentInfo(bytes: Uint8Array): ContentInfo {
  return new ContentInfo({ contentType: P12.data, content: AsnConvert.serialize(new OctetString(bytes)) });
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

  const certBag = (cert: Certificate, leaf: boolean): SafeBag => {
    const value = new CertBag({
      certId: P12.x509Certificate,
      certValue: AsnConvert.serialize(new OctetString(cert.der)),
    });
    return new SafeBag({
      bagId: P12.certBag,
      bagValue: AsnConvert.serialize(value),
      ...(leaf ? { bagAttributes: bagAttributes(localKeyId, opts.friendlyName) } : {}),
    });
  };
  const certSafe = serializeAsn1(
    new SafeContents([certBag(opts.certificate, true), ...(opts.chain ?? []).map((c) => certBag(c, false))]),
  );
  const certEnc = pbeEncrypt(certSafe, opts.password, encryption, iterations);
  const encryptedCerts = new ContentInfo({
    contentType: P12.encryptedData,
    content: AsnConvert.serialize(
      Object.assign(new Pkcs7EncryptedData(), {
        encryptedContentInfo: new EncryptedContentInfo({
          contentType: P12.data,
          contentEncryptionAlgorithm: certEnc.alg,
          encryptedContent: new EncryptedContent({ value: new OctetString(certEnc.ciphertext) }),
        }),
      }),
    ),
  });

  const keyEnc = pbeEncrypt(pkcs8, opts.password, encryption, iterations);
  pkcs8.fill(0);
  const keyBag = new SafeBag({
    bagId: P12.shroudedKeyBag,
    bagValue: AsnConvert.serialize(
      new PKCS8ShroudedKeyBag({
        encryptionAlgorithm: keyEnc.alg,
        encryptedData: new EncryptedData(keyEnc.ciphertext),
      }),
    ),
    bagAttributes: bagAttributes(localKeyId, opts.friendlyName),
  });
  const authSafe = serializeAsn1(
    new AuthenticatedSafe([encryptedCerts, dataContentInfo(serializeAsn1(new SafeContents([keyBag])))]),
  );

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
  const macData = new MacData({
    mac: new DigestInfo({
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: macOid, parameters: null }),
      digest: new OctetString(mac),
    }),
    macSalt: new OctetString(macSalt),
    iterations,
  });
  return serializeAsn1(new PFX({ version: 3, authSafe: dataContentInfo(authSafe), macData }));
}
