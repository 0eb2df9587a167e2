import { randomBytes } from 'node:crypto';
import { createStaticKeyProvider } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import { createIdentityRenewal, RENEWAL_SECRET_KIND } from '../src/index';

const DAY = 86_400_000;

describe('identity renewal job', () => {
  it('skips a pending renewal, sends it again with a new token after retryAfterMs, and shares one lease', async () => {
    const storage = new MemoryStorage();
    const topic = 'com.apple.mgmt.External.renewal-test';
    await storage.authenticate({ id: 'UDID-1', topic });
    await storage.tokenUpdate({ id: 'UDID-1', channel: 'device', topic, pushToken: 'aa', pushMagic: 'm' });
    const hash = 'ab'.repeat(32);
    await storage.associateCertificate('UDID-1', hash);
    let clock = Date.now();
    await storage.putIdentityCertificate({
      hash,
      enrollmentId: 'UDID-1',
      notAfter: new Date(clock + 10 * DAY),
      trust: 'issued',
    });
    const enqueued: string[][] = [];
    const job = (holder: string) =>
      createIdentityRenewal({
        storage,
        keyProvider: createStaticKeyProvider(randomBytes(32)),
        renewalProfile: async (cn) => new TextEncoder().encode(cn),
        enqueue: async (_command, ids) => {
          enqueued.push([...ids]);
        },
        holder,
        retryAfterMs: 2 * DAY,
        now: () => new Date(clock),
      });
    const a = job('a');
    expect(await a.runOnce()).toEqual({ ran: true, enqueued: ['UDID-1'] });
    const first = await storage.getSecret('UDID-1', RENEWAL_SECRET_KIND);
    expect(await a.runOnce()).toEqual({ ran: true, enqueued: [] });
    // Another replica while a holds the lease does nothing.
    const lease = await storage.acquireLease('identity-renewal', 'a', 60_000);
    expect(await job('b').runOnce()).toEqual({ ran: false, enqueued: [] });
    await storage.releaseLease(lease!);
    clock += 3 * DAY;
    expect(await a.runOnce()).toEqual({ ran: true, enqueued: ['UDID-1'] });
    const second = await storage.getSecret('UDID-1', RENEWAL_SECRET_KIND);
    expect(second?.version).toBe(2);
    expect(Buffer.from(second!.sealed).equals(Buffer.from(first!.sealed))).toBe(false);
    expect(enqueued).toEqual([['UDID-1'], ['UDID-1']]);
  });
});
