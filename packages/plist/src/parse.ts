import { parseBinary } from './binary-parse';
import type { ParseOptions } from './limits';
import type { PlistValue } from './value';
import { parseXml } from './xml-parse';

const MAGIC = [0x62, 0x70, 0x6c, 0x69, 0x73, 0x74, 0x30, 0x30]; // "bplist00"

/** Whether `input` starts with the binary property list magic `bplist00`. */
export function isBinaryPlist(input: Uint8Array): boolean {
  if (input.length < 8) return false;
  for (let i = 0; i < 8; i++) if (input[i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Parses a property list in either format: binary when it starts with `bplist00`, XML otherwise.
 *
 * @throws {@link PlistParseError} for any malformed input or exceeded limit.
 * @example
 * ```ts
 * import { parse } from '@mdmkit/plist';
 * const body = new TextEncoder().encode('<plist><dict><key>Status</key><string>Acknowledged</string></dict></plist>');
 * const msg = parse(body) as { Status: string };
 * ```
 */
export function parse(input: Uint8Array | string, options?: ParseOptions): PlistValue {
  if (typeof input !== 'string' && isBinaryPlist(input)) return parseBinary(input, options);
  return parseXml(input, options);
}
