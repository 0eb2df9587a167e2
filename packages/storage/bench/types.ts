import type { MdmStorage } from '../src/index';

/** One database instance created for a bench run. */
export interface BenchDatabase {
  /** Opens a handle (connection or pool) on this database. */
  open(): Promise<MdmStorage>;
  /** Drops the database. */
  destroy(): Promise<void>;
}

/**
 * What an adapter contributes to the storage bench. Adapter packages plug in by shipping
 * `bench/storage-adapter.ts` exporting `adapter`; this package's own live in `bench/adapters/`.
 */
export interface BenchAdapter {
  /** Short name, also the `--adapter` filter value and the sub-section key in docs/benchmarks.md. */
  name: string;
  /** Returns a reason string when the adapter cannot run here (database not reachable, ...). */
  unavailable?(): Promise<string | undefined>;
  create(): Promise<BenchDatabase>;
  /** How many handles concurrent clients share (1 for an in-process engine). Default: one per client. */
  maxHandles?: number;
  /** Extra lines printed under the adapter's table: the named peer measured in the same run. */
  baseline?(): Promise<string[]>;
  /** One line about the configuration (driver version, durability settings). */
  describe?(): string;
}
