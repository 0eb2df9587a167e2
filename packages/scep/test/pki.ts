import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  type CmsAttribute,
  type ContentCipher,
  createCsr,
  decryptCms,
  derOctetString,
  derPrintableString,
  encryptCms,
  generateKeyPair,
  issueCertificate,
  parseCertsOnlyCms,
  parseDer,
  signCms,
} from '@mdmkit/crypto';
import { ScepOid } from '../src/index';
import { readScepAttributes, verifyPkiMessage } from '../src/attributes';
import type { ScepServer } from '../src/server';

const keyPool: Promise<{ privateKey: KeyObject; publicKey: KeyObject }>[] = [];
/** RSA keys are slow to make: tests reuse a few, in order. */
export function poolKey(i: number) {
  keyPool[i] ??= generateKeyPair({ type: 'rsa', bits: 2048 });
  return keyPool[i]!;
}

export interface RequestParts {
  der: Uint8Array;
  senderNonce: Uint8Array;
  signer: { certificate: Certificate; privateKey: KeyObject };
  transactionId: string;
}

/** Builds a PKCSReq with every knob a bad-input test needs. */
export async function makeRequest(opts: {
  recipient: Certificate;
  keyIndex?: number;
  challenge?: string;
  subject?: string;
  messageType?: string;
  cipher?: ContentCipher;
  hash?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  senderNonce?: Uint8Array;
  /** Replace the CSR (e.g. one with a broken signature). */
  mutateCsr?: (csr: Uint8Array) => Uint8Array;
  /** Replace the envelope (e.g. one made by openssl). */
  envelope?: Uint8Array;
  mutateEnvelope?: (env: Uint8Array) => Uint8Array;
  signer?: { certificate: Certificate; privateKey: KeyObject };
  omit?: string[];
  transactionId?: string;
}): Promise<RequestParts> {
  const { privateKey, publicKey } = await poolKey(opts.keyIndex ?? 0);
  const subject = opts.subject ?? 'CN=test-device';
  let csr = await createCsr({
    subject,
    privateKey,
    publicKey,
    ...(opts.challenge !== undefined ? { challengePassword: opts.challenge } : {}),
  });
  if (opts.mutateCsr) csr = opts.mutateCsr(csr);
  const signer = opts.signer ?? {
    certificate: await issueCertificate({ subject, publicKey, issuerKey: privateKey, validityDays: 1 }),
    privateKey,
  };
  let envelope =
    opts.envelope ??
    (await encryptCms({ content: csr, recipients: [opts.recipient], cipher: opts.cipher ?? 'aes-128-cbc' }));
  if (opts.mutateEnvelope) envelope = opts.mutateEnvelope(envelope);
  const senderNonce = opts.senderNonce ?? new Uint8Array(randomBytes(16));
  const transactionId = opts.transactionId ?? randomBytes(8).toString('hex');
  const attrs: CmsAttribute[] = [
    { oid: ScepOid.messageType, values: [derPrintableString(opts.messageType ?? '19')] },
    { oid: ScepOid.transactionID, values: [derPrintableString(transactionId)] },
    { oid: ScepOid.senderNonce, values: [derOctetString(senderNonce)] },
  ].filter((a) => !(opts.omit ?? []).includes(a.oid));
  const der = await signCms({
    content: envelope,
    certificate: signer.certificate,
    privateKey: signer.privateKey,
    hash: opts.hash ?? 'sha256',
    certificates: [signer.certificate],
    signedAttributes: attrs,
  });
  return { der, senderNonce, signer, transactionId };
}

export interface Reply {
  http: number;
  status?: number;
  failInfo?: number;
  certificates?: Certificate[];
  cipher?: ContentCipher;
  recipientNonce?: Uint8Array;
  transactionId?: string;
  signer?: Certificate;
}

/** POSTs a pkiMessage to the server and decodes the CertRep (opening the envelope with the request's signer). */
export async function post(
  scep: ScepServer,
  req: { der: Uint8Array; signer?: RequestParts['signer'] },
): Promise<Reply> {
  const res = await scep.handle({
    method: 'POST',
    query: new URLSearchParams('operation=PKIOperation'),
    body: req.der,
  });
  return decodeReply(res.status, res.body, req.signer);
}

export async function decodeReply(
  http: number,
  body: Uint8Array,
  signer?: RequestParts['signer'],
): Promise<Reply> {
  if (http !== 200) return { http };
  const v = await verifyPkiMessage(body);
  const a = readScepAttributes(v.signedAttributes);
  if (!a) throw new Error('CertRep without SCEP attributes');
  const out: Reply = { http, transactionId: a.transactionId, signer: v.signer };
  if (a.pkiStatus !== undefined) out.status = a.pkiStatus;
  if (a.failInfo !== undefined) out.failInfo = a.failInfo;
  if (a.recipientNonce) out.recipientNonce = a.recipientNonce;
  if (a.pkiStatus === 0 && signer) {
    const opened = await decryptCms(v.content, { recipients: [signer] });
    out.cipher = opened.cipher;
    out.certificates = parseCertsOnlyCms(opened.content);
  }
  return out;
}

/** Byte ranges inside an EnvelopedData ContentInfo: the first recipient's encrypted key, the IV, the ciphertext. */
export function envelopeRegions(
  envelope: Uint8Array,
): Record<'encryptedKey' | 'iv' | 'ciphertext', { start: number; end: number }> {
  const top = parseDer(envelope).iterate();
  top.next(0x06, 'contentType');
  const body = top.next(0xa0, 'content').iterate().next(0x30, 'EnvelopedData').children();
  const recipient = body[1]!.children()[0]!.children();
  const key = recipient[recipient.length - 1]!;
  const eci = body[body.length - 1]!.iterate();
  eci.next(0x06, 'contentType');
  const alg = eci.next(0x30, 'contentEncryptionAlgorithm').iterate();
  alg.next(0x06, 'algorithm');
  const iv = alg.next(0x04, 'iv');
  const ct = eci.next(0x80, 'encryptedContent');
  const range = (el: { contentStart: number; contentEnd: number }) => ({
    start: el.contentStart,
    end: el.contentEnd,
  });
  return { encryptedKey: range(key), iv: range(iv), ciphertext: range(ct) };
}
