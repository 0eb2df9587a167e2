import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeClientCertHeader, HttpError, MAX_HEADER_CERT_BYTES } from '../src/index';

// A DER SEQUENCE standing in for a certificate: the header decoder does not parse X.509.
const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), Buffer.alloc(256, 7)]);
const b64 = der.toString('base64');
const pem = `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof HttpError ? e.code : 'other';
  }
  return undefined;
}

describe('client certificate headers', () => {
  it('decodes RFC 9440 byte sequences', () => {
    expect(Buffer.from(decodeClientCertHeader(` :${b64}: `, 'rfc9440')).equals(der)).toBe(true);
  });

  it('decodes escaped PEM, and PEM with line breaks folded to spaces', () => {
    expect(Buffer.from(decodeClientCertHeader(encodeURIComponent(pem), 'escaped-pem')).equals(der)).toBe(
      true,
    );
    expect(Buffer.from(decodeClientCertHeader(pem.replace(/\n/g, ' '), 'escaped-pem')).equals(der)).toBe(
      true,
    );
  });

  it('refuses malformed values with BAD_CLIENT_CERT_HEADER', () => {
    const bad: [string, 'rfc9440' | 'escaped-pem'][] = [
      [b64, 'rfc9440'],
      [`:${b64}`, 'rfc9440'],
      [':!!!!:', 'rfc9440'],
      [`:${Buffer.from([0x02, 0x01, 0x00]).toString('base64')}:`, 'rfc9440'],
      ['%E0%A4%A', 'escaped-pem'],
      ['-----BEGIN CERTIFICATE-----', 'escaped-pem'],
      [`:${'A'.repeat(MAX_HEADER_CERT_BYTES * 4 + 4)}:`, 'rfc9440'],
      [`:${Buffer.concat([der, Buffer.alloc(MAX_HEADER_CERT_BYTES)]).toString('base64')}:`, 'rfc9440'],
    ];
    for (const [value, format] of bad)
      expect(code(() => decodeClientCertHeader(value, format))).toBe('BAD_CLIENT_CERT_HEADER');
  });

  it('refuses an escaped-PEM header that came twice or holds more than one certificate', () => {
    const other = Buffer.concat([Buffer.from([0x30, 0x03]), Buffer.from([1, 2, 3])]).toString('base64');
    const otherPem = `-----BEGIN CERTIFICATE-----\n${other}\n-----END CERTIFICATE-----\n`;
    const bad = [
      // A client's own header first, the proxy's appended: node and fetch join them with ", ".
      `${encodeURIComponent(otherPem)}, ${encodeURIComponent(pem)}`,
      encodeURIComponent(otherPem + pem),
      `junk${encodeURIComponent(pem)}`,
      `${encodeURIComponent(pem)}junk`,
    ];
    for (const value of bad)
      expect(code(() => decodeClientCertHeader(value, 'escaped-pem'))).toBe('BAD_CLIENT_CERT_HEADER');
  });
});
