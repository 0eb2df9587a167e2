import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeExtensions, type Extension, type SubjectAltNames } from './certificate';
import {
  derBitString,
  derBoolean,
  derInteger,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derUtf8String,
  isPrintableString,
  parseDer,
  readBitString,
  readOid,
  readSmallInt,
  readString,
  Tag,
} from './der';
import { CryptoError } from './errors';
import { encodeGeneralNames, type ExtensionInput } from './issue';
import { publicKeyFromSpki } from './keys';
import { type DistinguishedName, decodeName, encodeName, type NameInput } from './name';
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

function extensionDer(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return derSequence([derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value)]);
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
  const attrs: Uint8Array[] = [];
  if (opts.challengePassword !== undefined) {
    const p = opts.challengePassword;
    const v = isPrintableString(p) ? derPrintableString(p) : derUtf8String(p);
    attrs.push(derSequence([derOid(OID.challengePassword), derSet([v])]));
  }
  const exts: Uint8Array[] = [];
  const san = opts.subjectAltNames;
  if (san && (san.dns?.length || san.ip?.length || san.email?.length || san.uri?.length)) {
    exts.push(extensionDer(OID.subjectAltName, false, encodeGeneralNames(san)));
  }
  for (const x of opts.extensions ?? []) exts.push(extensionDer(x.oid, x.critical ?? false, x.value));
  if (exts.length) attrs.push(derSequence([derOid(OID.extensionRequest), derSet([derSequence(exts)])]));
  const info = derSequence([derInteger(0), encodeName(opts.subject), spki, derSet(attrs, 0xa0)]);
  const alg = signatureAlgorithmFor(opts.privateKey, hash);
  const sig = await signData(opts.privateKey, info, hash);
  return derSequence([info, alg.der, derBitString(sig)]);
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
export function parseCsr(pemOrDer: string | Uint8Array): Csr {
  const der = Uint8Array.from(toDer(pemOrDer, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']));
  try {
    return decodeCsr(der);
  } catch (e) {
    if (e instanceof CryptoError && (e.code === 'INVALID_CSR' || e.code === 'LIMIT_EXCEEDED')) throw e;
    throw new CryptoError(
      'INVALID_CSR',
      `malformed certification request${e instanceof CryptoError ? `: ${e.message}` : ''}`,
      {
        cause: e,
      },
    );
  }
}

function decodeCsr(der: Uint8Array): Csr {
  const top = parseDer(der).iterate();
  const infoEl = top.next(Tag.SEQUENCE, 'certificationRequestInfo');
  const signatureAlgorithm = readOid(top.next(Tag.SEQUENCE, 'signatureAlgorithm').iterate().next(Tag.OID));
  const signature = Uint8Array.from(readBitString(top.next(Tag.BIT_STRING, 'signature')).bytes);
  top.end();
  const it = infoEl.iterate();
  if (readSmallInt(it.next(Tag.INTEGER, 'version')) !== 0)
    throw new CryptoError('INVALID_CSR', 'unsupported CSR version');
  const subject = decodeName(it.next(Tag.SEQUENCE, 'subject'));
  const spki = it.next(Tag.SEQUENCE, 'subjectPKInfo').raw;
  const attrsEl = it.optional(0xa0);
  it.end();
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromSpki(spki);
  } catch (e) {
    throw new CryptoError('INVALID_CSR', 'unsupported or malformed public key', { cause: e });
  }
  const attributes: { oid: string; values: Uint8Array[] }[] = [];
  let challengePassword: string | undefined;
  let parsed: ReturnType<typeof decodeExtensions> | undefined;
  for (const a of attrsEl?.children() ?? []) {
    const ai = a.iterate();
    const oid = readOid(ai.next(Tag.OID, 'attribute type'));
    const values = ai.next(Tag.SET, 'attribute values').children();
    ai.end();
    attributes.push({ oid, values: values.map((v) => Uint8Array.from(v.raw)) });
    if (oid === OID.challengePassword && values[0]) challengePassword = readString(values[0]);
    if (oid === OID.extensionRequest && values[0]) parsed = decodeExtensions(values[0]);
  }
  const infoDer = Uint8Array.from(infoEl.raw);
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
