import { MemoryStorage } from '@mdmkit/storage';
import {
  createCsr,
  decryptCms,
  encodeIssuerAndSerial,
  encodeIssuerAndSubject,
  encryptCms,
} from '@mdmkit/crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createScepPolicy,
  createScepServer,
  MessageType,
  PkiStatus,
  type ScepServer,
  staticChallenge,
} from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { envelopeRegions, makeRequest, poolKey, post } from './pki';

/** The costly steps a request went through, in order, each with the bytes it worked on. */
const work: { step: string; bytes: Uint8Array }[] = [];

vi.mock('../src/request-content', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/request-content')>();
  const watch =
    <T>(step: string, f: (b: Uint8Array) => T) =>
    (b: Uint8Array): T => {
      work.push({ step, bytes: b });
      return f(b);
    };
  return {
    readStrictCsr: watch('read csr', real.readStrictCsr),
    readIssuerAndSubject: watch('read poll', real.readIssuerAndSubject),
    readIssuerAndSerial: watch('read serial', real.readIssuerAndSerial),
  };
});

// Every parsed request (the server's stand-in included) reports its RSA signature check.
vi.mock('@mdmkit/crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('@mdmkit/crypto')>();
  return {
    ...real,
    parseCsr: (...args: Parameters<typeof real.parseCsr>) => {
      const csr = real.parseCsr(...args);
      // The parsed request is frozen: a view of it that reports the check stands in for it.
      return Object.create(csr, {
        verifySignature: {
          value: () => {
            work.push({ step: 'verify', bytes: csr.der });
            return csr.verifySignature();
          },
        },
      }) as typeof csr;
    },
  };
});

/**
 * Parsing a whole CSR costs far more than failing on nothing (hundreds of microseconds against a few),
 * and an RSA signature check costs tens of microseconds. A tampered envelope whose padding is valid
 * opens into a garbled plaintext that fails its reader in microseconds; one whose padding is invalid
 * does not open at all. Both must then go through the same costly work — one full-size stand-in read
 * by the same reader and, for an enrolment, one signature check — or the time of the answer tells them
 * apart: a padding oracle. Counting the work is exact where a timing test resolves only large gaps.
 */
describe('an envelope that does not open is parsed like one that does', () => {
  let ca: Awaited<ReturnType<typeof testCa>>;
  let scep: ScepServer;
  beforeAll(async () => {
    ca = await testCa();
    scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
  });

  const opens = async (env: Uint8Array) => {
    try {
      await decryptCms(env, {
        recipients: [{ certificate: ca.certificate, privateKey: ca.signer as never }],
      });
      return true;
    } catch {
      return false;
    }
  };

  /** The captured envelope tampered three ways: padding invalid, padding valid (0x01), a block garbled. */
  async function tamper(env: Uint8Array) {
    const { ciphertext } = envelopeRegions(env);
    const lastOfPrevious = ciphertext.end - 17;
    let invalid: Uint8Array | undefined;
    let paddingValid: Uint8Array | undefined;
    for (let x = 1; x < 256 && !(invalid && paddingValid); x++) {
      const e = env.slice();
      e[lastOfPrevious]! ^= x;
      if (await opens(e)) paddingValid ??= e;
      else invalid ??= e;
    }
    const garbled = env.slice();
    garbled[ciphertext.start + 16]! ^= 0x41;
    expect(await opens(garbled)).toBe(true);
    expect(invalid && paddingValid).toBeDefined();
    return { invalid: invalid!, paddingValid: paddingValid!, garbled };
  }

  for (const [name, type, reader, signed] of [
    ['PKCSReq', MessageType.PKCSReq, 'read csr', true],
    ['RenewalReq', MessageType.RenewalReq, 'read csr', true],
    ['CertPoll', MessageType.CertPoll, 'read poll', false],
    ['GetCert', MessageType.GetCert, 'read serial', false],
  ] as const) {
    it(`does the same costly work for valid and invalid padding: ${name}`, async () => {
      // What a client of this type sends, so the padding-valid copy opens into its own kind of plaintext.
      let plaintext: Uint8Array;
      if (type === MessageType.CertPoll) {
        plaintext = encodeIssuerAndSubject({ issuer: ca.certificate.subject.der, subject: 'CN=victim' });
      } else if (type === MessageType.GetCert) {
        plaintext = encodeIssuerAndSerial({ issuer: ca.certificate.subject.der, serial: '4a'.repeat(16) });
      } else {
        const { privateKey, publicKey } = await poolKey(0);
        plaintext = await createCsr({
          subject: 'CN=victim',
          privateKey,
          publicKey,
          challengePassword: CHALLENGE,
        });
      }
      const captured = await encryptCms({
        content: plaintext,
        recipients: [ca.certificate],
        cipher: 'aes-128-cbc',
      });
      const copies = await tamper(captured);
      const seen: Record<string, { step: string; bytes: Uint8Array }[]> = {};
      for (const [cls, e] of Object.entries(copies)) {
        const req = await makeRequest({ recipient: ca.certificate, envelope: e, messageType: String(type) });
        work.length = 0;
        const reply = await post(scep, req);
        expect({ cls, http: reply.http, status: reply.status }).toEqual({
          cls,
          http: 200,
          status: PkiStatus.FAILURE,
        });
        seen[cls] = [...work];
      }
      // Padding invalid: only the stand-in, full size, by this type's reader, then its signature check.
      const inv = seen.invalid!;
      expect(inv.map((w) => w.step)).toEqual(signed ? [reader, 'verify'] : [reader]);
      const standIn = inv[0]!.bytes;
      expect(standIn.length).toBeGreaterThan(300);
      // Padding valid (or a garbled block): the opened plaintext fails the reader, then exactly the same.
      for (const cls of ['paddingValid', 'garbled'] as const) {
        const w = seen[cls]!;
        expect({ cls, steps: w.map((x) => x.step) }).toEqual({
          cls,
          steps: signed ? [reader, reader, 'verify'] : [reader, reader],
        });
        expect(Buffer.from(w[0]!.bytes).equals(Buffer.from(standIn))).toBe(false);
        for (const [i, x] of w.slice(1).entries()) {
          expect({ cls, i, same: Buffer.from(x.bytes).equals(Buffer.from(inv[i]!.bytes)) }).toEqual({
            cls,
            i,
            same: true,
          });
        }
      }
    });
  }
});
