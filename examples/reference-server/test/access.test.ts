import { createStaticKeyProvider, openSecret } from '@mdmkit/crypto';
import { MemoryStorage } from '@mdmkit/storage';
import { describe, expect, it } from 'vitest';
import { AccessControl, allows, MetricsRegistry, ROLES } from '../src/index';

const provider = createStaticKeyProvider(new Uint8Array(32).fill(9));

describe('users and tokens', () => {
  it('the first start makes one admin with a token printed once; later starts make none', async () => {
    const storage = new MemoryStorage();
    const access = new AccessControl(storage, provider);
    const token = await access.bootstrap(undefined);
    expect(token).toMatch(/^mdmk_/);
    expect(await access.bootstrap(undefined)).toBeUndefined();
    expect(await new AccessControl(storage, provider).authenticate(token!)).toMatchObject({
      user: 'admin',
      role: 'admin',
    });
  });

  it('stores no token: rows are keyed by its SHA-256 and sealed', async () => {
    const storage = new MemoryStorage();
    const access = new AccessControl(storage, provider);
    const { token } = await access.createUser('olga', 'observer');
    const rows = (await storage.listSecrets({ limit: 100 })).items;
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(Buffer.from(row.sealed).includes(Buffer.from(token))).toBe(false);
      expect(row.kind).not.toContain(token);
    }
    // A sealed row moved under another token's key does not open.
    const tokenRow = rows.find((r) => r.owner.endsWith(':tokens'))!;
    await expect(
      openSecret(tokenRow.sealed, { provider, owner: tokenRow.owner, kind: 'sha256:00' }),
    ).rejects.toThrow();
  });

  it('refuses unknown, altered, revoked and orphaned tokens', async () => {
    const storage = new MemoryStorage();
    const access = new AccessControl(storage, provider);
    const { token, tokenId } = await access.createUser('max', 'maintainer');
    expect((await access.authenticate(token)).role).toBe('maintainer');
    for (const bad of ['', `${token}x`, token.slice(0, -1), 'x'.repeat(600)]) {
      await expect(access.authenticate(bad)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await access.revokeToken(tokenId)).toBe(true);
    await expect(new AccessControl(storage, provider).authenticate(token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const second = await access.issueToken('max');
    expect(await access.deleteUser('max')).toBe(true);
    await expect(new AccessControl(storage, provider).authenticate(second.token)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('refuses a second user of the same name and bad names or roles', async () => {
    const access = new AccessControl(new MemoryStorage(), provider);
    await access.createUser('olga', 'observer');
    await expect(access.createUser('olga', 'admin')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(access.createUser('Olga Smith', 'admin')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(access.createUser('eve', 'root' as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('roles grant read, read+write, everything', () => {
    expect(ROLES.map((r) => ['read', 'write', 'admin'].filter((p) => allows(r, p as never)))).toEqual([
      ['read', 'write', 'admin'],
      ['read', 'write'],
      ['read'],
    ]);
  });
});

describe('metrics', () => {
  it('renders counters and cumulative histogram buckets in the Prometheus text format', () => {
    const m = new MetricsRegistry();
    m.counter('c_total', 'a counter').inc({ status: 'say "hi"\n' }, 2);
    const h = m.histogram('d_seconds', 'a histogram', [0.1, 1]);
    h.observe(0.05, { route: 'x' });
    h.observe(0.5, { route: 'x' });
    h.observe(5, { route: 'x' });
    const text = m.render();
    expect(text).toContain('# TYPE c_total counter\nc_total{status="say \\"hi\\"\\n"} 2');
    expect(text).toContain(
      'd_seconds_bucket{route="x",le="0.1"} 1\nd_seconds_bucket{route="x",le="1"} 2\nd_seconds_bucket{route="x",le="+Inf"} 3',
    );
    expect(text).toContain('d_seconds_count{route="x"} 3');
  });

  it('caps the label sets of a metric, so callers cannot grow memory without bound', () => {
    const m = new MetricsRegistry();
    const c = m.counter('c_total', 'c');
    for (let i = 0; i < 5000; i++) c.inc({ id: String(i) });
    const lines = m
      .render()
      .split('\n')
      .filter((l) => l.startsWith('c_total'));
    expect(lines.length).toBe(1001);
    expect(lines).toContain('c_total{overflow="true"} 4000');
  });
});
