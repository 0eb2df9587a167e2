import { createHash, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type Certificate,
  KEY_USAGE_NAMES,
  type KeyUsageName,
  parseCertificate,
  type SubjectAltNames,
} from './certificate';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derIa5String,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derTime,
  derTlv,
  parseDer,
  readBitString,
} from './der';
import { CryptoError } from './errors';
import { generateKeyPair, type KeyPair, keysMatch } from './keys';
import { encodeName, type NameInput } from './name';
import { EKU_BY_NAME, type HashName, OID } from './oids';
import { checkHash, isSigner, keyFamily, type Signer, signatureAlgorithmFor, signData } from './signer';

/** An extension given as OID + DER value. */
export interface ExtensionInput {
  oid: string;
  critical?: boolean;
  /** The DER encoding of the extension value (what goes inside extnValue). */
  value: Uint8Array;
}

/** Options of {@link issueCertificate}. */
export interface IssueCertificateOptions {
  subject: NameInput;
  /** The subject's public key. */
  publicKey: KeyObject;
  /** The issuing CA certificate; omit for a self-signed certificate (then `issuerKey` signs itself). */
  issuer?: Certificate;
  /** The issuer's private key, or a {@link Signer} for keys held in a KMS/HSM. */
  issuerKey: KeyObject | Signer;
  /** Lowercase or uppercase hex; default 16 random bytes, positive. */
  serialNumber?: string;
  /** Default: one minute ago (tolerates small clock skew on devices). */
  notBefore?: Date;
  notAfter?: Date;
  /** Used when `notAfter` is absent; default 365. */
  validityDays?: number;
  isCA?: boolean;
  pathLength?: number;
  /** Default for CAs: keyCertSign, cRLSign, digitalSignature; none for leaves. */
  keyUsage?: KeyUsageName[];
  /** Names (`clientAuth`, `serverAuth`, `codeSigning`, `emailProtection`, …) or OIDs. */
  extendedKeyUsage?: string[];
  subjectAltNames?: SubjectAltNames;
  /** Added as given; an extension with the OID of a built-in one replaces it. */
  extraExtensions?: ExtensionInput[];
  /** Default sha256 (sha384 for P-384 issuers). */
  hash?: HashName;
}

/**
 * 16 random bytes with the top bit cleared: positive, and unpredictable as CAs should make them.
 *
 * @example
 * ```ts
 * randomSerialNumber(); // e.g. '5f3c…' (32 hex digits)
 * ```
 */
export function randomSerialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

