import { hash } from 'node:crypto';
import { cachedCertificateFromDer } from './cert-cache';
import type { Certificate } from './certificate';
import { AsnObjectIdentifierConverter } from '@peculiar/asn1-schema';
import { decodeOidContent } from './der';
import { HASH_BY_OID, type HashName, OID } from './oids';
import { verifyData } from './signer';

/**
 * The fast path for a detached SignedData such as an Mdm-Signature: one signer identified by issuer
 * and serial, signed attributes, id-data content, definite lengths. It walks the bytes with offsets
 * only (no element objects, no OID strings except the signature algorithm) and compares OIDs as
 * encoded bytes. It never throws and never decides a failure: anything it does not recognise, and
 * anything that does not verify, returns undefined so that the general verifier handles the message
 * and reports the precise error.
 */

// Decoded header of the last element read (module scratch state keeps the walk allocation-free).
let cs = 0;
let ce = 0;

/** Reads the header at `off`; returns the tag, or -1 when it is not a definite-length element within `limit`. */
function read(buf: Uint8Array, off: number, limit: number): number {
  if (off + 2 > limit) return -1;
  const tag = buf[off]!;
  if ((tag & 0x1f) === 0x1f) return -1;
  let len = buf[off + 1]!;
  let p = off + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  cs = p;
  ce = p + len;
  return ce <= limit ? tag : -1;
}

function contentEquals(buf: Uint8Array, start: number, end: number, tlv: Uint8Array): boolean {
  // `tlv` is a complete short-form encoding; compare the contents.
  if (end - start !== tlv.length - 2) return false;
  for (let i = 0; i < end - start; i++) if (buf[start + i] !== tlv[i + 2]) return false;
  return true;
}

function rangeEquals(buf: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (buf[start + i] !== other[i]) return false;
  return true;
}

/** An OID's DER encoding, to compare against the bytes of a message. */
const derOid = (oid: string) => new Uint8Array(AsnObjectIdentifierConverter.toASN(oid).toBER());
const SIGNED_DATA = derOid(OID.signedData);
const DATA = derOid(OID.data);
const CONTENT_TYPE = derOid(OID.contentType);
const MESSAGE_DIGEST = derOid(OID.messageDigest);
const DIGESTS: [Uint8Array, HashName][] = Object.entries(HASH_BY_OID).map(([oid, h]) => [derOid(oid), h]);
const MAX_CERTS = 8;

/**
 * Verifies a detached SignedData over `content` on the fast path; returns the signer when the
 * signature verifies, undefined when the message needs the general path (or does not verify).
 * `der` is modified during the call and restored (callers pass a buffer they own). @internal
 */
