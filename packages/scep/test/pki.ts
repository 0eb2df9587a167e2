import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  type CmsAttribute,
  type ContentCipher,
  createCsr,
  decryptCms,
  encryptCms,
  generateKeyPair,
  issueCertificate,
  octetStringAttribute,
  parseCertsOnlyCms,
  printableStringAttribute,
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
    printableStringAttribute(ScepOid.messageType, opts.messageType ?? '19'),
    printableStringAttribute(ScepOid.transactionID, transactionId),
    octetStringAttribute(ScepOid.senderNonce, senderNonce),
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

interface Asn1Line {
  start: number;
  headerLength: number;
  length: number;
  text: string;
}

/** The element list `openssl asn1parse` prints (offsets and lengths), so this test reads no ASN.1 itself. */
function asn1parse(der: Uint8Array): Asn1Line[] {
  const r = spawnSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`openssl asn1parse failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((line) => /^\s*(\d+):d=\d+\s+hl=(\d+)\s+l=\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), headerLength: Number(m[2]), length: Number(m[3]), text: m[4]! }));
}

/** Byte ranges inside an EnvelopedData ContentInfo: the first recipient's encrypted key, the IV, the ciphertext. */
export function envelopeRegions(
  envelope: Uint8Array,
): Record<'encryptedKey' | 'iv' | 'ciphertext', { start: number; end: number }> {
  const lines = asn1parse(envelope);
  const range = (l: Asn1Line | undefined) => {
    if (!l) throw new Error('unexpected EnvelopedData layout');
    return { start: l.start + l.headerLength, end: l.start + l.headerLength + l.length };
  };
  // encryptedContentInfo starts with contentType id-data; the first recipient's encryptedKey is the
  // OCTET STRING just before the recipientInfos end, i.e. the last one before that id-data.
  const data = lines.findIndex((l) => /OBJECT\s+:pkcs7-data/.test(l.text));
  const key = lines.slice(0, data).findLast((l) => /prim: OCTET STRING/.test(l.text));
  const iv = lines.slice(data).find((l) => /prim: OCTET STRING/.test(l.text));
  const ct = lines.slice(data).find((l) => /cont \[ 0 \]/.test(l.text));
  return { encryptedKey: range(key), iv: range(iv), ciphertext: range(ct) };
}
