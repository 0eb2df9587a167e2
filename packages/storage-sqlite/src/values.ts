// Conversions between JavaScript values and SQLite's column types (BLOB, INTEGER milliseconds).
export const u8 = (b: unknown): Uint8Array => {
  const buf = b as Buffer;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
};
export const buf = (b: Uint8Array | undefined): Buffer | null =>
  b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : null;
export const date = (v: unknown): Date => new Date(v as number);
export const ms = (d: Date | undefined): number | null => (d ? d.getTime() : null);

/**
 * A row with the named INTEGER-millisecond columns turned into Dates (NULL stays null), the shape
 * the core's row mappers (`toEnrollment`, `toQueuedCommand`, `toResult`, …) read. better-sqlite3
 * hands out a fresh object per row, so the row is converted in place rather than copied.
 */
export function dated<T>(r: Record<string, unknown>, ...columns: string[]): T {
  for (const c of columns) if (r[c] != null) r[c] = new Date(r[c] as number);
  return r as T;
}