function ipBytes(ip: string): Uint8Array {
  const v = isIP(ip);
  if (v === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (v === 6) {
    let s = ip;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (v4) {
      const p = v4[1]!.split('.').map(Number);
      s = `${s.slice(0, -v4[1]!.length)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
    }
    const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      const n = Number.parseInt(g, 16);
      out[i * 2] = n >> 8;
      out[i * 2 + 1] = n & 0xff;
    });
    return out;
  }
  throw new CryptoError('INVALID_CERTIFICATE', `not an IP address: ${ip.slice(0, 60)}`);
}

/** DER GeneralNames for subject alternative names. @internal */
export function encodeGeneralNames(san: SubjectAltNames): Uint8Array {
  const items: Uint8Array[] = [];
  const ascii = (tag: number, s: string) => {
    const enc = derIa5String(s);
    return derTlv(tag, enc.subarray(enc.length - s.length));
  };
  for (const d of san.dns ?? []) items.push(ascii(0x82, d));
  for (const e of san.email ?? []) items.push(ascii(0x81, e));
  for (const u of san.uri ?? []) items.push(ascii(0x86, u));
  for (const ip of san.ip ?? []) items.push(derTlv(0x87, ipBytes(ip)));
  return derSequence(items);
}

/** DER KeyUsage BIT STRING. @internal */
export function encodeKeyUsage(names: readonly KeyUsageName[]): Uint8Array {
  const bits = new Uint8Array(2);
  let last = -1;
  for (const n of names) {
    const i = KEY_USAGE_NAMES.indexOf(n);
    if (i < 0) throw new CryptoError('INVALID_CERTIFICATE', `unknown key usage ${String(n).slice(0, 40)}`);
    bits[i >> 3]! |= 0x80 >> (i & 7);
    last = Math.max(last, i);
  }
  if (last < 0) throw new CryptoError('INVALID_CERTIFICATE', 'empty key usage');
  const len = (last >> 3) + 1;
  // DER: drop trailing zero bits and count them as unused.
  let unused = 0;
  const lastByte = bits[len - 1]!;
  while (unused < 7 && (lastByte & (1 << unused)) === 0) unused++;
  return derBitString(bits.subarray(0, len), unused);
}

/** EKU names or OIDs → OIDs. @internal */
export function ekuOids(list: readonly string[]): string[] {
  return list.map((e) => {
    const oid = EKU_BY_NAME[e] ?? e;
    if (!/^\d+(\.\d+)+$/.test(oid))
      throw new CryptoError('INVALID_CERTIFICATE', `unknown EKU ${e.slice(0, 40)}`);
    return oid;
  });
}

/** SHA-1 of the subjectPublicKey bits (RFC 5280 method 1). @internal */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  const bitString = parseDer(spki).children()[1]!;
  return new Uint8Array(createHash('sha1').update(readBitString(bitString).bytes).digest());
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return derSequence([derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value)]);
}

function publicKeyOf(k: KeyObject | Signer): KeyObject {
  if (isSigner(k)) return k.publicKey;
  return createPublicKey(k);
}

/**
 * Issues an X.509 v3 certificate signed by `issuerKey` (a local key or a {@link Signer}).
 *
 * @example
 * ```ts
 * const ca = await createSelfSignedCa({ subject: 'CN=Example MDM CA,O=Example' });
 * const device = await generateKeyPair({ type: 'ec', curve: 'P-256' });
 * const cert = await issueCertificate({
 *   subject: { CN: 'device-1234' },
 *   publicKey: device.publicKey,
 *   issuer: ca.certificate,
 *   issuerKey: ca.privateKey,
 *   extendedKeyUsage: ['clientAuth'],
 *   keyUsage: ['digitalSignature'],
 *   validityDays: 365,
 * });
 * ```
 */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<Certificate> {
  const hashDefault: HashName = (() => {
    const pub = publicKeyOf(opts.issuerKey);
    return pub.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  })();
  const hash = checkHash(opts.hash, hashDefault);
  if (opts.issuer && !isSigner(opts.issuerKey) && !keysMatch(opts.issuerKey, opts.issuer.publicKey)) {
    throw new CryptoError('KEY_MISMATCH', 'issuerKey does not belong to the issuer certificate');
  }
  if (opts.issuer && !opts.issuer.isCA)
    throw new CryptoError('INVALID_CERTIFICATE', 'the issuer is not a CA');
  keyFamily(opts.publicKey.type === 'private' ? createPublicKey(opts.publicKey) : opts.publicKey);
  const alg = signatureAlgorithmFor(opts.issuerKey, hash);

  const serialHex = (opts.serialNumber ?? randomSerialNumber()).toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(serialHex)) {
    throw new CryptoError('INVALID_CERTIFICATE', 'serialNumber must be 1–40 hex digits (at most 20 bytes)');
  }
  const serialBytes = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  const notBefore = opts.notBefore ?? new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + (opts.validityDays ?? 365) * 86_400_000);
  if (!(notAfter.getTime() > notBefore.getTime()))
    throw new CryptoError('INVALID_CERTIFICATE', 'notAfter must follow notBefore');

  const pub = opts.publicKey.type === 'private' ? createPublicKey(opts.publicKey) : opts.publicKey;
  const spki = new Uint8Array(pub.export({ type: 'spki', format: 'der' }));
  const subjectDer = encodeName(opts.subject);
  const issuerNameDer = opts.issuer ? opts.issuer.subject.der : subjectDer;
  const ski = keyIdentifier(spki);
  let aki: Uint8Array;
  if (opts.issuer) {
    aki = opts.issuer.subjectKeyIdentifier
      ? Buffer.from(opts.issuer.subjectKeyIdentifier, 'hex')
      : keyIdentifier(opts.issuer.spki);
  } else {
    aki = ski;
  }

  const exts = new Map<string, Uint8Array>();
  const isCA = opts.isCA ?? false;
  exts.set(
    OID.basicConstraints,
    extension(
      OID.basicConstraints,
      true,
      derSequence(
        isCA
          ? [derBoolean(true), ...(opts.pathLength !== undefined ? [derInteger(opts.pathLength)] : [])]
          : [],
      ),
    ),
  );
  const ku =
    opts.keyUsage ?? (isCA ? (['digitalSignature', 'keyCertSign', 'cRLSign'] as KeyUsageName[]) : undefined);
  if (ku) exts.set(OID.keyUsage, extension(OID.keyUsage, true, encodeKeyUsage(ku)));
  if (opts.extendedKeyUsage?.length) {
    exts.set(
      OID.extKeyUsage,
      extension(OID.extKeyUsage, false, derSequence(ekuOids(opts.extendedKeyUsage).map((o) => derOid(o)))),
    );
  }
  exts.set(OID.subjectKeyIdentifier, extension(OID.subjectKeyIdentifier, false, derOctetString(ski)));
  exts.set(
    OID.authorityKeyIdentifier,
    extension(OID.authorityKeyIdentifier, false, derSequence([derTlv(0x80, aki)])),
  );
  const san = opts.subjectAltNames;
  if (san && (san.dns?.length || san.ip?.length || san.email?.length || san.uri?.length)) {
    // RFC 5280: SAN is critical when the subject is empty.
    const emptySubject = subjectDer.length === 2;
    exts.set(OID.subjectAltName, extension(OID.subjectAltName, emptySubject, encodeGeneralNames(san)));
  }
  for (const x of opts.extraExtensions ?? []) {
    if (!(x.value instanceof Uint8Array))
      throw new CryptoError('INVALID_CERTIFICATE', `extension ${x.oid} needs a value`);
    exts.set(x.oid, extension(x.oid, x.critical ?? false, x.value));
  }

  const tbs = derSequence([
    derExplicit(0, derInteger(2)),
    derInteger(serialBytes),
    alg.der,
    issuerNameDer,
    derSequence([derTime(notBefore), derTime(notAfter)]),
    subjectDer,
    spki,
    derExplicit(3, derSequence([...exts.values()])),
  ]);
  const signature = await signData(opts.issuerKey, tbs, hash);
  const der = derSequence([tbs, alg.der, derBitString(signature)]);
  return parseCertificate(der);
}

/** Options of {@link createSelfSignedCa}. */
export interface SelfSignedCaOptions {
  subject: NameInput;
  /** Default: a new RSA-2048 key pair (SCEP clients encrypt to the CA key, so RSA is the safe choice). */
  key?: KeyPair;
  /** Default 3650. */
  validityDays?: number;
  pathLength?: number;
  hash?: HashName;
}

/**
 * Creates a self-signed CA certificate (and its key when none is given).
 *
 * @example
 * ```ts
 * const { certificate, privateKey } = await createSelfSignedCa({ subject: 'CN=Example SCEP CA,O=Example' });
 * fs.writeFileSync('ca.pem', certificate.pem);
 * ```
 */
export async function createSelfSignedCa(
  opts: SelfSignedCaOptions,
): Promise<{ certificate: Certificate; privateKey: KeyObject }> {
  const key = opts.key ?? (await generateKeyPair({ type: 'rsa', bits: 2048 }));
  const certificate = await issueCertificate({
    subject: opts.subject,
    publicKey: key.publicKey,
    issuerKey: key.privateKey,
    isCA: true,
    validityDays: opts.validityDays ?? 3650,
    ...(opts.pathLength !== undefined && { pathLength: opts.pathLength }),
    ...(opts.hash && { hash: opts.hash }),
  });
  return { certificate, privateKey: key.privateKey };
}
