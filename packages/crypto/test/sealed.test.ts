import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CryptoError,
  createLocalKeyProvider,
  createStaticKeyProvider,
  type KeyProvider,
  openSecret,
  rewrapSecret,
  sealedKeyId,
  sealSecret,
} from '../src/index';
import { Scratch } from './sign-fixtures';

const secret = new TextEncoder().encode('FileVault PRK 1234-5678');

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError);
    return (e as CryptoError).code;
  }
  return undefined;
}

describe('sealed secrets', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it('seal/open round trip, bound to owner and kind', async () => {
    const provider = createStaticKeyProvider(randomBytes(32));
    const opts = { provider, owner: 'UDID-1', kind: 'filevault-prk' };
    const sealed = await sealSecret(secret, opts);
    expect(Buffer.from(sealed).includes(Buffer.from(secret))).toBe(false);
    expect(await openSecret(sealed, opts)).toEqual(secret);
    expect(await codeOf(openSecret(sealed, { ...opts, owner: 'UDID-2' }))).toBe('SEALED_SECRET_INVALID');
    expect(await codeOf(openSecret(sealed, { ...opts, kind: 'bypass-code' }))).toBe('SEALED_SECRET_INVALID');
    expect(
      await codeOf(openSecret(sealed, { ...opts, provider: createStaticKeyProvider(randomBytes(32)) })),
    ).toBe('SEALED_SECRET_INVALID');
    const flipped = Uint8Array.from(sealed);
    flipped[flipped.length - 20]! ^= 1;
    expect(await codeOf(openSecret(flipped, opts))).toBe('SEALED_SECRET_INVALID');
    expect(await codeOf(openSecret(sealed.subarray(0, 30), opts))).toBe('SEALED_SECRET_INVALID');
    expect(await codeOf(openSecret(Uint8Array.of(1, 2, 3), opts))).toBe('SEALED_SECRET_INVALID');
    // Two seals of the same secret differ (fresh data key and IV).
    expect(Buffer.compare(Buffer.from(await sealSecret(secret, opts)), Buffer.from(sealed))).not.toBe(0);
  });

  it('local provider: file created 0600, reused, rotated, retired', async () => {
    const path = scratch.path('keys/master.key');
    const p1 = await createLocalKeyProvider({ path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const opts = { owner: 'apns', kind: 'push-key' };
    const sealed = await sealSecret(secret, { ...opts, provider: p1 });
    const p2 = await createLocalKeyProvider({ path });
    expect(p2.currentKeyId).toBe(p1.currentKeyId);
    expect(await openSecret(sealed, { ...opts, provider: p2 })).toEqual(secret);

    const oldId = p2.currentKeyId;
    const newId = await p2.rotate();
    expect(newId).not.toBe(oldId);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(p2.keyIds().sort()).toEqual([oldId, newId].sort());
    // Old blobs still open; re-wrapping keeps the payload bytes and moves to the new KEK.
    expect(await openSecret(sealed, { ...opts, provider: p2 })).toEqual(secret);
    const rewrapped = await rewrapSecret(sealed, { ...opts, from: p2, to: p2 });
    expect(sealedKeyId(rewrapped)).toEqual({ providerId: 'local', keyId: newId });
    expect(Buffer.from(rewrapped).subarray(-40)).toEqual(Buffer.from(sealed).subarray(-40));
    await p2.retire(oldId);
    expect(await codeOf(p2.retire(newId))).toBe('KEY_PROVIDER_FAILED');
    const p3 = await createLocalKeyProvider({ path });
    expect(p3.keyIds()).toEqual([newId]);
    expect(await openSecret(rewrapped, { ...opts, provider: p3 })).toEqual(secret);
    expect(await codeOf(openSecret(sealed, { ...opts, provider: p3 }))).toBe('SEALED_SECRET_INVALID');
    expect(JSON.parse(readFileSync(path, 'utf8')).current).toBe(newId);
  });

  it('refuses a world-readable or corrupt key file', async () => {
    const path = scratch.path('open.key');
    await createLocalKeyProvider({ path });
    chmodSync(path, 0o644);
    expect(await codeOf(createLocalKeyProvider({ path }))).toBe('KEY_PROVIDER_FAILED');
    const bad = scratch.path('bad.key');
    writeFileSync(bad, '{"version":1}', { mode: 0o600 });
    expect(await codeOf(createLocalKeyProvider({ path: bad }))).toBe('KEY_PROVIDER_FAILED');
  });

  it('moves secrets between providers and wraps provider failures', async () => {
    const a = createStaticKeyProvider(randomBytes(32), { id: 'a' });
    const b = createStaticKeyProvider(randomBytes(32), { id: 'b' });
    const opts = { owner: 'scep-ca', kind: 'ca-key' };
    const sealed = await sealSecret(secret, { ...opts, provider: a });
    const moved = await rewrapSecret(sealed, { ...opts, from: a, to: b });
    expect(await openSecret(moved, { ...opts, provider: b })).toEqual(secret);
    expect(await codeOf(openSecret(moved, { ...opts, provider: a }))).toBe('SEALED_SECRET_INVALID');
    const broken: KeyProvider = {
      id: 'kms',
      wrapKey: async () => Promise.reject(new Error('network')),
      unwrapKey: async () => Promise.reject(new Error('network')),
    };
    expect(await codeOf(sealSecret(secret, { ...opts, provider: broken }))).toBe('KEY_PROVIDER_FAILED');
    expect(await codeOf(rewrapSecret(sealed, { ...opts, from: a, to: broken }))).toBe('KEY_PROVIDER_FAILED');
    expect(() => createStaticKeyProvider(new Uint8Array(16))).toThrow(CryptoError);
  });
});
