import { createHash, type KeyObject } from 'node:crypto';
import {
  Attribute,
  type CertificateChoices,
  CertificateSet,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AsnObjectIdentifierConverter, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, type Name, Time } from '@peculiar/asn1-x509';
import { preEncoded, serializeAsn1, toArrayBuffer } from './asn1';
import { cachedCertificate } from './cert-cache';
import type { Certificate } from './certificate';
import { type DerElement, parseDer, readOctets, readOid, readSmallInt, readTime, Tag } from './der';
import { AttributeSet, contentInfoDer } from './cms-schema';
import { CryptoError } from './errors';
import { HASH_BY_OID, HASH_OID, type HashName, OID } from './oids';
import { looksLikePem, toDer } from './pem';
import { checkHash, isSigner, keyFamily, type Signer, signData, verifyData } from './signer';

/**
 * A CMS attribute; each value is a complete DER TLV (build single-valued ones with
 * `printableStringAttribute` / `octetStringAttribute`, read them with `readStringAttributeValue` /
 * `readOctetStringAttributeValue`).
 */
export interface CmsAttribute {
  oid: string;
  values: Uint8Array[];
}

/** Options of {@link signCms}. */
export interface SignCmsOptions {
  content: Uint8Array;
  /** The signer's certificate (identifies the signer and is included in the message). */
  certificate: Certificate;
  privateKey: KeyObject | Signer;
  /** Leave the content out of the message (the verifier supplies it). Default false. */
  detached?: boolean;
  /** Default sha256. */
  hash?: HashName;
  /** Added to contentType, messageDigest and signingTime (an attribute with one of those OIDs replaces it). */
  signedAttributes?: CmsAttribute[];
  /** More certificates to include (e.g. the issuing CA). */
  certificates?: Certificate[];
  /** eContentType OID; default id-data. */
  contentType?: string;
  /** signingTime value; default now. */
  signingTime?: Date;
}

/** The result of {@link verifyCms}. */
export interface VerifiedCms {
  /** The signed content (encapsulated, or the detached content given). */
  content: Uint8Array;
  /** The certificate whose key made the signature. Its chain is NOT checked: use verifyCertificateChain. */
  signer: Certificate;
  /** Every certificate in the message. */
  certificates: Certificate[];
  /** Signed attributes of the signer (empty when the signature covers the content directly). */
  signedAttributes: CmsAttribute[];
  /** Digest algorithm name, e.g. `sha256`. */
  hash: string;
  /** eContentType OID. */
  contentType: string;
  /** signingTime when present. */
  signingTime?: Date;
}

function algId(oid: string, withNull = false): AlgorithmIdentifier {
  return new AlgorithmIdentifier(withNull ? { algorithm: oid, parameters: null } : { algorithm: oid });
}

const byEncoding = (a: { der: Buffer }, b: { der: Buffer }) => Buffer.compare(a.der, b.der);

/** Attributes as schema values, each SET OF (values, and the attributes) in DER order. */
function schemaAttributes(attrs: readonly CmsAttribute[]): Attribute[] {
  const encoded = attrs.map((a) => {
    if (!a.values.length) throw new CryptoError('INVALID_CMS', `attribute ${a.oid} has no values`);
    const values = a.values.map((v) => Buffer.from(v)).sort(Buffer.compare);
    const attribute = new Attribute({ attrType: a.oid, attrValues: values.map((v) => toArrayBuffer(v)) });
    return { attribute, der: Buffer.from(serializeAsn1(attribute, 'INVALID_CMS')) };
  });
  return encoded.sort(byEncoding).map((e) => e.attribute);
}

/** SignedData in a ContentInfo; certificates go in as their own encodings. */
function signedDataContentInfo(signedData: SignedData, certs: readonly Certificate[]): Uint8Array {
  signedData.certificates = new CertificateSet(certs.map((c) => preEncoded<CertificateChoices>(c.der)));
  return contentInfoDer(OID.signedData, serializeAsn1(signedData, 'INVALID_CMS'));
}

/**
 * Signs `content` as CMS SignedData (RFC 5652) with signed attributes; returns the DER ContentInfo.
 * RSA keys sign with PKCS#1 v1.5, EC keys with ECDSA. The signer identifier is issuer + serial.
 *
 * @example
 * ```ts
 * // detached, as a device signs its check-in body (Mdm-Signature)
 * const der = await signCms({ content: body, certificate: identity, privateKey, detached: true });
 * const header = Buffer.from(der).toString('base64');
 *
 * // SCEP pkiMessage with custom attributes
 * await signCms({
 *   content: envelopedRequest,
 *   certificate: selfSigned,
 *   privateKey,
 *   signedAttributes: [printableStringAttribute('2.16.840.1.113733.1.9.2', '19')],
 * });
 * ```
 */
