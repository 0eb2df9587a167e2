import { createHash, type KeyObject } from 'node:crypto';
import {
  type DerElement,
  parseDer,
  parseDerPrefix,
  readBitString,
  readBoolean,
  readIntegerHex,
  readOctets,
  readOid,
  readSmallInt,
  readTime,
  Tag,
} from './der';
import { CryptoError } from './errors';
import { publicKeyFromSpki } from './keys';
import { type DistinguishedName, decodeName } from './name';
import { OID } from './oids';
import { pemDecodeAll, pemEncode, looksLikePem, toDer } from './pem';

/** Names of the KeyUsage bits, in bit order. */
export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** A KeyUsage bit name. */
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

/** Subject alternative names by kind. `ip` holds dotted IPv4 or RFC 5952 IPv6 text. */
export interface SubjectAltNames {
  dns?: string[];
  ip?: string[];
  email?: string[];
  uri?: string[];
}

/** One certificate extension as encoded. */
export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (the DER of the extension's own value). */
  value: Uint8Array;
}

/** A parsed X.509 certificate. Immutable. */
export interface Certificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly version: number;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  /** Lowercase hex, no leading 00. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  /** The SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** Lowercase hex SHA-256 of `der`. */
  readonly fingerprintSha256: string;
  /** Lowercase hex SHA-1 of `der`. */
  readonly fingerprintSha1: string;
  readonly isCA: boolean;
  readonly pathLength?: number;
  readonly keyUsage?: KeyUsageName[];
  /** EKU OIDs. */
  readonly extendedKeyUsage?: string[];
  readonly subjectAltNames?: SubjectAltNames;
  /** Lowercase hex. */
  readonly subjectKeyIdentifier?: string;
  /** Lowercase hex keyIdentifier of the AuthorityKeyIdentifier extension. */
  readonly authorityKeyIdentifier?: string;
  readonly extensions: readonly Extension[];
  /** The subject's UID attribute (0.9.2342.19200300.100.1.1); the topic of an APNs certificate. */
  readonly subjectUid?: string;
  /** Signature algorithm OID of the outer certificate. */
  readonly signatureAlgorithm: string;
  /** @internal The signed TBSCertificate bytes. */
  readonly tbsDer: Uint8Array;
  /** @internal The signature bits. */
  readonly signatureValue: Uint8Array;
  /** @internal The serialNumber INTEGER TLV as encoded (for CMS IssuerAndSerialNumber). */
  readonly serialDer: Uint8Array;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    // Compress the longest run of zero groups (RFC 5952).
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return hex(b);
}

/** Decodes GeneralNames into the kinds we model; other kinds are ignored. @internal */
export function decodeGeneralNames(el: DerElement): SubjectAltNames {
  const out: SubjectAltNames = {};
  const push = (k: keyof SubjectAltNames, v: string) => {
    const list = out[k] ?? [];
    list.push(v);
    out[k] = list;
  };
  const ascii = (c: Uint8Array) => Buffer.from(c).toString('latin1');
  for (const gn of el.children()) {
    switch (gn.tag) {
      case 0x81:
        push('email', ascii(gn.content));
        break;
      case 0x82:
        push('dns', ascii(gn.content));
        break;
      case 0x86:
        push('uri', ascii(gn.content));
        break;
      case 0x87:
        push('ip', formatIp(gn.content));
        break;
      default:
        break;
    }
  }
  return out;
}

interface ParsedExtensions {
  list: Extension[];
  isCA: boolean;
  pathLength?: number;
  keyUsage?: KeyUsageName[];
  extendedKeyUsage?: string[];
  subjectAltNames?: SubjectAltNames;
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
}

