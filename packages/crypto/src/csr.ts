import { createPublicKey, type KeyObject } from 'node:crypto';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  Attribute,
  Extension as ExtensionSchema,
  Extensions,
  Name,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import { OctetString } from '@peculiar/asn1-schema';
import { parseAsn1, serializeAsn1, toArrayBuffer } from './asn1';
import { directoryStringValue, readStringAttributeValue } from './attribute-values';
import { decodeExtensions, type Extension, type SubjectAltNames } from './certificate';
import { parseDer } from './der';
import { CryptoError } from './errors';
import { encodeGeneralNames, type ExtensionInput } from './issue';
import { publicKeyFromSpki } from './keys';
import { type DistinguishedName, encodeName, type NameInput, nameFromDer } from './name';
import { type HashName, OID } from './oids';
import { pemEncode, toDer } from './pem';
import { checkHash, isSigner, type Signer, signatureAlgorithmFor, signData, verifyData } from './signer';

/** Options of {@link createCsr}. */
export interface CreateCsrOptions {
  subject: NameInput;
  /** The key that signs the request (proof of possession): a local key or a {@link Signer}. */
  privateKey: KeyObject | Signer;
  /** Default: derived from `privateKey`. */
  publicKey?: KeyObject;
  /** PKCS#9 challengePassword (SCEP enrolment secret). */
  challengePassword?: string;
  subjectAltNames?: SubjectAltNames;
  /** More requested extensions (in the extensionRequest attribute). */
  extensions?: ExtensionInput[];
  /** Default sha256. */
  hash?: HashName;
}

/** Options of {@link parseCsr}. */
export interface ParseCsrOptions {
  /**
   * Refuse anything but canonical DER (long-form or indefinite lengths, trailing bytes, PEM text):
   * for a request that arrived inside a SCEP pkcsPKIEnvelope, where the RFC asks for DER.
   */
  canonical?: boolean;
  /** Largest request accepted, in bytes (default 1 MiB); larger input is `LIMIT_EXCEEDED`. */
  maxBytes?: number;
}

/** A parsed PKCS#10 certification request. */
export interface Csr {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly subject: DistinguishedName;
  readonly publicKey: KeyObject;
  readonly challengePassword?: string;
  /** Extensions from the extensionRequest attribute. */
  readonly extensions: readonly Extension[];
  readonly subjectAltNames?: SubjectAltNames;
  readonly extendedKeyUsage?: string[];
  /** Every attribute, values as full DER TLVs. */
  readonly attributes: readonly { oid: string; values: Uint8Array[] }[];
  /** Signature algorithm OID. */
  readonly signatureAlgorithm: string;
  /** Whether the request is signed by the key it carries. */
  verifySignature(): boolean;
}

/** A schema Extension for an OID, criticality and DER value. @internal */
export function extensionSchema(oid: string, critical: boolean, value: Uint8Array): ExtensionSchema {
  return new ExtensionSchema({ extnID: oid, critical, extnValue: new OctetString(toArrayBuffer(value)) });
}

/**
 * Builds and signs a PKCS#10 request; returns DER (use `pemEncode('CERTIFICATE REQUEST', der)` for PEM).
 *
 * @example
 * ```ts
 * const { privateKey } = await generateKeyPair({ type: 'rsa' });
 * const der = await createCsr({
 *   subject: 'CN=device-1234,O=Example',
 *   privateKey,
 *   challengePassword: 'enrol-secret',
 *   subjectAltNames: { dns: ['device-1234.example.com'] },
 * });
 * ```
 */
export async function createCsr(opts: CreateCsrOptions): Promise<Uint8Array> {
  const hash = checkHash(opts.hash);
  const pub =
    opts.publicKey ??
    (isSigner(opts.privateKey) ? opts.privateKey.publicKey : createPublicKey(opts.privateKey));
  const spki = new Uint8Array(pub.export({ type: 'spki', format: 'der' }));
  const attributes = new Attributes();
  if (opts.challengePassword !== undefined) {
    const value = directoryStringValue(opts.challengePassword);
    attributes.push(new Attribute({ type: OID.challengePassword, values: [toArrayBuffer(value)] }));
  }
  const exts = new Extensions();
  const san = opts.subjectAltNames;
  if (san && (san.dns?.length || san.ip?.length || san.email?.length || san.uri?.length)) {
    exts.push(extensionSchema(OID.subjectAltName, false, encodeGeneralNames(san)));
  }
  for (const x of opts.extensions ?? []) exts.push(extensionSchema(x.oid, x.critical ?? false, x.value));
  if (exts.length) {
    const value = toArrayBuffer(serializeAsn1(exts, 'INVALID_CSR'));
    attributes.push(new Attribute({ type: OID.extensionRequest, values: [value] }));
  }
  const info = new CertificationRequestInfo({
    version: 0,
    subject: parseAsn1(encodeName(opts.subject), Name, 'INVALID_CSR', 'subject'),
    subjectPKInfo: parseAsn1(spki, SubjectPublicKeyInfo, 'INVALID_KEY', 'public key'),
    attributes,
  });
  const infoDer = serializeAsn1(info, 'INVALID_CSR');
  const alg = signatureAlgorithmFor(opts.privateKey, hash);
  const sig = await signData(opts.privateKey, infoDer, hash);
  return serializeAsn1(
    new CertificationRequest({
      certificationRequestInfo: info,
      signatureAlgorithm: alg.schema,
      signature: toArrayBuffer(sig),
    }),
    'INVALID_CSR',
  );
}

