import {
  type CmsAttribute,
  CryptoError,
  octetStringAttribute,
  printableStringAttribute,
  readOctetStringAttributeValue,
  readStringAttributeValue,
  type VerifiedCms,
  verifyCms,
} from '@mdmkit/crypto';
import { ScepOid } from './constants';

/** The DER of the first value of an attribute, or undefined. */
export function attributeValue(attrs: readonly CmsAttribute[], oid: string): Uint8Array | undefined {
  for (const a of attrs) if (a.oid === oid) return a.values[0];
  return undefined;
}

/** A string-valued attribute (PrintableString or any other string type), or undefined when absent or malformed. */
export function stringAttribute(attrs: readonly CmsAttribute[], oid: string): string | undefined {
  const v = attributeValue(attrs, oid);
  if (!v) return undefined;
  try {
    return readStringAttributeValue(v);
  } catch {
    return undefined;
  }
}

/** An OCTET STRING attribute, or undefined when absent or malformed. */
export function octetsAttribute(attrs: readonly CmsAttribute[], oid: string): Uint8Array | undefined {
  const v = attributeValue(attrs, oid);
  if (!v) return undefined;
  try {
    return readOctetStringAttributeValue(v);
  } catch {
    return undefined;
  }
}

/** The SCEP attributes every pkiMessage carries. */
export interface ScepAttributes {
  messageType: number;
  transactionId: string;
  /** The transactionID value exactly as received, so that a reply echoes it byte for byte. */
  transactionIdDer: Uint8Array;
  senderNonce: Uint8Array;
  recipientNonce?: Uint8Array;
  pkiStatus?: number;
  failInfo?: number;
}

/** Reads the SCEP attributes; undefined when a mandatory one is missing or malformed. */
export function readScepAttributes(attrs: readonly CmsAttribute[]): ScepAttributes | undefined {
  const type = stringAttribute(attrs, ScepOid.messageType);
  const transactionId = stringAttribute(attrs, ScepOid.transactionID);
  const transactionIdDer = attributeValue(attrs, ScepOid.transactionID);
  const senderNonce = octetsAttribute(attrs, ScepOid.senderNonce);
  if (type === undefined || !/^\d{1,3}$/.test(type)) return undefined;
  if (transactionId === undefined || transactionIdDer === undefined || transactionId.length === 0)
    return undefined;
  if (transactionId.length > 256) return undefined;
  if (senderNonce === undefined || senderNonce.length < 8 || senderNonce.length > 64) return undefined;
  const out: ScepAttributes = { messageType: Number(type), transactionId, transactionIdDer, senderNonce };
  const recipientNonce = octetsAttribute(attrs, ScepOid.recipientNonce);
  if (recipientNonce) out.recipientNonce = recipientNonce;
  const status = stringAttribute(attrs, ScepOid.pkiStatus);
  if (status !== undefined && /^\d{1,3}$/.test(status)) out.pkiStatus = Number(status);
  const fail = stringAttribute(attrs, ScepOid.failInfo);
  if (fail !== undefined && /^\d{1,3}$/.test(fail)) out.failInfo = Number(fail);
  return out;
}

/** A PrintableString attribute. */
export const printableAttribute: (oid: string, value: string) => CmsAttribute = printableStringAttribute;

/** An OCTET STRING attribute. */
export const octetAttribute: (oid: string, value: Uint8Array) => CmsAttribute = octetStringAttribute;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

// FAILURE and PENDING CertReps carry no eContent: their signature covers empty content.
const EMPTY = new Uint8Array(0);

/** Verifies a pkiMessage's signature, whether its content is encapsulated or (for CertRep without envelope) absent. */
export async function verifyPkiMessage(der: Uint8Array): Promise<VerifiedCms> {
  try {
    return await verifyCms(der);
  } catch (e) {
    if (e instanceof CryptoError && e.code === 'INVALID_CMS')
      return verifyCms(der, { detachedContent: EMPTY });
    throw e;
  }
}
