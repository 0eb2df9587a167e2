import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MdmStorage, CommonStorageOptions } from '../storage';
import { queueConformance } from './queue';
import { enrollmentConformance } from './enrollment';
import { miscConformance } from './misc';
import { concurrencyConformance } from './concurrency';
import type { ConformanceContext } from './context';
import { depStoreConformance } from './dep';
import { outboxConformance } from './outbox';
import { hasSecretStores, secretConformance } from './secrets';
import { hasLifecycleStores, lifecycleConformance } from './lifecycle';

/** Options for {@link ConformanceDatabase.open}. */
export interface ConformanceOpenOptions extends CommonStorageOptions {
  /** Run migrations while opening. Default true; the suite passes false to race `migrate()` itself. */
  migrate?: boolean;
}

/** One database (file, schema, in-memory state) under test. */
export interface ConformanceDatabase {
  /**
   * Opens a new, independent handle (own connection or pool) on this same database. The suite opens
   * several to race them against each other and closes every handle it opened.
   */
  open(options?: ConformanceOpenOptions): Promise<MdmStorage>;
  /** Drops the database after the suite (all handles are closed by then). */
  destroy?(): Promise<void>;
}

/** Creates a fresh, empty database. Called once for most tests, and again for tests needing an empty one. */
export type ConformanceFactory = () => Promise<ConformanceDatabase>;

/** Tuning for slow backends; defaults suit a local database. */
export interface ConformanceOptions {
  /** Parallel workers in the concurrency tests. Default 8. */
  workers?: number;
  /** Per-test timeout in ms. Default 60 000. */
  timeoutMs?: number;
  /**
   * Optional stores this adapter must have: their sections fail instead of being skipped when a
   * handle lacks them. The SQL adapters require both.
   */
  requireCapabilities?: readonly ('dep' | 'secrets' | 'outbox' | 'lifecycle')[];
}

/**
 * Registers the storage conformance suite with vitest. Every adapter runs it unchanged; it checks the
 * behaviour the interfaces promise, including races between handles. Tests share one database and
 * keep apart by unique id prefixes, so the database may hold other data.
 *
 * @example
 * ```ts
 * // test/conformance.test.ts of an adapter package
 * import { runStorageConformance } from '@mdmkit/storage/conformance';
 * import { createSqliteStorage } from '../src/index';
 *
 * runStorageConformance('sqlite', async () => {
 *   const path = join(mkdtempSync(join(tmpdir(), 'mdmkit-')), 'db.sqlite');
 *   return { open: (o) => createSqliteStorage({ path, ...o }), destroy: async () => rmSync(path, { force: true }) };
 * });
 * ```
 */
export function runStorageConformance(
  name: string,
  factory: ConformanceFactory,
  options: ConformanceOptions = {},
): void {
  describe(`storage conformance: ${name}`, { timeout: options.timeoutMs ?? 60_000 }, () => {
    const dbs: ConformanceDatabase[] = [];
    const handles: MdmStorage[] = [];
    let main: ConformanceDatabase | undefined;
    let counter = 0;
    const run = Math.random().toString(36).slice(2, 8);
    const ctx: ConformanceContext = {
      workers: options.workers ?? 8,
      timeoutMs: options.timeoutMs ?? 60_000,
      get s() {
        if (!first) throw new Error('storage conformance: main handle not open');
        return first;
      },
      get s2() {
        if (!second) throw new Error('storage conformance: second handle not open');
        return second;
      },
      prefix: () => `cf${run}-${++counter}-`,
      open: async (o) => {
        if (!main) throw new Error('storage conformance: database not created');
        const h = await main.open(o);
        handles.push(h);
        return h;
      },
      fresh: async () => {
        const db = await factory();
        dbs.push(db);
        return {
          open: async (o) => {
            const h = await db.open(o);
            handles.push(h);
            return h;
          },
        };
      },
    };
    let first: MdmStorage | undefined;
    let second: MdmStorage | undefined;

    beforeAll(async () => {
      main = await factory();
      dbs.push(main);
      first = await ctx.open();
      second = await ctx.open();
    });

    afterAll(async () => {
      for (const h of handles.splice(0)) await h.close().catch(() => {});
      for (const db of dbs.splice(0)) await db.destroy?.();
    });

    it('opens migrated and migrate() is idempotent', async () => {
      const again = await ctx.s.migrate();
      expect(again.applied).toEqual([]);
      expect(again.version).toBeGreaterThan(0);
      const other = await ctx.s2.migrate();
      expect(other.version).toBe(again.version);
    });

    enrollmentConformance(ctx);
    queueConformance(ctx);
    miscConformance(ctx);
    concurrencyConformance(ctx);
    // Optional capability: skipped with a note on adapters without DepStore yet.
    const required = new Set(options.requireCapabilities ?? []);
    depStoreConformance(
      Object.assign(Object.create(ctx) as ConformanceContext, { required: required.has('dep') }),
    );
    secretConformance(ctx, () => required.has('secrets') || hasSecretStores(ctx.s));
    outboxConformance(ctx, () => required.has('outbox'));
    lifecycleConformance(ctx, () => required.has('lifecycle') || hasLifecycleStores(ctx.s));

    it('rejects calls on a closed handle with CLOSED', async () => {
      const h = await ctx.open();
      await h.close();
      await h.close();
      await expect(h.getEnrollment('x')).rejects.toMatchObject({ name: 'StorageError', code: 'CLOSED' });
    });
  });
}

export type { ConformanceContext } from './context';
export {
  runMultiProcessConformance,
  serveStorageChild,
  tsxChildCommand,
  type MultiProcessOptions,
  type ProcessDatabase,
} from './processes';
export { type DepConformanceContext, depStoreConformance, runDepStoreConformance } from './dep';
export { hasSecretStores } from './secrets';
export { hasLifecycleStores } from './lifecycle';