/** Decodes an Extensions SEQUENCE. @internal */
export function decodeExtensions(el: DerElement): ParsedExtensions {
  const r: ParsedExtensions = { list: [], isCA: false };
  const seen = new Set<string>();
  for (const ext of el.children()) {
    const it = ext.iterate();
    const oid = readOid(it.next(Tag.OID, 'extnID'));
    const critEl = it.optional(Tag.BOOLEAN);
    const critical = critEl ? readBoolean(critEl) : false;
    const value = Uint8Array.from(it.next(Tag.OCTET_STRING, 'extnValue').content);
    it.end();
    if (seen.has(oid)) throw new CryptoError('INVALID_CERTIFICATE', `duplicate extension ${oid}`);
    seen.add(oid);
    r.list.push(Object.freeze({ oid, critical, value }));
    switch (oid) {
      case OID.basicConstraints: {
        const bit = parseDer(value).iterate();
        const ca = bit.optional(Tag.BOOLEAN);
        r.isCA = ca ? readBoolean(ca) : false;
        const pl = bit.optional(Tag.INTEGER);
        if (pl) r.pathLength = readSmallInt(pl);
        bit.end();
        break;
      }
      case OID.keyUsage: {
        const { bytes } = readBitString(parseDer(value));
        const names: KeyUsageName[] = [];
        KEY_USAGE_NAMES.forEach((n, i) => {
          if ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) names.push(n);
        });
        r.keyUsage = names;
        break;
      }
      case OID.extKeyUsage:
        r.extendedKeyUsage = parseDer(value)
          .children()
          .map((e) => readOid(e));
        break;
      case OID.subjectAltName:
        r.subjectAltNames = decodeGeneralNames(parseDer(value));
        break;
      case OID.subjectKeyIdentifier:
        r.subjectKeyIdentifier = hex(readOctets(parseDer(value)));
        break;
      case OID.authorityKeyIdentifier: {
        const kid = parseDer(value)
          .children()
          .find((c) => c.tag === 0x80);
        if (kid) r.authorityKeyIdentifier = hex(kid.content);
        break;
      }
      default:
        break;
    }
  }
  return r;
}

function wrapParseError(e: unknown, code: 'INVALID_CERTIFICATE', what: string): CryptoError {
  if (e instanceof CryptoError && (e.code === code || e.code === 'LIMIT_EXCEEDED')) return e;
  const detail = e instanceof CryptoError ? `: ${e.message}` : '';
  return new CryptoError(code, `malformed ${what}${detail}`, { cause: e });
}

/** Parses certificate DER held in an element of a larger structure (CMS, PKCS#12). @internal */
export function certificateFromElement(el: DerElement): Certificate {
  try {
    return decodeCertificate(Uint8Array.from(el.raw), el);
  } catch (e) {
    throw wrapParseError(e, 'INVALID_CERTIFICATE', 'certificate');
  }
}

