import { type KeyObject, sign, verify } from 'node:crypto';
import {
  type Certificate,
  type Csr,
  createCsr,
  generateKeyPair,
  keysMatch,
  type NameInput,
  parseCertificates,
  parseCsr,
  pemEncode,
  type Signer,
  verifyCertificateChain,
} from '@mdmkit/crypto';
import { buildXml, type PlistDict, parse as parsePlist } from '@mdmkit/plist';
import { importKey } from './credentials';
import { ApnsError } from './errors';

/** A new push key with its certificate signing request. */
export interface PushCsr {
  /** Keep it (sealed): the certificate Apple issues for this CSR only works with this key. */
  privateKey: KeyObject;
  csrDer: Uint8Array;
  csrPem: string;
}

/**
 * Generates the customer's push key (RSA 2048, what Apple's push certificate portal accepts) and a
 * CSR for it. The CSR then goes to the MDM vendor for signing ({@link createPushCertificateRequest}).
 *
 * @example Preparing a push certificate request
 * ```ts
 * import { createPushCertificateRequest, generatePushCsr } from '@mdmkit/apns';
 * import { exportPrivateKey } from '@mdmkit/crypto';
 *
 * const { privateKey, csrDer } = await generatePushCsr({ subject: 'CN=Example Corp MDM,O=Example Corp' });
 * await saveSealedKey(exportPrivateKey(privateKey, 'pkcs8-der'));
 * // At the vendor (holding the MDM vendor certificate, its key and Apple's chain as PEM):
 * const request = await createPushCertificateRequest({
 *   csr: csrDer,
 *   vendorCertificate: vendorCertPem,
 *   vendorPrivateKey: vendorKeyPem,
 *   vendorChain: appleIntermediateAndRootPem,
 * });
 * // Upload `request` (base64 text) at https://identity.apple.com/pushcert
 * ```
 */
export async function generatePushCsr(
  options: { subject?: NameInput; bits?: 2048 | 3072 | 4096 } = {},
): Promise<PushCsr> {
  const { privateKey, publicKey } = await generateKeyPair({ type: 'rsa', bits: options.bits ?? 2048 });
  const csrDer = await createCsr({
    subject: options.subject ?? 'CN=MDM push certificate request',
    privateKey,
    publicKey,
  });
  return { privateKey, csrDer, csrPem: pemEncode('CERTIFICATE REQUEST', csrDer) };
}

/** Options of {@link createPushCertificateRequest}. */
export interface PushCertificateRequestOptions {
  /** The customer's CSR, PEM or DER. */
  csr: string | Uint8Array;
  /** The MDM vendor certificate (PEM) Apple issued to the vendor. */
  vendorCertificate: string;
  /** Its private key (PEM/DER, `KeyObject`, or a `Signer` for a key in an HSM). RSA. */
  vendorPrivateKey: string | Uint8Array | KeyObject | Signer;
  /** The vendor certificate's issuing chain as PEM, intermediate first, root last (supplied by the caller). */
  vendorChain: string;
  /** Validate the chain at this time; default now. */
  at?: Date;
  /**
   * Accept a vendor chain with a SHA-1-signed certificate below the root. Default false; Apple's
   * root's own SHA-1 self-signature needs no opt-in.
   */
  allowSha1Signatures?: boolean;
}

/**
 * Signs a customer's CSR with the MDM vendor certificate into the request Apple's push certificate
 * portal takes: base64 of an XML plist holding the CSR (base64 DER), the vendor certificate followed
 * by its chain (PEM) and an RSA PKCS#1 v1.5 SHA-256 signature of the CSR's DER (base64).
 *
 * Checks before signing: the CSR's own signature, that the vendor key belongs to the vendor
 * certificate, and that the vendor certificate chains to the root given last in `vendorChain`.
 */
