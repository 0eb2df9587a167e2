import { type Csr, decodeIssuerAndSerial, decodeIssuerAndSubject, parseCsr } from '@mdmkit/crypto';

/**
 * Strict readers for what a pkcsPKIEnvelope holds. Each returns `undefined` for anything that is not
 * exactly the expected structure in canonical DER, never a reason: the server must not tell one kind
 * of malformed plaintext from another, or from a failed decryption (that difference is a padding oracle).
 */

/** A PKCS#10 request in canonical DER (PEM text or trailing bytes are refused), or undefined. */
export function readStrictCsr(bytes: Uint8Array): Csr | undefined {
  try {
    return parseCsr(bytes, { canonical: true });
  } catch {
    return undefined;
  }
}

/** `IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }` (the content of a CertPoll), or undefined. */
export function readIssuerAndSubject(
  bytes: Uint8Array,
): { issuer: Uint8Array; subject: Uint8Array } | undefined {
  try {
    return decodeIssuerAndSubject(bytes);
  } catch {
    return undefined;
  }
}

/** `IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }` (GetCert), or undefined. */
export function readIssuerAndSerial(bytes: Uint8Array): { issuer: Uint8Array; serial: string } | undefined {
  try {
    return decodeIssuerAndSerial(bytes);
  } catch {
    return undefined;
  }
}
