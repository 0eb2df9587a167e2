import type { StorageLimits } from '@mdmkit/storage';
import type Database from 'better-sqlite3';

/**
 * What the store files need from a `SqliteStorage` handle: its write path (group-committed
 * `BEGIN IMMEDIATE` batches, each call in its own savepoint), its read path (a snapshot), its
 * statement cache and its limits. Every function passed to `write` or `read` is synchronous.
 */
export interface SqliteIo {
  readonly limits: StorageLimits;
  write<T>(fn: () => T): Promise<T>;
  read<T>(fn: () => T): Promise<T>;
  stmt(sql: string): Database.Statement;
}

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, unknown>;

export const ms = (d: Date): number => d.getTime();
export const bit = (b: boolean): number => (b ? 1 : 0);