export async function createPushCertificateRequest(options: PushCertificateRequestOptions): Promise<string> {
  const csr = readCsr(options.csr);
  let vendor: Certificate;
  let chain: Certificate[];
  try {
    vendor = parseCertificates(options.vendorCertificate)[0]!;
    chain = parseCertificates(options.vendorChain);
  } catch (e) {
    throw new ApnsError('INVALID_CERTIFICATE', 'the vendor certificate or its chain is not readable PEM', {
      cause: e,
    });
  }
  if (!vendor || chain.length === 0) {
    throw new ApnsError(
      'INVALID_ARGUMENT',
      'the vendor certificate and at least the root of its chain are required',
    );
  }
  try {
    verifyCertificateChain(vendor, {
      trusted: [chain[chain.length - 1]!],
      intermediates: chain.slice(0, -1),
      ...(options.at ? { at: options.at } : {}),
      ...(options.allowSha1Signatures ? { allowSha1Signatures: true } : {}),
    });
  } catch (e) {
    throw new ApnsError('INVALID_CERTIFICATE', 'the vendor certificate does not chain to the given chain', {
      cause: e,
    });
  }
  const key = options.vendorPrivateKey;
  let signature: Uint8Array;
  if (isSigner(key)) {
    if (!samePublicKey(key.publicKey, vendor.publicKey)) {
      throw new ApnsError('KEY_MISMATCH', 'the signer does not hold the vendor certificate key');
    }
    signature = await key.sign(csr.der, 'sha256');
  } else {
    const privateKey = importKey(key);
    if (privateKey.asymmetricKeyType !== 'rsa') {
      throw new ApnsError('INVALID_ARGUMENT', 'the vendor key must be an RSA key');
    }
    if (!keysMatch(privateKey, vendor.publicKey)) {
      throw new ApnsError('KEY_MISMATCH', 'the private key does not belong to the vendor certificate');
    }
    signature = sign('sha256', csr.der, privateKey);
  }
  const plist: PlistDict = {
    PushCertRequestCSR: Buffer.from(csr.der).toString('base64'),
    PushCertCertificateChain: [vendor, ...chain].map((c) => c.pem).join(''),
    PushCertSignature: Buffer.from(signature).toString('base64'),
  };
  return Buffer.from(buildXml(plist), 'utf8').toString('base64');
}

/** A decoded push certificate request. */
export interface DecodedPushCertificateRequest {
  csr: Csr;
  /** Vendor certificate first, then its chain. */
  chain: Certificate[];
  signature: Uint8Array;
  /** Whether the signature verifies with the vendor certificate's key over the CSR's DER. */
  signatureValid: boolean;
}

/** Decodes a request made by {@link createPushCertificateRequest} (or another vendor tool) to inspect it. */
export function decodePushCertificateRequest(request: string): DecodedPushCertificateRequest {
  let dict: Record<string, unknown>;
  try {
    const xml = Buffer.from(request.trim(), 'base64');
    dict = parsePlist(xml) as Record<string, unknown>;
  } catch (e) {
    throw new ApnsError('INVALID_ARGUMENT', 'not a base64-encoded property list', { cause: e });
  }
  const { PushCertRequestCSR: csrB64, PushCertCertificateChain: chainPem, PushCertSignature: sigB64 } = dict;
  if (typeof csrB64 !== 'string' || typeof chainPem !== 'string' || typeof sigB64 !== 'string') {
    throw new ApnsError(
      'INVALID_ARGUMENT',
      'the request lacks PushCertRequestCSR, PushCertCertificateChain or PushCertSignature',
    );
  }
  const csr = readCsr(Buffer.from(csrB64, 'base64'));
  let chain: Certificate[];
  try {
    chain = parseCertificates(chainPem);
  } catch (e) {
    throw new ApnsError('INVALID_CERTIFICATE', 'the certificate chain is not readable', { cause: e });
  }
  const signature = Buffer.from(sigB64, 'base64');
  const vendor = chain[0];
  const signatureValid = vendor ? verify('sha256', csr.der, vendor.publicKey, signature) : false;
  return { csr, chain, signature, signatureValid };
}

function readCsr(input: string | Uint8Array): Csr {
  let csr: Csr;
  try {
    csr = parseCsr(input);
  } catch (e) {
    throw new ApnsError('INVALID_ARGUMENT', 'the CSR is not a readable PKCS#10 request', { cause: e });
  }
  if (!csr.verifySignature()) throw new ApnsError('INVALID_ARGUMENT', 'the CSR signature does not verify');
  return csr;
}

function isSigner(k: unknown): k is Signer {
  return typeof k === 'object' && k !== null && typeof (k as Signer).sign === 'function' && 'publicKey' in k;
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const x = a.export({ type: 'spki', format: 'der' });
  const y = b.export({ type: 'spki', format: 'der' });
  return Buffer.compare(x, y) === 0;
}