function decodeCertificate(der: Uint8Array, outer: DerElement): Certificate {
  const top = outer.iterate();
  const tbsEl = top.next(Tag.SEQUENCE, 'tbsCertificate');
  const sigAlgEl = top.next(Tag.SEQUENCE, 'signatureAlgorithm');
  const sigEl = top.next(Tag.BIT_STRING, 'signatureValue');
  top.end();
  const signatureAlgorithm = readOid(sigAlgEl.iterate().next(Tag.OID, 'algorithm'));
  const signatureValue = readBitString(sigEl).bytes;

  const t = tbsEl.iterate();
  let version = 1;
  const vEl = t.optional(0xa0);
  if (vEl) version = readSmallInt(vEl.iterate().next(Tag.INTEGER, 'version')) + 1;
  if (version < 1 || version > 3)
    throw new CryptoError('INVALID_CERTIFICATE', `unsupported version ${version}`);
  const serialEl = t.next(Tag.INTEGER, 'serialNumber');
  const serialNumber = readIntegerHex(serialEl);
  const innerAlg = readOid(t.next(Tag.SEQUENCE, 'signature').iterate().next(Tag.OID, 'algorithm'));
  if (innerAlg !== signatureAlgorithm) {
    throw new CryptoError('INVALID_CERTIFICATE', 'inner and outer signature algorithms differ');
  }
  const issuerEl = t.next(Tag.SEQUENCE, 'issuer');
  const issuer = decodeName(issuerEl);
  const validity = t.next(Tag.SEQUENCE, 'validity').iterate();
  const notBefore = readTime(validity.next(undefined, 'notBefore'));
  const notAfter = readTime(validity.next(undefined, 'notAfter'));
  validity.end();
  const subject = decodeName(t.next(Tag.SEQUENCE, 'subject'));
  const spkiEl = t.next(Tag.SEQUENCE, 'subjectPublicKeyInfo');
  const spki = Uint8Array.from(spkiEl.raw);
  t.optional(0x81);
  t.optional(0xa1);
  t.optional(0x82);
  t.optional(0xa2);
  const extEl = t.optional(0xa3);
  t.end();
  const ext = extEl
    ? decodeExtensions(extEl.iterate().next(Tag.SEQUENCE, 'extensions'))
    : { list: [] as Extension[], isCA: false };
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromSpki(spki);
  } catch (e) {
    throw new CryptoError('INVALID_CERTIFICATE', 'unsupported or malformed subject public key', { cause: e });
  }
  const cert: Certificate = {
    der,
    get pem() {
      return pemEncode('CERTIFICATE', der);
    },
    version,
    subject,
    issuer,
    serialNumber,
    notBefore,
    notAfter,
    publicKey,
    spki,
    fingerprintSha256: createHash('sha256').update(der).digest('hex'),
    fingerprintSha1: createHash('sha1').update(der).digest('hex'),
    isCA: ext.isCA,
    ...(ext.pathLength !== undefined && { pathLength: ext.pathLength }),
    ...(ext.keyUsage && { keyUsage: ext.keyUsage }),
    ...(ext.extendedKeyUsage && { extendedKeyUsage: ext.extendedKeyUsage }),
    ...(ext.subjectAltNames && { subjectAltNames: ext.subjectAltNames }),
    ...(ext.subjectKeyIdentifier && { subjectKeyIdentifier: ext.subjectKeyIdentifier }),
    ...(ext.authorityKeyIdentifier && { authorityKeyIdentifier: ext.authorityKeyIdentifier }),
    extensions: Object.freeze(ext.list),
    ...(subject.get('UID') !== undefined && { subjectUid: subject.get('UID') }),
    signatureAlgorithm,
    tbsDer: Uint8Array.from(tbsEl.raw),
    signatureValue: Uint8Array.from(signatureValue),
    serialDer: Uint8Array.from(serialEl.raw),
  };
  return Object.freeze(cert);
}

/**
 * Parses one X.509 certificate from PEM text or DER bytes.
 *
 * Throws `CryptoError` with code `INVALID_CERTIFICATE` (or `INVALID_PEM`, `LIMIT_EXCEEDED`) on bad input.
 *
 * @example
 * ```ts
 * const cert = parseCertificate(fs.readFileSync('push.pem', 'utf8'));
 * cert.subjectUid;          // "com.apple.mgmt.External.…"
 * cert.notAfter;            // Date
 * cert.fingerprintSha256;   // hex
 * ```
 */
export function parseCertificate(pemOrDer: string | Uint8Array): Certificate {
  const der = toDer(pemOrDer, ['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE']);
  try {
    const copy = Uint8Array.from(der);
    return decodeCertificate(copy, parseDer(copy));
  } catch (e) {
    throw wrapParseError(e, 'INVALID_CERTIFICATE', 'certificate');
  }
}

/**
 * Parses every certificate in PEM text (all `CERTIFICATE` blocks, in order) or in concatenated DER.
 *
 * @example
 * ```ts
 * const chain = parseCertificates(fs.readFileSync('chain.pem', 'utf8'));
 * ```
 */
export function parseCertificates(pemOrDer: string | Uint8Array): Certificate[] {
  if (typeof pemOrDer === 'string' || looksLikePem(pemOrDer)) {
    const text = typeof pemOrDer === 'string' ? pemOrDer : Buffer.from(pemOrDer).toString('latin1');
    return pemDecodeAll(text)
      .filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
      .map((b) => parseCertificate(b.der));
  }
  const out: Certificate[] = [];
  let off = 0;
  while (off < pemOrDer.length) {
    let el: DerElement;
    try {
      el = parseDerPrefix(pemOrDer.subarray(off));
    } catch (e) {
      throw wrapParseError(e, 'INVALID_CERTIFICATE', 'certificate');
    }
    out.push(parseCertificate(pemOrDer.subarray(off, off + el.end)));
    off += el.end;
  }
  return out;
}