export function fastVerifyDetached(der: Uint8Array, content: Uint8Array): Certificate | undefined {
  const n = der.length;
  // ContentInfo
  if (read(der, 0, n) !== 0x30 || ce !== n) return undefined;
  let off = cs;
  if (read(der, off, n) !== 0x06 || !contentEquals(der, cs, ce, SIGNED_DATA)) return undefined;
  if (read(der, ce, n) !== 0xa0) return undefined;
  const ciEnd = ce;
  // SignedData
  if (read(der, cs, ciEnd) !== 0x30) return undefined;
  const sdEnd = ce;
  if (read(der, cs, sdEnd) !== 0x02) return undefined; // version
  if (read(der, ce, sdEnd) !== 0x31) return undefined; // digestAlgorithms
  if (read(der, ce, sdEnd) !== 0x30) return undefined; // encapContentInfo
  const encapEnd = ce;
  off = ce;
  if (read(der, cs, encapEnd) !== 0x06 || !contentEquals(der, cs, ce, DATA) || ce !== encapEnd) {
    return undefined; // attached content or another content type: general path
  }
  let t = read(der, off, sdEnd);
  const certStarts: number[] = [];
  const certEnds: number[] = [];
  if (t === 0xa0) {
    const certsEnd = ce;
    off = ce;
    let p = cs;
    while (p < certsEnd) {
      const ct = read(der, p, certsEnd);
      if (ct < 0 || certStarts.length >= MAX_CERTS) return undefined;
      if (ct === 0x30) {
        certStarts.push(p);
        certEnds.push(ce);
      }
      p = ce;
    }
    t = read(der, off, sdEnd);
  }
  if (t === 0xa1) t = read(der, ce, sdEnd); // crls skipped
  if (t !== 0x31 || ce !== sdEnd) return undefined; // signerInfos
  const sisEnd = ce;
  // exactly one SignerInfo
  if (read(der, cs, sisEnd) !== 0x30 || ce !== sisEnd) return undefined;
  const siEnd = ce;
  if (read(der, cs, siEnd) !== 0x02) return undefined; // version
  if (read(der, ce, siEnd) !== 0x30) return undefined; // sid: issuerAndSerialNumber
  const sidEnd = ce;
  const issuerStart = cs;
  if (read(der, issuerStart, sidEnd) !== 0x30) return undefined;
  const issuerEnd = ce;
  if (read(der, ce, sidEnd) !== 0x02 || ce !== sidEnd) return undefined;
  const serialStart = issuerEnd;
  const serialEnd = ce;
  if (read(der, sidEnd, siEnd) !== 0x30) return undefined; // digestAlgorithm
  const daEnd = ce;
  if (read(der, cs, daEnd) !== 0x06) return undefined;
  let h: HashName | undefined;
  for (const [enc, name] of DIGESTS) if (contentEquals(der, cs, ce, enc)) h = name;
  if (!h) return undefined;
  if (read(der, daEnd, siEnd) !== 0xa0) return undefined; // signedAttrs
  const saStart = daEnd;
  const saEnd = ce;
  let mdStart = -1;
  let mdEnd = -1;
  let ctOk = false;
  let p = cs;
  while (p < saEnd) {
    if (read(der, p, saEnd) !== 0x30) return undefined;
    const aEnd = ce;
    if (read(der, cs, aEnd) !== 0x06) return undefined;
    const isMd = contentEquals(der, cs, ce, MESSAGE_DIGEST);
    const isCt = !isMd && contentEquals(der, cs, ce, CONTENT_TYPE);
    if (isMd || isCt) {
      if (read(der, ce, aEnd) !== 0x31) return undefined;
      const setEnd = ce;
      const vt = read(der, cs, setEnd);
      if (vt < 0 || ce !== setEnd) return undefined; // exactly one value
      if (isMd) {
        if (vt !== 0x04 || mdStart >= 0) return undefined;
        mdStart = cs;
        mdEnd = ce;
      } else {
        if (vt !== 0x06 || ctOk || !contentEquals(der, cs, ce, DATA)) return undefined;
        ctOk = true;
      }
    }
    p = aEnd;
  }
  if (mdStart < 0 || !ctOk) return undefined;
  if (read(der, saEnd, siEnd) !== 0x30) return undefined; // signatureAlgorithm
  const algEnd = ce;
  if (read(der, cs, algEnd) !== 0x06) return undefined;
  let sigAlg: string;
  try {
    sigAlg = decodeOidContent(der, cs, ce);
  } catch {
    return undefined;
  }
  if (read(der, algEnd, siEnd) !== 0x04) return undefined; // signature (primitive)
  const sigStart = cs;
  const sigEnd = ce;
  if (ce !== siEnd) {
    if (read(der, ce, siEnd) !== 0xa1 || ce !== siEnd) return undefined; // unsignedAttrs
  }

  const digest = hash(h, content, 'buffer');
  if (!rangeEquals(der, mdStart, mdEnd, digest)) return undefined;

  let signer: Certificate | undefined;
  for (let i = 0; i < certStarts.length; i++) {
    let cert: Certificate;
    try {
      cert = cachedCertificateFromDer(der.subarray(certStarts[i]!, certEnds[i]!));
    } catch {
      return undefined;
    }
    if (
      rangeEquals(der, serialStart, serialEnd, cert.serialDer) &&
      rangeEquals(der, issuerStart, issuerEnd, cert.issuer.der)
    ) {
      signer = cert;
      break;
    }
  }
  if (!signer) return undefined;

  // The signature covers the attributes as a SET: swap the [0] tag for the call, then restore it.
  const saved = der[saStart]!;
  der[saStart] = 0x31;
  let ok: boolean;
  try {
    ok = verifyData(
      signer.publicKey,
      sigAlg,
      der.subarray(saStart, saEnd),
      der.subarray(sigStart, sigEnd),
      h,
    );
  } catch {
    ok = false;
  } finally {
    der[saStart] = saved;
  }
  return ok ? signer : undefined;
}
