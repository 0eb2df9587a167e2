import { describe, expect, it } from 'vitest';
import { bytes, type ConformanceContext } from './context';

const push = (p: string) => ({ topic: 'com.apple.mgmt.test', pushToken: `${p}aa01`, pushMagic: `${p}magic` });

export function enrollmentConformance(ctx: ConformanceContext): void {
  describe('enrollments', () => {
    it('applies Authenticate, TokenUpdate and CheckOut to device and user channels', async () => {
      const { s } = ctx;
      const dev = `${ctx.prefix()}UDID`;
      const user = `${dev}:USER1`;
      expect(await s.getEnrollment(dev)).toBeUndefined();
      await s.authenticate({
        id: dev,
        serialNumber: 'SN1',
        topic: 'com.apple.mgmt.test',
        raw: bytes('<plist/>'),
      });
      let d = await s.getEnrollment(dev);
      expect(d).toMatchObject({
        id: dev,
        channel: 'device',
        deviceId: dev,
        serialNumber: 'SN1',
        enabled: false,
      });
      expect(d?.tokenUpdateTally).toBe(0);
      expect(d?.createdAt).toBeInstanceOf(Date);

      expect(
        await s.tokenUpdate({ id: dev, channel: 'device', ...push('d'), unlockToken: bytes('unlock') }),
      ).toBe(1);
      d = await s.getEnrollment(dev);
      expect(d).toMatchObject({
        enabled: true,
        tokenUpdateTally: 1,
        pushToken: 'daa01',
        pushMagic: 'dmagic',
      });
      expect(Buffer.from(d!.unlockToken!).toString()).toBe('unlock');
      expect(await s.tokenUpdate({ id: dev, channel: 'device', ...push('e') })).toBe(2);
      d = await s.getEnrollment(dev);
      expect(d?.pushToken).toBe('eaa01');
      expect(Buffer.from(d!.unlockToken!).toString()).toBe('unlock');

      await s.userAuthenticate({ id: user, deviceId: dev, userId: 'USER1', userShortName: 'ann' });
      let u = await s.getEnrollment(user);
      expect(u).toMatchObject({
        channel: 'user',
        deviceId: dev,
        userId: 'USER1',
        userShortName: 'ann',
        enabled: false,
      });
      expect(
        await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, userId: 'USER1', ...push('u') }),
      ).toBe(1);
      u = await s.getEnrollment(user);
      expect(u).toMatchObject({ enabled: true, pushToken: 'uaa01', userShortName: 'ann' });

      await s.checkOut(dev);
      expect((await s.getEnrollment(dev))?.enabled).toBe(false);
      expect((await s.getEnrollment(user))?.enabled).toBe(false);
      await s.checkOut(`${dev}-unknown`);

      await s.tokenUpdate({ id: dev, channel: 'device', ...push('d') });
      await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, ...push('u') });
      await s.checkOut(user);
      expect((await s.getEnrollment(dev))?.enabled).toBe(true);
      expect((await s.getEnrollment(user))?.enabled).toBe(false);

      // re-enrollment resets the tally, so tally 1 marks "just enrolled" again
      await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, ...push('u') });
      await s.authenticate({ id: dev, serialNumber: 'SN1' });
      d = await s.getEnrollment(dev);
      expect(d).toMatchObject({ enabled: false, tokenUpdateTally: 0, topic: 'com.apple.mgmt.test' });
      expect((await s.getEnrollment(user))?.enabled).toBe(false);
      expect(await s.tokenUpdate({ id: dev, channel: 'device', ...push('d') })).toBe(1);
    });

    it('starts the enrollment over on a new Authenticate: channels off, tallies reset, queues cleared', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const dev = `${p}UDID`;
      const user = `${dev}:USER1`;
      const other = `${p}OTHER`;
      await s.authenticate({ id: dev, serialNumber: 'SN1' });
      expect(await s.tokenUpdate({ id: dev, channel: 'device', ...push('d') })).toBe(1);
      await s.userAuthenticate({ id: user, deviceId: dev, userId: 'USER1' });
      expect(await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, ...push('u') })).toBe(1);
      expect(await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, ...push('u') })).toBe(2);
      await s.tokenUpdate({ id: other, channel: 'device', ...push('o') });

      const cmd = (n: string) => ({
        uuid: `${p}cmd-${n}`,
        requestType: 'DeviceInformation',
        payload: bytes(n),
      });
      await s.enqueueCommand(cmd('answered'), [dev]);
      await s.enqueueCommand(cmd('pending'), [dev, user, other]);
      await s.enqueueCommand(cmd('notnow'), [dev]);
      await s.enqueueCommand(cmd('user'), [user]);
      expect(
        (
          await s.recordResult({
            enrollmentId: dev,
            commandUuid: `${p}cmd-answered`,
            status: 'Acknowledged',
            payload: bytes('r'),
          })
        ).outcome,
      ).toBe('stored');
      await s.recordResult({ enrollmentId: dev, commandUuid: `${p}cmd-notnow`, status: 'NotNow' });

      await s2.authenticate({ id: dev, serialNumber: 'SN1' });

      expect(await s.getEnrollment(dev)).toMatchObject({ enabled: false, tokenUpdateTally: 0 });
      expect(await s.getEnrollment(user)).toMatchObject({ enabled: false, tokenUpdateTally: 0 });
      expect(await s.listQueue(dev)).toEqual([]);
      expect(await s.listQueue(user)).toEqual([]);
      expect(await s.nextCommand(dev)).toBeUndefined();
      expect(await s.nextCommand(user)).toBeUndefined();
      expect(await s.getPushInfo([dev, user])).toEqual([]);
      // results already stored stay, and other devices keep their queue and enrollment
      expect((await s.getResults(`${p}cmd-answered`)).map((r) => r.enrollmentId)).toEqual([dev]);
      expect((await s.listQueue(other)).map((e) => e.uuid)).toEqual([`${p}cmd-pending`]);
      expect(await s.getEnrollment(other)).toMatchObject({ enabled: true, tokenUpdateTally: 1 });

      // the next TokenUpdates mark each channel as just enrolled again
      expect(await s.tokenUpdate({ id: dev, channel: 'device', ...push('d') })).toBe(1);
      expect(await s.tokenUpdate({ id: user, channel: 'user', deviceId: dev, ...push('u') })).toBe(1);
      // a report for a command the Authenticate cleared is unknown and stores nothing
      expect(
        (await s.recordResult({ enrollmentId: dev, commandUuid: `${p}cmd-pending`, status: 'Acknowledged' }))
          .outcome,
      ).toBe('unknown');
      expect(await s.getResults(`${p}cmd-pending`)).toEqual([]);
    });

    it('rejects malformed enrollment input with INVALID_INPUT', async () => {
      const { s } = ctx;
      await expect(s.authenticate({ id: '' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(
        s.tokenUpdate({ id: `${ctx.prefix()}U`, channel: 'user', ...push('x') }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(s.authenticate({ id: 'x'.repeat(300) })).rejects.toMatchObject({ name: 'StorageError' });
    });

    it('stores bootstrap tokens for known enrollments only', async () => {
      const { s } = ctx;
      const dev = `${ctx.prefix()}UDID`;
      await expect(s.putBootstrapToken(dev, bytes('tok'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await s.getBootstrapToken(dev)).toBeUndefined();
      await s.authenticate({ id: dev });
      const token = new Uint8Array([0, 1, 2, 255, 254]);
      await s.putBootstrapToken(dev, token);
      expect(Array.from((await s.getBootstrapToken(dev))!)).toEqual([0, 1, 2, 255, 254]);
      await s.putBootstrapToken(dev, bytes('second'));
      expect(Buffer.from((await s.getBootstrapToken(dev))!).toString()).toBe('second');
    });

    it('coalesces last-seen writes to one per interval', async () => {
      const { s } = ctx;
      const dev = `${ctx.prefix()}UDID`;
      const t0 = new Date('2030-01-01T00:00:00Z');
      expect(await s.touchLastSeen(dev, t0)).toBe(false);
      await s.authenticate({ id: dev });
      expect(await s.touchLastSeen(dev, t0)).toBe(true);
      expect((await s.getEnrollment(dev))?.lastSeenAt?.getTime()).toBe(t0.getTime());
      expect(await s.touchLastSeen(dev, new Date(t0.getTime() + 1_000))).toBe(false);
      expect(await s.touchLastSeen(dev, new Date(t0.getTime() - 120_000))).toBe(false);
      expect((await s.getEnrollment(dev))?.lastSeenAt?.getTime()).toBe(t0.getTime());
      const t1 = new Date(t0.getTime() + 61_000);
      expect(await s.touchLastSeen(dev, t1)).toBe(true);
      expect((await s.getEnrollment(dev))?.lastSeenAt?.getTime()).toBe(t1.getTime());
    });

    it('honours a configured last-seen interval', async () => {
      const h = await ctx.open({ lastSeenIntervalMs: 1_000 });
      const dev = `${ctx.prefix()}UDID`;
      await h.authenticate({ id: dev });
      const t0 = new Date('2030-01-01T00:00:00Z');
      expect(await h.touchLastSeen(dev, t0)).toBe(true);
      expect(await h.touchLastSeen(dev, new Date(t0.getTime() + 500))).toBe(false);
      expect(await h.touchLastSeen(dev, new Date(t0.getTime() + 1_500))).toBe(true);
    });

    it('binds identity-certificate hashes to one enrollment only', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      const b = `${p}B`;
      const hash = `${p}${'ab'.repeat(20)}`;
      expect(await s.enrollmentForCertificate(hash)).toBeUndefined();
      await s.associateCertificate(a, hash);
      await s.associateCertificate(a, hash);
      await s.associateCertificate(a, `${hash}2`);
      expect(await s2.enrollmentForCertificate(hash)).toBe(a);
      expect(await s.isCertificateAssociated(a, hash)).toBe(true);
      expect(await s.isCertificateAssociated(a, `${hash}2`)).toBe(true);
      expect(await s.isCertificateAssociated(b, hash)).toBe(false);
      await expect(s2.associateCertificate(b, hash)).rejects.toMatchObject({
        name: 'StorageError',
        code: 'CONFLICT',
      });
      expect(await s.enrollmentForCertificate(hash)).toBe(a);

      // racing two enrollments for one fresh hash: exactly one wins
      const h2 = `${p}race`;
      const settled = await Promise.allSettled([
        s.associateCertificate(a, h2),
        s2.associateCertificate(b, h2),
      ]);
      expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const owner = await s.enrollmentForCertificate(h2);
      expect([a, b]).toContain(owner);
    });

    it("replaces the certificates of an enrollment with one, never taking another enrollment's", async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      const a = `${p}A`;
      const b = `${p}B`;
      const [old1, old2, fresh, theirs] = ['o1', 'o2', 'new', 'b'].map((n) => `${p}${n}${'cd'.repeat(20)}`);
      await s.associateCertificate(a, old1!);
      await s.associateCertificate(a, old2!);
      await s.associateCertificate(b, theirs!);
      await s2.replaceCertificate(a, fresh!);
      expect(await s.enrollmentForCertificate(fresh!)).toBe(a);
      expect(await s.enrollmentForCertificate(old1!)).toBeUndefined();
      expect(await s.enrollmentForCertificate(old2!)).toBeUndefined();
      await s.replaceCertificate(a, fresh!);
      expect(await s.isCertificateAssociated(a, fresh!)).toBe(true);
      // Another enrollment's certificate: CONFLICT, and neither enrollment loses anything.
      await expect(s2.replaceCertificate(a, theirs!)).rejects.toMatchObject({
        name: 'StorageError',
        code: 'CONFLICT',
      });
      expect(await s.enrollmentForCertificate(theirs!)).toBe(b);
      expect(await s.enrollmentForCertificate(fresh!)).toBe(a);
    });

    it('exports and imports enrollments with tokens and certificate hashes', async () => {
      const { s, s2 } = ctx;
      const p = ctx.prefix();
      for (const n of ['1', '2', '3']) {
        await s.authenticate({ id: `${p}D${n}`, serialNumber: `S${n}` });
        await s.tokenUpdate({ id: `${p}D${n}`, channel: 'device', ...push(n) });
        await s.associateCertificate(`${p}D${n}`, `${p}h${n}`);
      }
      await s.putBootstrapToken(`${p}D2`, bytes('boot'));
      const mine = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await s.exportEnrollments(after === undefined ? { limit: 50 } : { limit: 50, after });
        mine.push(...page.items.filter((i) => i.enrollment.id.startsWith(p)));
        after = page.next;
        pages++;
      } while (after !== undefined && pages < 10_000);
      expect(mine.map((i) => i.enrollment.id)).toEqual([`${p}D1`, `${p}D2`, `${p}D3`]);
      expect(mine[1]?.certificateHashes).toEqual([`${p}h2`]);
      expect(Buffer.from(mine[1]!.bootstrapToken!).toString()).toBe('boot');

      const q = ctx.prefix();
      const moved = mine.map((i) => ({
        enrollment: {
          ...i.enrollment,
          id: `${q}${i.enrollment.id.slice(p.length)}`,
          deviceId: `${q}${i.enrollment.id.slice(p.length)}`,
        },
        certificateHashes: i.certificateHashes.map((h) => `${q}${h}`),
        ...(i.bootstrapToken ? { bootstrapToken: i.bootstrapToken } : {}),
      }));
      expect(await s2.importEnrollments(moved)).toBe(3);
      const back = await s.getEnrollment(`${q}D2`);
      expect(back).toMatchObject({
        serialNumber: 'S2',
        enabled: true,
        tokenUpdateTally: 1,
        pushToken: '2aa01',
      });
      expect(back?.createdAt.getTime()).toBe(mine[1]!.enrollment.createdAt.getTime());
      expect(Buffer.from((await s.getBootstrapToken(`${q}D2`))!).toString()).toBe('boot');
      expect(await s.enrollmentForCertificate(`${q}${p}h3`)).toBe(`${q}D3`);

      // an import that would steal a certificate is refused
      const clash = [{ enrollment: { ...moved[0]!.enrollment, id: `${q}X` }, certificateHashes: [`${p}h1`] }];
      await expect(s.importEnrollments(clash)).rejects.toMatchObject({ code: 'CONFLICT' });
    });
  });

  describe('enrollment queries', () => {
    it('lists and filters enrollments in binary id order, paged', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      // mixed case and punctuation catch locale-aware collations
      const suffixes = ['a', 'B', 'a-b', 'a_c', 'Z', 'a:user', '0'];
      for (const x of suffixes)
        await s.authenticate({ id: `${p}${x}`, serialNumber: x === 'B' ? 'SER-B' : 'SER' });
      const expected = suffixes.map((x) => `${p}${x}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await s.listEnrollments({ idPrefix: p, limit: 3, ...(after ? { after } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((e) => e.id));
        after = page.next;
        if (!after) break;
      }
      expect(seen).toEqual(expected);

      expect(
        (await s.listEnrollments({ idPrefix: p, serialNumber: 'SER-B' })).items.map((e) => e.id),
      ).toEqual([`${p}B`]);
      expect(
        (await s.listEnrollments({ ids: [`${p}Z`, `${p}0`, `${p}nope`] })).items.map((e) => e.id),
      ).toEqual([`${p}0`, `${p}Z`]);
      await s.tokenUpdate({ id: `${p}a`, channel: 'device', ...push('a') });
      await s.tokenUpdate({ id: `${p}a:user`, channel: 'user', deviceId: `${p}a`, ...push('u') });
      expect((await s.listEnrollments({ idPrefix: p, enabled: true })).items.map((e) => e.id)).toEqual([
        `${p}a`,
        `${p}a:user`,
      ]);
      expect((await s.listEnrollments({ idPrefix: p, channel: 'user' })).items.map((e) => e.id)).toEqual([
        `${p}a:user`,
      ]);
      expect((await s.listEnrollments({ idPrefix: p, enabled: false })).items).toHaveLength(5);

      const t = new Date('2031-06-01T00:00:00Z');
      await s.touchLastSeen(`${p}a`, t);
      await s.touchLastSeen(`${p}B`, new Date(t.getTime() - 3_600_000));
      expect((await s.listEnrollments({ idPrefix: p, lastSeenAfter: t })).items.map((e) => e.id)).toEqual([
        `${p}a`,
      ]);
      const stale = (await s.listEnrollments({ idPrefix: p, lastSeenBefore: t })).items.map((e) => e.id);
      expect(stale).toContain(`${p}B`);
      expect(stale).toContain(`${p}Z`);
      expect(stale).not.toContain(`${p}a`);
    });

    // SQL adapters turn idPrefix into a LIKE pattern; each escapes the pattern characters its own way
    // (a backslash, or an explicit ESCAPE character), so every one of them is tried here.
    it('takes idPrefix literally: LIKE wildcards and escape characters match only themselves', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      const marks = ['%', '_', '\\', '!', 'x'];
      for (const m of marks) await s.authenticate({ id: `${p}a${m}b` });
      for (const m of marks) {
        const page = await s.listEnrollments({ idPrefix: `${p}a${m}` });
        expect(page.items.map((e) => e.id)).toEqual([`${p}a${m}b`]);
      }
      expect((await s.listEnrollments({ idPrefix: `${p}a` })).items).toHaveLength(marks.length);
    });

    it('returns push info for many ids at once, enabled only', async () => {
      const { s } = ctx;
      const p = ctx.prefix();
      const ids = Array.from({ length: 30 }, (_, i) => `${p}${String(i).padStart(2, '0')}`);
      for (const id of ids) await s.tokenUpdate({ id, channel: 'device', ...push(id) });
      await s.checkOut(ids[3]!);
      await s.authenticate({ id: ids[4]! });
      const info = await s.getPushInfo([...ids, `${p}missing`, ids[0]!]);
      expect(info.map((i) => i.id).sort()).toEqual(ids.filter((_, i) => i !== 3 && i !== 4));
      expect(info.find((i) => i.id === ids[7])).toEqual({
        id: ids[7],
        topic: 'com.apple.mgmt.test',
        pushToken: `${ids[7]}aa01`,
        pushMagic: `${ids[7]}magic`,
      });
      expect(await s.getPushInfo([])).toEqual([]);
    });
  });
}
