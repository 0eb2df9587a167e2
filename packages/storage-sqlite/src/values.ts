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
 * the core's row mappers (`toEnrollment`, `toQueuedCommand`, `toResult`, …) read.
 */
export function dated<T>(r: Record<string, unknown>, ...columns: string[]): T {
  const out: Record<string, unknown> = { ...r };
  for (const c of columns) if (out[c] != null) out[c] = new Date(out[c] as number);
  return out as T;
}
