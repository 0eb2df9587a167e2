import { CryptoError } from './errors';

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`. */
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 #-]{1,64})-----([\s\S]*?)-----END \1-----/g;
const HEADER_LINE = /^[A-Za-z-]+:.*$/gm;

/**
 * Every PEM block in `text`, in order. Text outside blocks (e.g. `openssl x509 -text` output) is ignored.
 *
 * @example
 * ```ts
 * const blocks = pemDecodeAll(fs.readFileSync('chain.pem', 'utf8'));
 * blocks.filter((b) => b.label === 'CERTIFICATE').length;
 * ```
 */
export function pemDecodeAll(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    // RFC 1421 headers (Proc-Type, DEK-Info) precede the base64 body in legacy encrypted keys.
    const body = m[2]!.replace(HEADER_LINE, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
      throw new CryptoError('INVALID_PEM', `PEM block "${m[1]}" has invalid base64`);
    }
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/**
 * The first PEM block (with `label`, when given) in `text`.
 *
 * @example
 * ```ts
 * const der = pemDecode(pem, 'CERTIFICATE');
 * ```
 */
export function pemDecode(text: string, label?: string | readonly string[]): PemBlock {
  const labels = label === undefined ? undefined : typeof label === 'string' ? [label] : label;
  const blocks = pemDecodeAll(text);
  const hit = labels ? blocks.find((b) => labels.includes(b.label)) : blocks[0];
  if (!hit) {
    throw new CryptoError(
      'INVALID_PEM',
      labels ? `no PEM block labelled ${labels.join(' or ')}` : 'no PEM block',
    );
  }
  return hit;
}

/**
 * PEM text for `der` with 64-character lines and a trailing newline.
 *
 * @example
 * ```ts
 * const pem = pemEncode('CERTIFICATE', certificate.der);
 * ```
 */
export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PEM_PREFIX = '-----BEGIN ';

/** Whether bytes look like PEM text rather than DER. */
export function looksLikePem(input: Uint8Array): boolean {
  // Skip leading whitespace/BOM; DER always starts with a tag byte such as 0x30.
  let i = 0;
  while (
    i < input.length &&
    (input[i] === 0x20 || input[i] === 0x0a || input[i] === 0x0d || input[i] === 0x09)
  )
    i++;
  if (input[i] === 0xef && input[i + 1] === 0xbb && input[i + 2] === 0xbf) i += 3;
  for (let j = 0; j < PEM_PREFIX.length; j++) if (input[i + j] !== PEM_PREFIX.charCodeAt(j)) return false;
  return true;
}

/**
 * DER bytes from PEM text (string or bytes) or DER bytes (returned as is).
 * @internal
 */
export function toDer(input: string | Uint8Array, label?: string | readonly string[]): Uint8Array {
  if (typeof input === 'string') return pemDecode(input, label).der;
  if (!(input instanceof Uint8Array)) throw new CryptoError('INVALID_PEM', 'expected PEM text or DER bytes');
  if (looksLikePem(input)) return pemDecode(Buffer.from(input).toString('latin1'), label).der;
  return input;
}
