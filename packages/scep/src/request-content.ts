import { type Csr, type DerElement, parseCsr, parseDer, readIntegerHex } from '@mdmkit/crypto';

/**
 * Strict readers for what a pkcsPKIEnvelope holds. Each returns `undefined` for anything that is not
 * exactly the expected structure in canonical DER, never a reason: the server must not tell one kind
 * of malformed plaintext from another, or from a failed decryption (that difference is a padding oracle).
 */

/** Whether every length in the tree uses the shortest form DER allows (parseDer accepts longer ones). */
function canonicalLengths(el: DerElement): boolean {
  const len = el.contentEnd - el.contentStart;
  const lengthOctets = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
  if (el.contentStart - el.start !== 2 + lengthOctets) return false;
  if (!el.constructed) return true;
  for (const child of el.children()) if (!canonicalLengths(child)) return false;
  return true;
}

/** Parses one canonical DER element spanning all of `bytes`; throws on anything else. */
function strictDer(bytes: Uint8Array): DerElement {
  // parseDer refuses trailing bytes and indefinite lengths; the walk below refuses long-form lengths.
  const el = parseDer(bytes);
  if (!canonicalLengths(el)) throw new Error('non-canonical DER');
  return el;
}

/** A PKCS#10 request in canonical DER (PEM text or trailing bytes are refused), or undefined. */
export function readStrictCsr(bytes: Uint8Array): Csr | undefined {
  try {
    if (bytes[0] !== 0x30) return undefined;
    strictDer(bytes);
    return parseCsr(bytes);
  } catch {
    return undefined;
  }
}

/** `IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }` (the content of a CertPoll), or undefined. */
export function readIssuerAndSubject(
  bytes: Uint8Array,
): { issuer: Uint8Array; subject: Uint8Array } | undefined {
  try {
    const it = strictDer(bytes).iterate();
    const issuer = it.next(0x30, 'issuer').raw;
    const subject = it.next(0x30, 'subject').raw;
    it.end();
    return { issuer, subject };
  } catch {
    return undefined;
  }
}

/** `IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }` (GetCert), or undefined. */
export function readIssuerAndSerial(bytes: Uint8Array): { issuer: Uint8Array; serial: string } | undefined {
  try {
    const it = strictDer(bytes).iterate();
    const issuer = it.next(0x30, 'issuer').raw;
    const serial = readIntegerHex(it.next(0x02, 'serialNumber'));
    it.end();
    return { issuer, serial };
  } catch {
    return undefined;
  }
}
