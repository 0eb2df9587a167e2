import { createHash, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type Certificate,
  KEY_USAGE_NAMES,
  type KeyUsageName,
  parseCertificate,
  type SubjectAltNames,
} from './certificate';
import { BitString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate as CertificateSchema,
  ExtendedKeyUsage,
  Extensions,
  GeneralName,
  GeneralNames,
  KeyIdentifier,
  Name,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { parseAsn1, serializeAsn1, toArrayBuffer } from './asn1';
import { extensionSchema } from './csr';
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

/** Dotted quad or eight uncompressed hex groups: forms every IP text reader takes alike. */
function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** DER GeneralNames for subject alternative names. @internal */
export function encodeGeneralNames(san: SubjectAltNames): Uint8Array {
  const ascii = (s: string) => {
    if (!/^[\x00-\x7f]*$/.test(s))
      throw new CryptoError('INVALID_CERTIFICATE', 'IA5String value must be ASCII');
    return s;
  };
  const names = [
    ...(san.dns ?? []).map((d) => new GeneralName({ dNSName: ascii(d) })),
    ...(san.email ?? []).map((e) => new GeneralName({ rfc822Name: ascii(e) })),
    ...(san.uri ?? []).map((u) => new GeneralName({ uniformResourceIdentifier: ascii(u) })),
    // The schema's IP converter takes text; our own bytes decide what text is an address.
    ...(san.ip ?? []).map((ip) => new GeneralName({ iPAddress: ipText(ipBytes(ip)) })),
  ];
  return serializeAsn1(new GeneralNames(names), 'INVALID_CERTIFICATE');
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
  return serializeAsn1(new BitString(toArrayBuffer(bits.subarray(0, len)), unused));
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
  const info = parseAsn1(spki, SubjectPublicKeyInfo, 'INVALID_KEY', 'public key');
  return new Uint8Array(createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest());
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
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
  const even = (serialHex.length % 2 ? `0${serialHex}` : serialHex).replace(/^(00)+(?=..)/, '');
  // A positive INTEGER: the schema keeps the bytes as given, so add the 00 a set top bit needs.
  const serialBytes = Buffer.from(
    `${Number.parseInt(even.slice(0, 2), 16) & 0x80 ? '00' : ''}${even}`,
    'hex',
  );
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

  const exts = new Map<string, ReturnType<typeof extensionSchema>>();
  const add = (oid: string, critical: boolean, value: Uint8Array) =>
    exts.set(oid, extensionSchema(oid, critical, value));
  const isCA = opts.isCA ?? false;
  add(
    OID.basicConstraints,
    true,
    serializeAsn1(
      new BasicConstraints({
        cA: isCA,
        ...(isCA && opts.pathLength !== undefined && { pathLenConstraint: opts.pathLength }),
      }),
      'INVALID_CERTIFICATE',
    ),
  );
  const ku =
    opts.keyUsage ?? (isCA ? (['digitalSignature', 'keyCertSign', 'cRLSign'] as KeyUsageName[]) : undefined);
  if (ku) add(OID.keyUsage, true, encodeKeyUsage(ku));
  if (opts.extendedKeyUsage?.length) {
    add(OID.extKeyUsage, false, serializeAsn1(new ExtendedKeyUsage(ekuOids(opts.extendedKeyUsage))));
  }
  add(
    OID.subjectKeyIdentifier,
    false,
    serializeAsn1(new SubjectKeyIdentifier(toArrayBuffer(ski)), 'INVALID_CERTIFICATE'),
  );
  add(
    OID.authorityKeyIdentifier,
    false,
    serializeAsn1(
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(toArrayBuffer(aki)) }),
      'INVALID_CERTIFICATE',
    ),
  );
  const san = opts.subjectAltNames;
  if (san && (san.dns?.length || san.ip?.length || san.email?.length || san.uri?.length)) {
    // RFC 5280: SAN is critical when the subject is empty.
    const emptySubject = subjectDer.length === 2;
    add(OID.subjectAltName, emptySubject, encodeGeneralNames(san));
  }
  for (const x of opts.extraExtensions ?? []) {
    if (!(x.value instanceof Uint8Array))
      throw new CryptoError('INVALID_CERTIFICATE', `extension ${x.oid} needs a value`);
    add(x.oid, x.critical ?? false, x.value);
  }

  const name = (der: Uint8Array) => parseAsn1(der, Name, 'INVALID_CERTIFICATE', 'name');
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serialBytes),
    signature: alg.schema,
    issuer: name(issuerNameDer),
    // RFC 5280 §4.1.2.5: whole seconds; UTCTime through 2049, GeneralizedTime after.
    validity: new Validity({ notBefore: wholeSeconds(notBefore), notAfter: wholeSeconds(notAfter) }),
    subject: name(subjectDer),
    subjectPublicKeyInfo: parseAsn1(spki, SubjectPublicKeyInfo, 'INVALID_KEY', 'public key'),
    extensions: new Extensions([...exts.values()]),
  });
  const tbsDer = serializeAsn1(tbs, 'INVALID_CERTIFICATE');
  const signature = await signData(opts.issuerKey, tbsDer, hash);
  const der = serializeAsn1(
    new CertificateSchema({
      tbsCertificate: tbs,
      signatureAlgorithm: alg.schema,
      signatureValue: toArrayBuffer(signature),
    }),
    'INVALID_CERTIFICATE',
  );
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
