import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index';
import { postgresAvailable } from './peer';

const url = postgresTestUrl();
const schemas: string[] = [];

// A database made before the DEP, secret and audit stores existed holds the core versions only.
// Replicas of the new code, starting at once, must add the feature tables once and keep the core data.
describe.runIf(postgresAvailable())('postgres: a core-only database gains the feature stores', () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });

  it('three replicas migrating at once apply each feature version once, and the stores then work', async () => {
    const schema = uniqueName('mdmkit_upgrade');
    schemas.push(schema);
    const first = await createPostgresStorage({ url, schema, poolSize: 2 });
    await first.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // back to the core-only state: no feature tables, no feature versions
      for (const t of [
        'dep_assignments',
        'dep_devices',
        'dep_tokens',
        'secrets',
        'audit_events',
        'declaration_assignments',
        'declaration_sets',
        'ddm_status',
        'identity_certificates',
        'enrollment_blocks',
      ]) {
        await admin.query(`DROP TABLE ${schema}.${t}`);
      }
      await admin.query(`DELETE FROM ${schema}.mdmkit_migrations WHERE version >= 1000`);
      const { rows: core } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.mdmkit_migrations`);
      const replicas = await Promise.all(
        [1, 2, 3].map(() => createPostgresStorage({ url, schema, poolSize: 2, migrate: false })),
      );
      try {
        const reports = await Promise.all(replicas.map((r) => r.migrate()));
        const applied = reports.flatMap((r) => r.applied);
        expect(applied.length).toBeGreaterThan(0);
        expect(applied.every((v) => v >= 1000)).toBe(true);
        expect(new Set(applied).size).toBe(applied.length);
        const { rows: all } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.mdmkit_migrations`);
        expect(all[0].n).toBe(core[0].n + applied.length);
        const r = replicas[0]!;
        await r.putSecret({ owner: 'U', kind: 'k', sealed: new Uint8Array([1]), expectedVersion: 0 });
        expect((await replicas[1]!.getSecret('U', 'k'))?.version).toBe(1);
        expect(applied).toContain(5001);
        await r.blockEnrollment({ enrollmentId: 'U', actor: 'a', reason: 'r' });
        expect((await replicas[2]!.getEnrollmentBlock('U'))?.actor).toBe('a');
      } finally {
        for (const r of replicas) await r.close();
      }
    } finally {
      await admin.end();
    }
  });
});
