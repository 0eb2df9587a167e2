import { describe, expect, it } from 'vitest';
import {
  oauth1Header,
  oauth1Signature,
  parseOAuth1Header,
  percentEncode,
  verifyOAuth1Signature,
} from '../src/index';

// The worked example of RFC 5849 §1.2 (originally from the OAuth 1.0 specification).
const creds = {
  consumerKey: 'dpf43f3p2l4k3l03',
  consumerSecret: 'kd94hf93k423kf44',
  accessToken: 'nnch734d00sl2jdk',
  accessSecret: 'pfkkdhi9sl3r4s00',
};
const url = 'http://photos.example.net/photos?file=vacation.jpg&size=original';

describe('OAuth 1.0a HMAC-SHA1', () => {
  it('computes the signature of the RFC 5849 example', () => {
    const header = oauth1Header('GET', url, creds, {
      timestamp: 1191242096,
      nonce: 'kllo9940pd9333jh',
      realm: 'Photos',
    });
    const params = parseOAuth1Header(header)!;
    expect(params.oauth_signature).toBe('tR3+Ty81lMeYAr/Fid0kMTYa/WM=');
    expect(params.realm).toBe('Photos');
    expect(verifyOAuth1Signature('GET', url, params, creds)).toBe(true);
  });

  it('fails verification when anything signed changes', () => {
    const params = parseOAuth1Header(oauth1Header('GET', url, creds))!;
    expect(verifyOAuth1Signature('POST', url, params, creds)).toBe(false);
    expect(verifyOAuth1Signature('GET', `${url}x`, params, creds)).toBe(false);
    expect(verifyOAuth1Signature('GET', url, { ...params, oauth_nonce: 'other' }, creds)).toBe(false);
    expect(verifyOAuth1Signature('GET', url, params, { ...creds, accessSecret: 'x' })).toBe(false);
    expect(verifyOAuth1Signature('GET', url, { ...params, oauth_signature_method: 'PLAINTEXT' }, creds)).toBe(
      false,
    );
  });

  it('reads only well-formed headers, within limits', () => {
    expect(parseOAuth1Header(undefined)).toBeUndefined();
    expect(parseOAuth1Header('Bearer abc')).toBeUndefined();
    expect(parseOAuth1Header('OAuth a="1", b=2')).toBeUndefined();
    expect(parseOAuth1Header('OAuth a="%E0%A4%A"')).toBeUndefined();
    const many = Array.from({ length: 40 }, (_, i) => `k${i}="v"`).join(', ');
    expect(parseOAuth1Header(`OAuth ${many}`)).toBeUndefined();
    expect(parseOAuth1Header(`OAuth a="${'x'.repeat(9000)}"`)).toBeUndefined();
  });

  it('percent-encodes as RFC 3986 wants', () => {
    expect(percentEncode("a b!*'()~")).toBe('a%20b%21%2A%27%28%29~');
    expect(oauth1Signature('GET', 'https://e.com/p', { oauth_nonce: 'n' }, creds)).toMatch(
      /^[A-Za-z0-9+/]{27}=$/,
    );
  });
});
