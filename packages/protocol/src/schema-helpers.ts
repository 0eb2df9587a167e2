import { z } from 'zod';

/** A plist `<data>` value: a `Uint8Array`. Used by generated schemas. */
export const plistData: z.ZodType<Uint8Array> = z.custom<Uint8Array>((v) => v instanceof Uint8Array, {
  message: 'expected data (Uint8Array)',
});

/** A plist `<date>` value: a valid `Date`. Used by generated schemas. */
export const plistDate: z.ZodType<Date> = z.date();
