import { deviceInformationCommand } from '@mdmkit/commands';
import { parse as parsePlist } from '@mdmkit/plist';
import type { MdmStorage, OutboxStore } from '@mdmkit/storage';
import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWebhookWorker,
  type MdmEvent,
  retryDelay,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookEvent,
} from '../src/index';
import { type Harness, startHarness } from './harness';
import { TestReceiver } from './receiver';
import { STORAGES } from './storages';

const SECRET = 'webhook shared secret for tests';

describe('webhook signatures', () => {
  const body = new TextEncoder().encode('{"topic":"mdm.Connect","event_id":"e1"}');

  it('verifies a body signed with the shared secret', () => {
    expect(verifyWebhookSignature(SECRET, body, signWebhookBody(SECRET, body))).toBe(true);
    // The same bytes as text verify too.
    expect(verifyWebhookSignature(SECRET, Buffer.from(body).toString(), signWebhookBody(SECRET, body))).toBe(
      true,
    );
  });

  it('refuses an altered body, a forged signature, another secret and a missing header', () => {
    const signature = signWebhookBody(SECRET, body);
    const altered = new TextEncoder().encode('{"topic":"mdm.Connect","event_id":"e2"}');
    expect(verifyWebhookSignature(SECRET, altered, signature)).toBe(false);
    const forged = signWebhookBody('attacker guess', body);
    expect(verifyWebhookSignature(SECRET, body, forged)).toBe(false);
    expect(verifyWebhookSignature('another secret', body, signature)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(SECRET, body, '')).toBe(false);
    // A truncated signature, or a hex one of the right digest, is not accepted either.
    expect(verifyWebhookSignature(SECRET, body, signature.slice(0, 20))).toBe(false);
    const hex = Buffer.from(signature, 'base64').toString('hex');
    expect(verifyWebhookSignature(SECRET, body, hex)).toBe(false);
  });
});