export async function signCms(opts: SignCmsOptions): Promise<Uint8Array> {
  const hash = checkHash(opts.hash);
  if (!(opts.content instanceof Uint8Array))
    throw new CryptoError('INVALID_CMS', 'content must be a Uint8Array');
  const family = keyFamily(
    isSigner(opts.privateKey) ? opts.privateKey.publicKey : opts.certificate.publicKey,
  );
  const contentType = opts.contentType ?? OID.data;
  const digest = createHash(hash).update(opts.content).digest();
  const builtIn: CmsAttribute[] = [
    {
      oid: OID.contentType,
      values: [new Uint8Array(AsnObjectIdentifierConverter.toASN(contentType).toBER())],
    },
    {
      oid: OID.signingTime,
      values: [serializeAsn1(new Time(opts.signingTime ?? new Date()), 'INVALID_CMS')],
    },
    { oid: OID.messageDigest, values: [serializeAsn1(new OctetString(digest), 'INVALID_CMS')] },
  ];
  const custom = opts.signedAttributes ?? [];
  const attrs = [...builtIn.filter((b) => !custom.some((c) => c.oid === b.oid)), ...custom];
  const signedAttrs = schemaAttributes(attrs);
  // The signature covers the attributes as a SET; the SignerInfo carries the same members under [0].
  const signature = await signData(
    opts.privateKey,
    serializeAsn1(new AttributeSet(signedAttrs), 'INVALID_CMS'),
    hash,
  );
  const sigAlg =
    family === 'rsa'
      ? algId(OID.rsaEncryption, true)
      : algId(
          {
            sha1: OID.ecdsaWithSHA1,
            sha256: OID.ecdsaWithSHA256,
            sha384: OID.ecdsaWithSHA384,
            sha512: OID.ecdsaWithSHA512,
          }[hash],
        );
  const cert = opts.certificate;
  const signerInfo = new SignerInfo({
    version: 1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: preEncoded<Name>(cert.issuer.der),
        serialNumber: toArrayBuffer(parseDer(cert.serialDer).content),
      }),
    }),
    digestAlgorithm: algId(HASH_OID[hash]),
    signedAttrs,
    signatureAlgorithm: sigAlg,
    signature: new OctetString(signature),
  });
  const certs = [
    cert,
    ...(opts.certificates ?? []).filter((c) => c.fingerprintSha256 !== cert.fingerprintSha256),
  ];
  const signedData = new SignedData({
    version: contentType === OID.data ? 1 : 3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([algId(HASH_OID[hash])]),
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType: contentType,
      ...(opts.detached
        ? {}
        : { eContent: new EncapsulatedContent({ single: new OctetString(opts.content) }) }),
    }),
    signerInfos: new SignerInfos([signerInfo]),
  });
  return signedDataContentInfo(signedData, certs);
}

/**
 * Builds a certs-only ("degenerate") SignedData: no content, no signers, just certificates — the
 * form SCEP GetCACert and CertRep use to carry certificates.
 *
 * @example
 * ```ts
 * const body = createCertsOnlyCms([raCert, caCert]); // application/x-x509-ca-ra-cert
 * ```
 */
export function createCertsOnlyCms(certs: readonly Certificate[]): Uint8Array {
  const signedData = new SignedData({
    version: 1,
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID.data }),
  });
  return signedDataContentInfo(signedData, certs);
}

interface ParsedSignedData {
  contentType: string;
  eContent?: Uint8Array;
  certElements: DerElement[];
  signerInfos: DerElement[];
}

function cmsDer(input: string | Uint8Array): Uint8Array {
  if (typeof input === 'string' || looksLikePem(input))
    return toDer(input, ['PKCS7', 'CMS', 'PKCS #7 SIGNED DATA']);
  if (!(input instanceof Uint8Array)) throw new CryptoError('INVALID_CMS', 'expected DER bytes');
  return input;
}

