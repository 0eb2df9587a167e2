import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
import { describe, expect, it } from 'vitest';
import { api, serverForSuite } from './helpers';

describe("the device-secret route opens device secrets only, never the server's own keys", () => {
  const suite = serverForSuite();

  const read = (owner: string, kind: string) =>
    suite.server.fetch(
      `${suite.server.url}/api/v1/enrollments/${encodeURIComponent(owner)}/secrets/${encodeURIComponent(kind)}`,
      {
        headers: {
          authorization: `Bearer ${suite.admin}`,
          'x-mdmkit-reason': 'attack: exfiltrate server keys',
        },
      },
    );

  for (const [owner, kind] of [
    ['mdmkit-server', 'scep-ca'],
    ['mdmkit-server', 'profile-signer'],
    ['mdmkit-server:users', 'admin'],
    ['mdmkit:filevault-escrow', 'identity'],
  ] as const) {
    it(`refuses ${owner}/${kind} with a typed 4xx and no key material`, async () => {
      const res = await read(owner, kind);
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(text).not.toContain('PRIVATE KEY');
      expect(JSON.parse(text).error.code).toMatch(/^(NOT_FOUND|BAD_REQUEST)$/);
    });
  }
});

describe('command results that carry a device secret', () => {
  const suite = serverForSuite();

  it("shows an ActivationLockBypassCode answer's code to admins only, not to observers or maintainers", async () => {
    const profile = new Uint8Array(
      await (await suite.server.fetch(`${suite.server.url}/mdm/enroll`)).arrayBuffer(),
    );
    const mac = await VirtualDevice.enroll(profile, { platform: 'macOS', fetch: suite.server.fetch });
    const queued = await api(suite.server, 'POST', '/api/v1/commands', suite.admin, {
      enrollmentIds: [mac.udid],
      command: { requestType: 'ActivationLockBypassCode', payload: {} },
      push: false,
    });
    expect(queued.status, queued.text).toBe(201);
    const uuid = queued.json.commandUuid as string;
    // The device answers with its bypass code, as a supervised Mac does.
    const wire = mac as unknown as {
      device: unknown;
      report(channel: unknown, fields: Record<string, unknown>): Promise<Uint8Array>;
    };
    const handedOut = new TextDecoder().decode(await wire.report(wire.device, { Status: 'Idle' }));
    expect(handedOut).toContain(uuid);
    const code = 'ABCDE-FGHIJ-KLMNO-PQRST-UVWXY';
    await wire.report(wire.device, {
      Status: 'Acknowledged',
      CommandUUID: uuid,
      ActivationLockBypassCode: code,
    });

    const tokens: Record<string, string> = {};
    for (const role of ['observer', 'maintainer'] as const) {
      const made = await api(suite.server, 'POST', '/api/v1/users', suite.admin, { name: `u-${role}`, role });
      tokens[role] = made.json.token;
    }
    const path = `/api/v1/commands/${uuid}/results`;
    const shown = (text: string) =>
      text.includes(code) ||
      (JSON.parse(text).results as { rawPayload?: string }[]).some((r) =>
        Buffer.from(r.rawPayload ?? '', 'base64')
          .toString('utf8')
          .includes(code),
      );
    for (const role of ['observer', 'maintainer'] as const) {
      const r = await api(suite.server, 'GET', path, tokens[role]);
      expect(r.status).toBe(200);
      expect(r.json.results).toEqual([
        expect.objectContaining({ enrollmentId: mac.udid, status: 'Acknowledged' }),
      ]);
      expect(shown(r.text), role).toBe(false);
    }
    const byAdmin = await api(suite.server, 'GET', path, suite.admin);
    expect(shown(byAdmin.text)).toBe(true);
  }, 60_000);
});
