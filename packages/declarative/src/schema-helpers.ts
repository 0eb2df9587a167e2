import { z } from 'zod';

/**
 * A schema `<data>` value in JSON, DDM's wire format: a standard base64 string. Used by generated
 * schemas of what we build.
 */
export const base64Data: z.ZodType<string> = z.base64({ message: 'expected base64 data' });