function parseSignedData(der: Uint8Array): ParsedSignedData {
  const ci = parseDer(der, { allowIndefinite: true }).iterate();
  const type = readOid(ci.next(Tag.OID, 'contentType'));
  if (type !== OID.signedData) throw new CryptoError('INVALID_CMS', `not SignedData (content type ${type})`);
  const sd = ci.next(0xa0, 'content').iterate().next(Tag.SEQUENCE, 'SignedData').iterate();
  const version = readSmallInt(sd.next(Tag.INTEGER, 'version'));
  if (version > 5) throw new CryptoError('INVALID_CMS', `unsupported SignedData version ${version}`);
  sd.next(Tag.SET, 'digestAlgorithms');
  const encap = sd.next(Tag.SEQUENCE, 'encapContentInfo').iterate();
  const contentType = readOid(encap.next(Tag.OID, 'eContentType'));
  const ec = encap.optional(0xa0);
  let eContent: Uint8Array | undefined;
  if (ec) {
    const inner = ec.iterate();
    eContent = readOctets(inner.next(undefined, 'eContent'));
    inner.end();
  }
  encap.end();
  const certsEl = sd.optional(0xa0);
  sd.optional(0xa1); // crls
  const signerInfos = sd.next(Tag.SET, 'signerInfos').children();
  sd.end();
  // Only X.509 certificates (SEQUENCE); other CertificateChoices are ignored.
  const certElements = (certsEl?.children() ?? []).filter((c) => c.tag === Tag.SEQUENCE);
  return { contentType, ...(eContent && { eContent }), certElements, signerInfos };
}

function wrap(e: unknown): CryptoError {
  if (e instanceof CryptoError) {
    if (e.code === 'INVALID_DER')
      return new CryptoError('INVALID_CMS', `malformed CMS: ${e.message}`, { cause: e });
    return e;
  }
  return new CryptoError('INVALID_CMS', 'malformed CMS', { cause: e });
}

/**
 * Certificates of any SignedData (typically a certs-only one), in message order.
 *
 * @example
 * ```ts
 * const [ra, ca] = parseCertsOnlyCms(await (await fetch(url + '?operation=GetCACert')).bytes());
 * ```
 */
export function parseCertsOnlyCms(der: string | Uint8Array): Certificate[] {
  try {
    return parseSignedData(cmsDer(der)).certElements.map(cachedCertificate);
  } catch (e) {
    throw wrap(e);
  }
}

/** Options of {@link verifyCms}. */
export interface VerifyCmsOptions {
  /** The content of a detached signature. */
  detachedContent?: Uint8Array;
  /** Extra candidate signer certificates when the message does not carry the signer's. */
  certificates?: Certificate[];
}

