// OAuth 1.0a (RFC 5849) HMAC-SHA1 request signing, as Apple's DEP `/session` endpoint requires.
// Here rather than in the DEP package so that the client and the testkit's mock server share it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The four OAuth values from an ABM server token. */
export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessSecret: string;
}

/** RFC 3986 percent-encoding of everything but the unreserved characters (RFC 5849 §3.6). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The HMAC-SHA1 signature of a request (RFC 5849 §3.4): over the method, the base URL (scheme,
 * host, path; no query), the query parameters and the oauth_* parameters other than the signature.
 *
 * @example
 * ```ts
 * const sig = oauth1Signature('GET', 'https://example.com/session', { oauth_nonce: 'n' }, { consumerSecret: 'a', accessSecret: 'b' });
 * ```
 */
export function oauth1Signature(
  method: string,
  url: string,
  oauthParams: Readonly<Record<string, string>>,
  secrets: Pick<OAuth1Credentials, 'consumerSecret' | 'accessSecret'>,
): string {
  const u = new URL(url);
  const params: [string, string][] = [];
  for (const [k, v] of u.searchParams) params.push([percentEncode(k), percentEncode(v)]);
  for (const [k, v] of Object.entries(oauthParams)) {
    if (k !== 'oauth_signature' && k !== 'realm') params.push([percentEncode(k), percentEncode(v)]);
  }
  params.sort((a, b) => (a[0] === b[0] ? cmp(a[1], b[1]) : cmp(a[0], b[0])));
  const normalized = params.map(([k, v]) => `${k}=${v}`).join('&');
  const baseUrl = `${u.protocol}//${u.host.toLowerCase()}${u.pathname}`;
  const base = [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join('&');
  const key = `${percentEncode(secrets.consumerSecret)}&${percentEncode(secrets.accessSecret)}`;
  return createHmac('sha1', key).update(base).digest('base64');
}

/**
 * Builds the `Authorization: OAuth …` header for one request, signed with HMAC-SHA1.
 *
 * @example
 * ```ts
 * const header = oauth1Header('GET', 'https://mdmenrollment.apple.com/session', credentials);
 * ```
 */
export function oauth1Header(
  method: string,
  url: string,
  creds: OAuth1Credentials,
  opts: { timestamp?: number; nonce?: string; realm?: string } = {},
): string {
  const oauth: Record<string, string> = {
    oauth_consumer_key: creds.consumerKey,
    oauth_nonce: opts.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_token: creds.accessToken,
    oauth_version: '1.0',
  };
  const fields = { ...oauth, oauth_signature: oauth1Signature(method, url, oauth, creds) };
  const parts = Object.entries(fields).map(([k, v]) => `${k}="${percentEncode(v)}"`);
  return `OAuth realm="${opts.realm ?? 'ADM'}", ${parts.join(', ')}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads the parameters of an `Authorization: OAuth …` header (names and values percent-decoded), or
 * undefined when it is not one. At most 32 parameters of 1 KiB each.
 *
 * @example
 * ```ts
 * parseOAuth1Header('OAuth realm="ADM", oauth_nonce="abc"'); // { realm: 'ADM', oauth_nonce: 'abc' }
 * ```
 */
export function parseOAuth1Header(header: string | undefined): Record<string, string> | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  const m = /^OAuth\s+(.*)$/is.exec(header.trim());
  if (!m) return undefined;
  const out: Record<string, string> = Object.create(null);
  const re = /\s*([A-Za-z0-9_%.~-]+)="([^"]{0,1024})"\s*(?:,|$)/gy;
  const text = m[1]!;
  let count = 0;
  while (re.lastIndex < text.length) {
    const match = re.exec(text);
    if (match === null) break;
    if (++count > 32) return undefined;
    try {
      out[decodeURIComponent(match[1]!)] = decodeURIComponent(match[2]!);
    } catch {
      return undefined;
    }
  }
  if (re.lastIndex < text.length && text.slice(re.lastIndex).trim() !== '') return undefined;
  return { ...out };
}

/**
 * Checks an OAuth 1.0a HMAC-SHA1 signature in constant time.
 *
 * @example
 * ```ts
 * const ok = verifyOAuth1Signature('GET', url, params, { consumerSecret, accessSecret });
 * ```
 */
export function verifyOAuth1Signature(
  method: string,
  url: string,
  params: Readonly<Record<string, string>>,
  secrets: Pick<OAuth1Credentials, 'consumerSecret' | 'accessSecret'>,
): boolean {
  if (params.oauth_signature_method !== 'HMAC-SHA1' || typeof params.oauth_signature !== 'string')
    return false;
  const expected = Buffer.from(oauth1Signature(method, url, params, secrets));
  const given = Buffer.from(params.oauth_signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
