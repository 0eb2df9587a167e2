// Conversions between JavaScript values and SQLite's column types (BLOB, INTEGER milliseconds).
export const u8 = (b: unknown): Uint8Array => {
  const buf = b as Buffer;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
};
export const buf = (b: Uint8Array | undefined): Buffer | null =>
  b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : null;
export const date = (v: unknown): Date => new Date(v as number);
export const ms = (d: Date | undefined): number | null => (d ? d.getTime() : null);
