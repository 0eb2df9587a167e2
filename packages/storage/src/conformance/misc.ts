import { describe, expect, it } from 'vitest';
import { bytes, type ConformanceContext, text } from './context';

export function miscConformance(ctx: ConformanceContext): void {
  describe('SCEP store', () => {
    it('consumes a challenge exactly once and never after expiry', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const future = new Date(Date.now() + 3_600_000);
      await s.putChallenge(`${p}h1`, future);
      expect(await s2.consumeChallenge(`${p}h1`)).toBe(true);
      expect(await s.consumeChallenge(`${p}h1`)).toBe(false);
      expect(await s.consumeChallenge(`${p}unknown`)).toBe(false);
      await s.putChallenge(`${p}h2`, new Date('2030-01-01T00:00:00Z'));
      expect(await s.consumeChallenge(`${p}h2`, new Date('2030-01-01T00:00:01Z'))).toBe(false);
      expect(await s.consumeChallenge(`${p}h2`, new Date('2029-01-01T00:00:00Z'))).toBe(false);
    });

    it('lets exactly one of many racing consumers win a challenge', async () => {
      const p = ctx.prefix();
      const handles = [ctx.s, ctx.s2, await ctx.open(), await ctx.open()];
      for (let round = 0; round < 5; round++) {
        const h = `${p}race${round}`;
        await ctx.s.putChallenge(h, new Date(Date.now() + 60_000));
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, i) => handles[i % handles.length]!.consumeChallenge(h)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('detects replayed sender nonces until they expire', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      expect(await s.recordSenderNonce(`${p}n1`, new Date(Date.now() + 60_000))).toBe(true);
      expect(await s2.recordSenderNonce(`${p}n1`, new Date(Date.now() + 60_000))).toBe(false);
      expect(await s.recordSenderNonce(`${p}n2`, new Date(Date.now() - 1_000))).toBe(true);
      expect(await s.recordSenderNonce(`${p}n2`, new Date(Date.now() + 60_000))).toBe(true);
      const racing = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? s : s2).recordSenderNonce(`${p}n3`, new Date(Date.now() + 60_000)),
        ),
      );
      expect(racing.filter(Boolean)).toHaveLength(1);
    });

    it('refuses new sender nonces under a flood without forgetting a live one, and recovers after expiry', async () => {
      const db = await ctx.fresh();
      const cap = 40;
      const h = await db.open({ limits: { maxSenderNonces: cap } });
      const h2 = await db.open({ limits: { maxSenderNonces: cap } });
      const p = ctx.prefix();
      // One expiry for the whole flood, far enough ahead that a slow database finishes the flood first.
      const until = new Date(Date.now() + 4_000);
      const soon = () => until;
      let refused = 0;
      for (let i = 0; i < cap * 3; i++) {
        try {
          expect(await (i % 2 ? h : h2).recordSenderNonce(`${p}f${i}`, soon())).toBe(true);
          expect(i).toBeLessThan(cap);
        } catch (e) {
          expect(e).toMatchObject({ name: 'StorageError', code: 'FULL' });
          refused++;
        }
      }
      expect(refused).toBe(cap * 2);
      // Every nonce taken before the store filled is still a replay, on either handle.
      for (let i = 0; i < cap; i++)
        expect(await (i % 2 ? h2 : h).recordSenderNonce(`${p}f${i}`, soon())).toBe(false);
      await new Promise((r) => setTimeout(r, Math.max(0, until.getTime() - Date.now()) + 1_100));
      // Once they expire there is room again.
      const later = new Date(Date.now() + 60_000);
      expect(await h.recordSenderNonce(`${p}after`, later)).toBe(true);
      expect(await h2.recordSenderNonce(`${p}after`, later)).toBe(false);
    });

    it('stores issued certificates and finds them by serial and subject', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const base = {
        subject: `CN=${p}device,O=Example`,
        notBefore: new Date('2030-01-01T00:00:00Z'),
        notAfter: new Date('2031-01-01T00:00:00Z'),
        certificateDer: new Uint8Array([0x30, 0x82, 0x01, 0x00, 0xff]),
      };
      await s.putIssuedCertificate({
        ...base,
        serial: `${p}01`,
        requester: 'UDID-1',
        issuedAt: new Date('2030-01-01T00:00:00Z'),
      });
      await s.putIssuedCertificate({ ...base, serial: `${p}02`, issuedAt: new Date('2030-02-01T00:00:00Z') });
      await s.putIssuedCertificate({ ...base, subject: 'CN=other', serial: `${p}03`, issuedAt: new Date() });
      const one = await s2.getIssuedCertificate(`${p}01`);
      expect(one).toMatchObject({ serial: `${p}01`, subject: base.subject, requester: 'UDID-1' });
      expect(one?.notAfter.getTime()).toBe(base.notAfter.getTime());
      expect(Array.from(one!.certificateDer)).toEqual([0x30, 0x82, 0x01, 0x00, 0xff]);
      expect((await s.getIssuedCertificate(`${p}02`))?.requester).toBeUndefined();
      expect(await s.getIssuedCertificate(`${p}99`)).toBeUndefined();
      expect((await s.findIssuedCertificatesBySubject(base.subject)).map((r) => r.serial)).toEqual([
        `${p}01`,
        `${p}02`,
      ]);
      await expect(
        s.putIssuedCertificate({ ...base, serial: `${p}01`, issuedAt: new Date() }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
    });
  });

  describe('push certificate store', () => {
    it('versions every replacement and lists by topic', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      expect(await s.getPushCert(`${p}topic`)).toBeUndefined();
      const v1 = await s.putPushCert({ topic: `${p}topic`, certificatePem: 'PEM1', sealedKey: bytes('k1') });
      expect(v1).toMatchObject({ topic: `${p}topic`, certificatePem: 'PEM1' });
      expect(v1.updatedAt).toBeInstanceOf(Date);
      const got = await s2.getPushCert(`${p}topic`);
      expect(got?.version).toBe(v1.version);
      expect(text(got?.sealedKey)).toBe('k1');
      const v2 = await s2.putPushCert({ topic: `${p}topic`, certificatePem: 'PEM2', sealedKey: bytes('k2') });
      expect(v2.version).not.toBe(v1.version);
      const v3 = await s.putPushCert({ topic: `${p}topic`, certificatePem: 'PEM2', sealedKey: bytes('k2') });
      expect(new Set([v1.version, v2.version, v3.version]).size).toBe(3);
      expect((await s.getPushCert(`${p}topic`))?.version).toBe(v3.version);
      await s.putPushCert({ topic: `${p}a-topic`, certificatePem: 'PEMA', sealedKey: bytes('ka') });
      const mine = (await s.listPushCerts()).filter((c) => c.topic.startsWith(p));
      expect(mine.map((c) => [c.topic, c.certificatePem])).toEqual([
        [`${p}a-topic`, 'PEMA'],
        [`${p}topic`, 'PEM2'],
      ]);
    });
  });

  describe('leases', () => {
    it('grants a lease to one holder, renews it, expires it and fences the old holder', async () => {
      const { s, s2 } = ctx;
      const name = `${ctx.prefix()}job`;
      const t0 = new Date('2030-01-01T00:00:00Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const a = await s.acquireLease(name, 'A', 10_000, t0);
      expect(a).toMatchObject({ name, holder: 'A' });
      expect(a!.expiresAt.getTime()).toBe(at(10_000).getTime());
      expect(await s2.acquireLease(name, 'B', 10_000, at(1_000))).toBeUndefined();
      const again = await s.acquireLease(name, 'A', 10_000, at(2_000));
      expect(again?.token).toBe(a!.token);
      expect((await s2.getLease(name, at(3_000)))?.holder).toBe('A');
      const renewed = await s.renewLease(a!, 10_000, at(9_000));
      expect(renewed?.expiresAt.getTime()).toBe(at(19_000).getTime());

      await s.writeJobState(name, a!.token, '{"cursor":1}');
      expect(await s2.readJobState(name)).toMatchObject({ name, state: '{"cursor":1}', token: a!.token });

      // A pauses past expiry; B takes over with a newer token
      expect(await s2.getLease(name, at(20_000))).toBeUndefined();
      const b = await s2.acquireLease(name, 'B', 10_000, at(20_000));
      expect(b?.holder).toBe('B');
      expect(b!.token).toBeGreaterThan(a!.token);
      await s2.writeJobState(name, b!.token, '{"cursor":2}');
      await expect(s.writeJobState(name, a!.token, '{"cursor":0}')).rejects.toMatchObject({
        name: 'StorageError',
        code: 'FENCED',
      });
      expect((await s.readJobState(name))?.state).toBe('{"cursor":2}');
      expect(await s.renewLease(a!, 10_000, at(21_000))).toBeUndefined();
      expect(await s.releaseLease(a!)).toBe(false);
      expect((await s.getLease(name, at(21_000)))?.holder).toBe('B');

      expect(await s2.releaseLease(b!)).toBe(true);
      expect(await s.getLease(name, at(21_000))).toBeUndefined();
      const c = await s.acquireLease(name, 'A', 10_000, at(22_000));
      expect(c!.token).toBeGreaterThan(b!.token);
      await expect(s.writeJobState(name, b!.token, 'x')).rejects.toMatchObject({ code: 'FENCED' });
      await expect(s.writeJobState(`${name}-never`, 1, 'x')).rejects.toMatchObject({ code: 'FENCED' });
      expect(await s.readJobState(`${name}-never`)).toBeUndefined();
    });

    it('gives a contested lease to exactly one of many racing holders, tokens strictly increasing', async () => {
      const name = `${ctx.prefix()}race`;
      const handles = [ctx.s, ctx.s2, await ctx.open(), await ctx.open()];
      const t0 = Date.parse('2030-01-01T00:00:00Z');
      let lastToken = 0;
      for (let round = 0; round < 6; round++) {
        const now = new Date(t0 + round * 60_000);
        const got = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            handles[i % handles.length]!.acquireLease(name, `H${i}`, 30_000, now),
          ),
        );
        const winners = got.filter((l) => l !== undefined);
        expect(winners).toHaveLength(1);
        expect(winners[0]!.token).toBeGreaterThan(lastToken);
        lastToken = winners[0]!.token;
      }
    });
  });

  describe('migrations', () => {
    it('are applied once when several handles migrate a new database at the same time', async () => {
      const db = await ctx.fresh();
      const handles = await Promise.all(Array.from({ length: 4 }, () => db.open({ migrate: false })));
      const reports = await Promise.all(handles.map((h) => h.migrate()));
      const versions = new Set(reports.map((r) => r.version));
      expect(versions.size).toBe(1);
      const applied = reports.flatMap((r) => r.applied).sort((x, y) => x - y);
      expect(new Set(applied).size).toBe(applied.length);
      expect(applied.length).toBeGreaterThan(0);
      expect(applied[applied.length - 1]).toBe(reports[0]!.version);
      // and the schema works from every handle
      await handles[0]!.authenticate({ id: 'after-migrate' });
      expect((await handles[3]!.getEnrollment('after-migrate'))?.id).toBe('after-migrate');
      expect((await handles[1]!.migrate()).applied).toEqual([]);
    });
  });
}