function decodeAttributes(el: DerElement): CmsAttribute[] {
  return el.children().map((a) => {
    const it = a.iterate();
    const oid = readOid(it.next(Tag.OID, 'attribute type'));
    const values = it
      .next(Tag.SET, 'attribute values')
      .children()
      .map((v) => Uint8Array.from(v.raw));
    it.end();
    return { oid, values };
  });
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function findSigner(sid: DerElement, certs: readonly Certificate[]): Certificate | undefined {
  if (sid.tag === Tag.SEQUENCE) {
    const it = sid.iterate();
    const issuer = it.next(Tag.SEQUENCE, 'issuer').raw;
    const serial = it.next(Tag.INTEGER, 'serialNumber').raw;
    return certs.find((c) => bytesEqual(c.serialDer, serial) && bytesEqual(c.issuer.der, issuer));
  }
  if (sid.tag === 0x80) {
    const ski = Buffer.from(sid.content).toString('hex');
    return certs.find((c) => c.subjectKeyIdentifier === ski);
  }
  throw new CryptoError('INVALID_CMS', 'unknown SignerIdentifier');
}

/**
 * Verifies a CMS SignedData signature (attached, or detached with `detachedContent`). Checks the
 * signature, the messageDigest and contentType attributes — not the signer's chain or validity (use
 * {@link verifyCertificateChain} on `signer`). Every SignerInfo must verify.
 *
 * Throws `CryptoError`: `SIGNATURE_INVALID` (bad signature or digest), `INVALID_CMS` (malformed,
 * missing content or signer certificate), `UNSUPPORTED_ALGORITHM`, `LIMIT_EXCEEDED`.
 *
 * @example
 * ```ts
 * const { content, signer, signedAttributes } = await verifyCms(pkiMessage);
 * const detached = await verifyCms(signature, { detachedContent: body });
 * ```
 */
export async function verifyCms(der: string | Uint8Array, opts: VerifyCmsOptions = {}): Promise<VerifiedCms> {
  try {
    return verifyCmsSync(cmsDer(der), opts);
  } catch (e) {
    throw wrap(e);
  }
}

/** Synchronous core of {@link verifyCms}. @internal */
export function verifyCmsSync(der: Uint8Array, opts: VerifyCmsOptions, signerOnly = false): VerifiedCms {
  const sd = parseSignedData(der);
  const content = sd.eContent ?? opts.detachedContent;
  // A caller that passes the content it received must never get a success for other, attached bytes.
  if (sd.eContent && opts.detachedContent && !bytesEqual(sd.eContent, opts.detachedContent)) {
    throw new CryptoError('SIGNATURE_INVALID', 'the encapsulated content differs from detachedContent');
  }
  if (!content)
    throw new CryptoError('INVALID_CMS', 'no content: detached signature without detachedContent');
  if (sd.signerInfos.length === 0) throw new CryptoError('INVALID_CMS', 'no signers');
  const certificates = sd.certElements.map(cachedCertificate);
  const pool = opts.certificates ? [...certificates, ...opts.certificates] : certificates;
  let first: Omit<VerifiedCms, 'content' | 'certificates' | 'contentType'> | undefined;
  const digests = new Map<HashName, Buffer>();
  for (const si of sd.signerInfos) {
    const it = si.iterate();
    readSmallInt(it.next(Tag.INTEGER, 'version'));
    const sid = it.next(undefined, 'sid');
    const digestOid = readOid(it.next(Tag.SEQUENCE, 'digestAlgorithm').iterate().next(Tag.OID));
    const signedAttrsEl = it.optional(0xa0);
    const sigAlgOid = readOid(it.next(Tag.SEQUENCE, 'signatureAlgorithm').iterate().next(Tag.OID));
    const signature = readOctets(it.next(Tag.OCTET_STRING, 'signature'));
    it.optional(0xa1);
    it.end();
    const hash = HASH_BY_OID[digestOid];
    if (!hash) throw new CryptoError('UNSUPPORTED_ALGORITHM', `unsupported digest algorithm ${digestOid}`);
    const signer = findSigner(sid, pool);
    if (!signer) throw new CryptoError('INVALID_CMS', 'the signer certificate is not in the message');
    let digest = digests.get(hash);
    if (!digest) {
      digest = createHash(hash).update(content).digest();
      digests.set(hash, digest);
    }
    let signedAttributes: CmsAttribute[] = [];
    let signingTime: Date | undefined;
    let signedBytes: Uint8Array;
    if (signedAttrsEl) {
      signedAttributes = decodeAttributes(signedAttrsEl);
      const md = signedAttributes.find((a) => a.oid === OID.messageDigest);
      const ct = signedAttributes.find((a) => a.oid === OID.contentType);
      if (md?.values.length !== 1 || ct?.values.length !== 1) {
        throw new CryptoError('INVALID_CMS', 'signed attributes lack messageDigest or contentType');
      }
      const mdValue = readOctets(parseDer(md.values[0]!));
      if (!bytesEqual(mdValue, digest)) throw new CryptoError('SIGNATURE_INVALID', 'message digest mismatch');
      const ctEl = parseDer(ct.values[0]!);
      if (readOid(ctEl) !== sd.contentType)
        throw new CryptoError('SIGNATURE_INVALID', 'contentType attribute mismatch');
      const st = signerOnly ? undefined : signedAttributes.find((a) => a.oid === OID.signingTime);
      if (st?.values[0]) {
        try {
          signingTime = readTimeValue(st.values[0]);
        } catch {
          // An unreadable signingTime is informational only.
        }
      }
      // The signature covers the attributes encoded as a SET (tag 0x31), not as [0].
      const raw = signedAttrsEl.raw;
      const bytes = new Uint8Array(raw.length);
      bytes.set(raw);
      bytes[0] = Tag.SET;
      signedBytes = bytes;
    } else {
      signedBytes = content;
    }
    if (!verifyData(signer.publicKey, sigAlgOid, signedBytes, signature, hash)) {
      throw new CryptoError('SIGNATURE_INVALID', 'CMS signature does not verify');
    }
    first ??= { signer, signedAttributes, hash, ...(signingTime && { signingTime }) };
  }
  return {
    content: sd.eContent ?? content,
    certificates,
    contentType: sd.contentType,
    ...first!,
  };
}

function readTimeValue(der: Uint8Array): Date {
  return readTime(parseDer(der));
}
