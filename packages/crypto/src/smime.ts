// S/MIME unwrapping: a MIME entity (RFC 2045 headers, blank line, encoded body) around CMS, as in the
// Apple Business Manager server token (.p7m) and the text/plain entity inside it.
import { CryptoError } from './errors';
import { looksLikePem, toDer } from './pem';

/** A parsed MIME entity. */
export interface MimeEntity {
  /** Header fields with lowercase names; unfolded, values trimmed. Repeated fields keep the last value. */
  headers: Record<string, string>;
  /** The body after removing its Content-Transfer-Encoding. */
  body: Uint8Array;
}

/** Inputs larger than this are refused (a token or SCEP message is a few kilobytes). */
const MAX_SMIME_BYTES = 16 * 1024 * 1024;

const latin1 = new TextDecoder('latin1');

function invalid(message: string): CryptoError {
  return new CryptoError('INVALID_CMS', message);
}

function decodeQuotedPrintable(s: string): Uint8Array {
  const out: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d /* = */ && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(c & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function decodeBase64Strict(s: string): Uint8Array {
  const compact = s.replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw invalid('S/MIME body is not valid base64');
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * Splits a MIME entity into header fields and its decoded body.
 *
 * @example
 * ```ts
 * const { headers, body } = parseMimeEntity(tokenFileText);
 * headers['content-type']; // "application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data"
 * ```
 */
export function parseMimeEntity(input: string | Uint8Array): MimeEntity {
  if (input.length > MAX_SMIME_BYTES) throw new CryptoError('LIMIT_EXCEEDED', 'S/MIME input is too large');
  const text = typeof input === 'string' ? input : latin1.decode(input);
  const m = /\r?\n\r?\n/.exec(text);
  const headerText = m ? text.slice(0, m.index) : text;
  const bodyText = m ? text.slice(m.index + m[0].length) : '';
  const headers: Record<string, string> = Object.create(null);
  let last: string | undefined;
  for (const line of headerText.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      headers[last] = `${headers[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!-9;-~]+$/.test(line.slice(0, colon))) throw invalid('malformed MIME header line');
    last = line.slice(0, colon).toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let body: Uint8Array;
  if (encoding === 'base64') body = decodeBase64Strict(bodyText);
  else if (encoding === 'quoted-printable') body = decodeQuotedPrintable(bodyText);
  else if (encoding === '7bit' || encoding === '8bit' || encoding === 'binary') {
    body =
      typeof input === 'string'
        ? new TextEncoder().encode(bodyText)
        : input.subarray(input.length - bodyText.length);
  } else throw invalid(`unsupported Content-Transfer-Encoding ${encoding}`);
  return { headers: { ...headers }, body };
}

/**
 * Returns the CMS DER inside an S/MIME message (MIME headers + base64 body), such as the Apple
 * Business Manager server token file. Also accepts bare base64, PEM (`PKCS7`/`CMS`) or DER input, so
 * callers need not sniff the format.
 *
 * @example
 * ```ts
 * const der = unwrapSmime(fs.readFileSync('server_token.p7m', 'utf8'));
 * const { content } = await decryptCms(der, { recipients: [{ certificate, privateKey }] });
 * const inner = parseMimeEntity(content).body; // "-----BEGIN MESSAGE-----\n{...}\n-----END MESSAGE-----"
 * ```
 */
export function unwrapSmime(text: string | Uint8Array): Uint8Array {
  if (text.length > MAX_SMIME_BYTES) throw new CryptoError('LIMIT_EXCEEDED', 'S/MIME input is too large');
  if (typeof text !== 'string') {
    if (text[0] === 0x30) return text; // already DER
    if (looksLikePem(text)) return toDer(text, ['PKCS7', 'CMS']);
    text = latin1.decode(text);
  }
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('-----BEGIN ')) return toDer(trimmed, ['PKCS7', 'CMS']);
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return decodeBase64Strict(trimmed);
  const entity = parseMimeEntity(trimmed);
  const type = (entity.headers['content-type'] ?? '').toLowerCase();
  if (!/^application\/(x-)?pkcs7-mime\b/.test(type)) {
    throw invalid(`S/MIME content type is ${type || 'missing'}, expected application/pkcs7-mime`);
  }
  if (entity.body.length === 0) throw invalid('S/MIME body is empty');
  return entity.body;
}
