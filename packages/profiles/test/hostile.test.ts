import { buildBinary } from '@mdmkit/plist';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildEnrollmentProfile,
  encodeProfile,
  ProfileError,
  parseProfile,
  readProfile,
  signProfile,
  typedPayload,
} from '../src/index';
import { makeProfilePki, type ProfilePki } from './pki';

const runs = Number(process.env.MDMKIT_FUZZ_RUNS ?? 200);

const plain = encodeProfile(
  buildEnrollmentProfile({
    serverUrl: 'https://mdm.example.com/mdm',
    topic: 'com.apple.mgmt.External.x',
    scep: { url: 'https://mdm.example.com/scep', subject: [['CN', 'x']] },
  }),
);

/** Byte strings derived from a valid document: flips, cuts and insertions. */
const mutated = (doc: Uint8Array) =>
  fc
    .array(
      fc.tuple(
        fc.nat(doc.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('flip', 'cut', 'insert'),
      ),
      {
        minLength: 1,
        maxLength: 8,
      },
    )
    .map((edits) => {
      let b = Buffer.from(doc);
      for (const [at, byte, op] of edits) {
        const i = Math.min(at, b.length - 1);
        if (op === 'flip') b[i] = byte;
        else if (op === 'cut') b = b.subarray(0, i);
        else b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
        if (b.length === 0) break;
      }
      return new Uint8Array(b);
    });

describe('hostile input: only typed errors, never a crash', () => {
  let pki: ProfilePki;
  let signed: Uint8Array;
  beforeAll(async () => {
    pki = await makeProfilePki();
    signed = await signProfile(plain, {
      certificate: pki.signer,
      privateKey: pki.signerKey,
      chain: [pki.intermediate],
    });
  });

  it('mutated plain profiles either parse (issues listed) or fail with MALFORMED_PROFILE', () => {
    fc.assert(
      fc.property(mutated(plain), (bytes) => {
        try {
          const parsed = parseProfile(bytes);
          expect(Array.isArray(parsed.issues)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(ProfileError);
          expect((e as ProfileError).code).toBe('MALFORMED_PROFILE');
        }
      }),
      { numRuns: runs },
    );
  });

  it('mutated signed profiles never verify with changed content and never throw anything but ProfileError', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(signed), async (bytes) => {
        try {
          const r = await readProfile(bytes, { trusted: [pki.root], requireSigned: true });
          // A mutation outside the signed content (e.g. in unsigned certificate padding) may still verify:
          // then the content must be exactly what was signed.
          expect(r.signature).toBeDefined();
          expect(encodeProfile(r.dict as never).length).toBeGreaterThan(0);
          expect(r.payloads.map((p) => p.payloadType)).toEqual(['com.apple.security.scep', 'com.apple.mdm']);
        } catch (e) {
          expect(e).toBeInstanceOf(ProfileError);
        }
      }),
      { numRuns: Math.min(runs, 100) },
    );
  });

  it('readProfile takes plain and signed input; typedPayload types a valid payload', async () => {
    const a = await readProfile(plain);
    const b = await readProfile(signed, { trusted: [pki.root] });
    expect(a.signature).toBeUndefined();
    expect(b.signature?.trusted).toBe(true);
    const mdm = b.payloads.map((p) => typedPayload(p, 'com.apple.mdm')).find(Boolean);
    expect(mdm?.Topic).toBe('com.apple.mgmt.External.x');
    expect(typedPayload(b.payloads[0]!, 'com.apple.mdm')).toBeUndefined();
    await expect(readProfile(plain, { requireSigned: true })).rejects.toMatchObject({ code: 'NOT_SIGNED' });
  });

  it('a deeply nested or oversized document is refused by the limits', () => {
    const deep = new TextEncoder().encode(
      `<plist>${'<array>'.repeat(5000)}${'</array>'.repeat(5000)}</plist>`,
    );
    expect(() => parseProfile(deep)).toThrow(ProfileError);
  });

  it('a payload with 150,000 unknown keys and thousands of wrong values lists its issues (capped) instead of crashing', () => {
    const bytes = buildBinary({
      PayloadType: 'Configuration',
      PayloadVersion: 1,
      PayloadIdentifier: 'com.example.p',
      PayloadUUID: 'A',
      PayloadContent: [
        {
          PayloadType: 'com.apple.security.scep',
          PayloadVersion: 1,
          PayloadIdentifier: 'com.example.p.scep',
          PayloadUUID: 'B',
          PayloadContent: { URL: 'https://x', Subject: Array.from({ length: 2000 }, () => 1) },
          ...Object.fromEntries(Array.from({ length: 150_000 }, (_, i) => [`k${i}`, 1])),
        },
      ],
    });
    const parsed = parseProfile(bytes);
    expect(parsed.payloads[0]!.valid).toBe(false);
    expect(parsed.payloads[0]!.unknownKeys).toHaveLength(150_000);
    expect(parsed.issues.length).toBeLessThanOrEqual(1001);
    expect(parsed.issues[0]!.path).toEqual(['PayloadContent', 0, 'PayloadContent', 'Subject', 0]);
    // 2000 wrong Subject entries and 150,000 unknown keys: 1000 listed, the rest counted.
    expect(parsed.issues.at(-1)!.message).toBe('151000 more issues not listed');
  }, 60_000);
});