describe('retry delay', () => {
  it('grows exponentially, is capped, and is jittered within the upper half', () => {
    expect(retryDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelay(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelay(40, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelay(40, 1000, 60_000, () => 0)).toBe(30_000);
  });
});

for (const backend of STORAGES) {
  describe.skipIf(!backend.available)(`webhooks from the outbox on ${backend.name}`, () => {
    let h: Harness;
    let destroy: () => Promise<void>;
    let storage: MdmStorage & OutboxStore;
    let mac: VirtualDevice;
    let commandUuid: string;
    const receiver = new TestReceiver();

    beforeAll(async () => {
      const opened = await backend.open();
      storage = opened.storage as MdmStorage & OutboxStore;
      destroy = opened.destroy;
      h = await startHarness(storage, { outbox: true });
      mac = await VirtualDevice.enroll(await h.profile(), { fetch: h.fetch, platform: 'macOS' });
      h.apns.registerDevice(mac.pushToken, () => mac.receivePush());
      const command = deviceInformationCommand({ Queries: ['SerialNumber'] });
      commandUuid = command.CommandUUID;
      await h.mdm.enqueue(command, [mac.udid]);
      while (mac.handled.length === 0) await new Promise((r) => setTimeout(r, 10));
      await mac.idle();
    });
    afterAll(async () => {
      await receiver.down();
      await h?.close();
      await destroy?.();
    });

    const withIds = (): Extract<MdmEvent, { eventId: string }>[] =>
      h.events.filter((e): e is Extract<MdmEvent, { eventId: string }> => 'eventId' in e);

    it('a receiver down, then answering 500, then back gets every event exactly once', async () => {
      const expected = withIds().map((e) => e.eventId);
      expect(expected.length).toBeGreaterThanOrEqual(4); // Authenticate, TokenUpdate, reports
      let clock = Date.now();
      // Learn a free port, then take the receiver down: connections are refused.
      await receiver.up();
      const url = receiver.url;
      await receiver.down();
      const w = createWebhookWorker({
        store: storage,
        url,
        secret: SECRET,
        retryBaseMs: 1000,
        retryMaxMs: 60_000,
        timeoutMs: 2000,
        now: () => new Date(clock),
      });
      // Down for an hour: every round fails, nothing is lost.
      for (let i = 0; i < 5; i++) {
        const r = await w.runOnce();
        expect(r.delivered).toBe(0);
        clock += 12 * 60_000;
      }
      // Back, but failing.
      await receiver.up();
      receiver.mode = 'fail';
      const failing = await w.runOnce();
      expect(failing.failed).toBe(expected.length);
      expect(receiver.accepted).toEqual([]);
      // Not due again before the backoff runs out.
      expect(await w.runOnce()).toEqual({ delivered: 0, failed: 0 });
      // Recovered.
      receiver.mode = 'ok';
      clock += 120_000;
      let rounds = 0;
      while ((await w.runOnce()).delivered > 0) rounds += 1;
      expect(rounds).toBeGreaterThan(0);
      const got = receiver.accepted.map((r) => r.json.event_id);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual([...expected].sort());
      // In the order they happened.
      expect(got).toEqual(expected);
      for (const r of receiver.accepted)
        expect(verifyWebhookSignature(SECRET, r.body, r.signature)).toBe(true);
      // Confirmed events are gone from the outbox.
      clock += 3_600_000;
      expect(await storage.claimOutbox('check', { limit: 10, leaseMs: 1000, now: new Date(clock) })).toEqual(
        [],
      );
    });

    it('keeps a bootstrap token out of the outbox: it is sealed at rest, the event is not', async () => {
      const token = new TextEncoder().encode('bootstrap-token-never-in-the-outbox');
      await mac.setBootstrapToken(token);
      const claimed = await storage.claimOutbox('bootstrap-check', {
        limit: 1000,
        leaseMs: 1000,
        now: new Date(Date.now() + 86_400_000),
      });
      const event = claimed
        .map((e) => JSON.parse(Buffer.from(e.payload).toString('utf8')) as WebhookEvent)
        .find((e) => e.topic === 'mdm.SetBootstrapToken');
      expect(event?.checkin_event?.udid).toBe(mac.udid);
      for (const e of claimed) {
        const text = Buffer.from(e.payload).toString('utf8');
        expect(text.includes(Buffer.from(token).toString('base64'))).toBe(false);
        const raw = JSON.parse(text) as WebhookEvent;
        const plist = Buffer.from(
          raw.checkin_event?.raw_payload ?? raw.acknowledge_event?.raw_payload ?? '',
          'base64',
        );
        expect(plist.includes(Buffer.from(token))).toBe(false);
        expect(plist.includes(Buffer.from(Buffer.from(token).toString('base64')))).toBe(false);
      }
      const sent = parsePlist(Buffer.from(event?.checkin_event?.raw_payload ?? '', 'base64')) as Record<
        string,
        unknown
      >;
      expect(sent.MessageType).toBe('SetBootstrapToken');
      expect(sent.UDID).toBe(mac.udid);
      expect(sent.BootstrapToken).toBeUndefined();
      // Hand the claimed events back for the next test.
      for (const e of claimed) await storage.rescheduleOutbox('bootstrap-check', e.id, new Date(0), 'test');
    });

    it('sends the NanoMDM/MicroMDM JSON shape with the raw payload base64', () => {
      const events = receiver.accepted.map((r) => r.json as unknown as WebhookEvent);
      const auth = events.find((e) => e.topic === 'mdm.Authenticate');
      expect(auth?.checkin_event?.udid).toBe(mac.udid);
      expect(typeof auth?.created_at).toBe('string');
      expect(Number.isNaN(Date.parse(auth?.created_at ?? ''))).toBe(false);
      const authPlist = parsePlist(Buffer.from(auth?.checkin_event?.raw_payload ?? '', 'base64')) as Record<
        string,
        unknown
      >;
      expect(authPlist.MessageType).toBe('Authenticate');
      expect(authPlist.UDID).toBe(mac.udid);
      const token = events.find((e) => e.topic === 'mdm.TokenUpdate');
      expect(token?.checkin_event?.udid).toBe(mac.udid);
      // NanoMDM tells a first TokenUpdate (enrollment) from later ones by this count; consumers
      // send their initial commands on 1.
      expect(token?.checkin_event?.token_update_tally).toBe(1);
      // NanoMDM always sends command_uuid on mdm.Connect, empty for an Idle report.
      const idle = events.find((e) => e.acknowledge_event?.status === 'Idle');
      expect(idle?.acknowledge_event?.command_uuid).toBe('');
      const ack = events.find((e) => e.acknowledge_event?.command_uuid === commandUuid);
      expect(ack?.topic).toBe('mdm.Connect');
      expect(ack?.acknowledge_event?.status).toBe('Acknowledged');
      expect(ack?.acknowledge_event?.udid).toBe(mac.udid);
      const report = parsePlist(Buffer.from(ack?.acknowledge_event?.raw_payload ?? '', 'base64')) as Record<
        string,
        unknown
      >;
      expect(report.CommandUUID).toBe(commandUuid);
      // Every event id is also on the typed event the host saw.
      const ids = new Set(withIds().map((e) => e.eventId));
      for (const e of events) expect(ids.has(e.event_id)).toBe(true);
      const typed = withIds().find((e) => e.type === 'report' && e.commandUuid === commandUuid);
      expect(typed?.eventId).toBe(ack?.event_id);
    });
  });
}