/**
 * Parses a PKCS#10 request (PEM or DER). Throws `CryptoError` `INVALID_CSR` on malformed input; the
 * signature is checked only by `verifySignature()`.
 *
 * @example
 * ```ts
 * const csr = parseCsr(der);
 * if (!csr.verifySignature()) throw new Error('bad proof of possession');
 * csr.challengePassword; // 'enrol-secret'
 * ```
 */
export function parseCsr(pemOrDer: string | Uint8Array, options: ParseCsrOptions = {}): Csr {
  if (options.canonical && (typeof pemOrDer === 'string' || pemOrDer[0] !== 0x30)) {
    throw new CryptoError('INVALID_CSR', 'expected a DER certification request');
  }
  const der = Uint8Array.from(toDer(pemOrDer, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']));
  const request = parseAsn1(der, CertificationRequest, 'INVALID_CSR', 'certification request', {
    canonical: options.canonical ?? false,
    ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }),
  });
  try {
    return csrFromSchema(der, request);
  } catch (e) {
    if (e instanceof CryptoError && (e.code === 'INVALID_CSR' || e.code === 'LIMIT_EXCEEDED')) throw e;
    const detail = e instanceof CryptoError ? `: ${e.message}` : '';
    throw new CryptoError('INVALID_CSR', `malformed certification request${detail}`, { cause: e });
  }
}

function csrFromSchema(der: Uint8Array, request: CertificationRequest): Csr {
  const info = request.certificationRequestInfo;
  if (info.version !== 0) throw new CryptoError('INVALID_CSR', 'unsupported CSR version');
  // The signature covers the info exactly as received, which a re-encoding need not reproduce.
  const infoRaw = request.certificationRequestInfoRaw;
  if (!infoRaw) throw new CryptoError('INVALID_CSR', 'certificationRequestInfo not kept by the parser');
  const infoDer = new Uint8Array(infoRaw.slice(0));
  const subject = nameFromDer(serializeAsn1(info.subject, 'INVALID_CSR'));
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromSpki(serializeAsn1(info.subjectPKInfo, 'INVALID_CSR'));
  } catch (e) {
    throw new CryptoError('INVALID_CSR', 'unsupported or malformed public key', { cause: e });
  }
  const attributes: { oid: string; values: Uint8Array[] }[] = [];
  let challengePassword: string | undefined;
  let parsed: ReturnType<typeof decodeExtensions> | undefined;
  for (const a of info.attributes) {
    const values = a.values.map((v) => new Uint8Array(v.slice(0)));
    attributes.push({ oid: a.type, values });
    const first = values[0];
    if (a.type === OID.challengePassword && first) challengePassword = readStringAttributeValue(first);
    if (a.type === OID.extensionRequest && first) parsed = decodeExtensions(parseDer(first));
  }
  const signatureAlgorithm = request.signatureAlgorithm.algorithm;
  const signature = new Uint8Array(request.signature.slice(0));
  const csr: Csr = {
    der,
    get pem() {
      return pemEncode('CERTIFICATE REQUEST', der);
    },
    subject,
    publicKey,
    ...(challengePassword !== undefined && { challengePassword }),
    extensions: Object.freeze(parsed?.list ?? []),
    ...(parsed?.subjectAltNames && { subjectAltNames: parsed.subjectAltNames }),
    ...(parsed?.extendedKeyUsage && { extendedKeyUsage: parsed.extendedKeyUsage }),
    attributes: Object.freeze(attributes),
    signatureAlgorithm,
    verifySignature() {
      try {
        return verifyData(publicKey, signatureAlgorithm, infoDer, signature);
      } catch {
        return false;
      }
    },
  };
  return Object.freeze(csr);
}
