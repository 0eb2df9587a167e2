import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it, vi } from 'vitest';
import { createScepPolicy, createScepServer, MessageType, staticChallenge } from '../src/index';
import { CHALLENGE, testCa } from './helpers';
import { envelopeRegions, makeRequest, post } from './pki';

const seen: { reader: string; length: number }[] = [];
vi.mock('../src/request-content', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/request-content')>();
  const watch =
    <T>(reader: string, f: (b: Uint8Array) => T) =>
    (b: Uint8Array): T => {
      seen.push({ reader, length: b.length });
      return f(b);
    };
  return {
    readStrictCsr: watch('csr', real.readStrictCsr),
    readIssuerAndSubject: watch('poll', real.readIssuerAndSubject),
    readIssuerAndSerial: watch('serial', real.readIssuerAndSerial),
  };
});

/**
 * Parsing a whole CSR costs far more than failing on nothing (hundreds of microseconds against a few).
 * A tampered envelope whose padding is valid opens into a CSR with a garbled signature, which parses; one
 * whose padding is invalid does not open. Unless the second parses a request of the same size, the
 * time of the answer tells them apart: a padding oracle.
 */
describe('an envelope that does not open is parsed like one that does', () => {
  it('gives the readers a full-size stand-in request, for PKCSReq, CertPoll and GetCert', async () => {
    const ca = await testCa();
    const scep = createScepServer({
      ca,
      store: new MemoryStorage(),
      policy: createScepPolicy({ challenge: staticChallenge(CHALLENGE) }),
    });
    for (const type of [MessageType.PKCSReq, MessageType.CertPoll, MessageType.GetCert]) {
      const req = await makeRequest({
        recipient: ca.certificate,
        challenge: CHALLENGE,
        messageType: String(type),
        mutateEnvelope: (env) => {
          const out = env.slice();
          const { ciphertext } = envelopeRegions(out);
          // Garble the last block: its padding no longer checks out.
          out[ciphertext.end - 1]! ^= 0x55;
          out[ciphertext.end - 2]! ^= 0x55;
          return out;
        },
      });
      seen.length = 0;
      await post(scep, req);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.length).toBeGreaterThan(300);
    }
  });
});
