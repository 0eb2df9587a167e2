// OAuth 1.0a (RFC 5849) HMAC-SHA1 request signing, as Apple's DEP `/session` endpoint requires.
import { createHmac, randomBytes } from 'node:crypto';

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
 * Builds the `Authorization: OAuth …` header for one request. The signature covers the method, the
 * base URL (scheme, host, path; no query), the query parameters and the oauth_* parameters.
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
  const u = new URL(url);
  const oauth: Record<string, string> = {
    oauth_consumer_key: creds.consumerKey,
    oauth_nonce: opts.nonce ?? randomBytes(16).toString('hex'),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_token: creds.accessToken,
    oauth_version: '1.0',
  };
  const params: [string, string][] = [];
  for (const [k, v] of u.searchParams) params.push([percentEncode(k), percentEncode(v)]);
  for (const [k, v] of Object.entries(oauth)) params.push([percentEncode(k), percentEncode(v)]);
  params.sort((a, b) => (a[0] === b[0] ? cmp(a[1], b[1]) : cmp(a[0], b[0])));
  const normalized = params.map(([k, v]) => `${k}=${v}`).join('&');
  const baseUrl = `${u.protocol}//${u.host.toLowerCase()}${u.pathname}`;
  const base = [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join('&');
  const key = `${percentEncode(creds.consumerSecret)}&${percentEncode(creds.accessSecret)}`;
  const signature = createHmac('sha1', key).update(base).digest('base64');
  const fields = { ...oauth, oauth_signature: signature };
  const parts = Object.entries(fields).map(([k, v]) => `${k}="${percentEncode(v)}"`);
  return `OAuth realm="${opts.realm ?? 'ADM'}", ${parts.join(', ')}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
