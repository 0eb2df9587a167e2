import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptCms } from '../src/enveloped-decrypt';
import { CryptoError } from '../src/errors';
import { parseMimeEntity, unwrapSmime } from '../src/smime';
import { makeIdentity, openssl, opensslAvailable, TempDir, type TestIdentity } from './support/openssl';

describe('parseMimeEntity / unwrapSmime', () => {
  it('unfolds headers and decodes base64, quoted-printable and 7bit bodies', () => {
    const e = parseMimeEntity(
      'Content-Type: application/pkcs7-mime;\r\n name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\nAw==\r\n',
    );
    expect(e.headers['content-type']).toBe('application/pkcs7-mime; name="smime.p7m"');
    expect(Array.from(e.body)).toEqual([0, 1, 2, 3]);
    const qp = parseMimeEntity('Content-Transfer-Encoding: quoted-printable\n\na=3Db=\nc');
    expect(Buffer.from(qp.body).toString()).toBe('a=bc');
    const plain = parseMimeEntity('Content-Type: text/plain\n\nhello\n');
    expect(Buffer.from(plain.body).toString()).toBe('hello\n');
  });

  it('passes DER through and accepts bare base64 and PEM', () => {
    const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00);
    expect(unwrapSmime(der)).toBe(der);
    expect(Array.from(unwrapSmime(Buffer.from(der).toString('base64')))).toEqual(Array.from(der));
    const pem = `-----BEGIN PKCS7-----\n${Buffer.from(der).toString('base64')}\n-----END PKCS7-----\n`;
    expect(Array.from(unwrapSmime(pem))).toEqual(Array.from(der));
  });

  it('rejects other content types, bad base64 and bad headers with CryptoError', () => {
    const cases = [
      'Content-Type: text/plain\n\nhello',
      'Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n!!!!',
      'Content-Type application/pkcs7-mime\n\nAAAA',
      'Content-Type: application/pkcs7-mime\nContent-Transfer-Encoding: base64\n\n',
    ];
    for (const c of cases) {
      expect(() => unwrapSmime(c)).toThrow(CryptoError);
    }
  });
});

const ok = opensslAvailable('S/MIME unwrapping of openssl smime output');

describe.skipIf(!ok)('S/MIME from openssl (ABM token shape)', () => {
  let dir: TempDir;
  let server: TestIdentity;
  beforeAll(() => {
    dir = new TempDir();
    server = makeIdentity(dir, 'mdm-server');
  });
  afterAll(() => dir.remove());

  it('unwraps, decrypts and reads the inner text/plain message', async () => {
    const json = JSON.stringify({
      consumer_key: 'CK_x',
      consumer_secret: 'CS_y',
      access_token: 'AT_z',
      access_secret: 'AS_w',
      access_token_expiry: '2027-01-01T00:00:00Z',
    });
    const inner = `Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n-----BEGIN MESSAGE-----\n${json}\n-----END MESSAGE-----\n`;
    const p7m = openssl(['smime', '-encrypt', '-aes256', server.certPath], inner).toString();
    expect(p7m).toMatch(/Content-Type: application\/(x-)?pkcs7-mime/);
    const der = unwrapSmime(p7m);
    const { content } = await decryptCms(der, {
      recipients: [{ certificate: server.certificate, privateKey: server.privateKey }],
    });
    const entity = parseMimeEntity(content);
    expect(entity.headers['content-type']).toBe('text/plain;charset=UTF-8');
    const text = Buffer.from(entity.body).toString('utf8');
    const m = /-----BEGIN MESSAGE-----\r?\n([\s\S]*?)\r?\n-----END MESSAGE-----/.exec(text);
    expect(JSON.parse(m?.[1] ?? 'null')).toEqual(JSON.parse(json));
    // Bytes input works the same.
    expect(Buffer.from(unwrapSmime(Buffer.from(p7m)))).toEqual(Buffer.from(der));
  });
});
