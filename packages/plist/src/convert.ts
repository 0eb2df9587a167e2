import { buildBinary } from './binary-build';
import { fromJson, toJson } from './json';
import type { PlistLimits } from './limits';
import { isBinaryPlist } from './parse';
import { parseBinary } from './binary-parse';
import type { PlistValue } from './value';
import { buildXml } from './xml-build';
import { parseXml } from './xml-parse';
import { PlistParseError } from './errors';

/** Target format of {@link convert}. */
export type ConvertFormat = 'xml' | 'binary' | 'json';

/** Options of {@link convert}. */
export interface ConvertOptions {
  /** Target format. */
  to: ConvertFormat;
  /** Indentation of XML and JSON output (default: tab for XML, two spaces for JSON). */
  indent?: string;
  /** Sort dictionary keys in XML output. */
  sortKeys?: boolean;
  /** Parser limits for the input. */
  limits?: Partial<PlistLimits>;
}

/** The format of an input document: binary by its magic, XML when it starts with `<`, JSON otherwise. */
export function detectFormat(input: Uint8Array): ConvertFormat {
  if (isBinaryPlist(input)) return 'binary';
  let i = 0;
  if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3;
  if ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe)) return 'xml';
  if (input[0] === 0 && input[1] === 0x3c) return 'xml';
  while (
    i < input.length &&
    (input[i] === 0x20 || input[i] === 0x09 || input[i] === 0x0a || input[i] === 0x0d)
  )
    i++;
  return input[i] === 0x3c || i >= input.length ? 'xml' : 'json';
}

/** Reads a document in any supported format (binary plist, XML plist, JSON). */
export function readAny(input: Uint8Array, limits?: Partial<PlistLimits>): PlistValue {
  switch (detectFormat(input)) {
    case 'binary':
      return parseBinary(input, { limits });
    case 'xml':
      return parseXml(input, { limits });
    default:
      return fromJson(jsonText(input));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON is text: bytes that are not UTF-8, or control characters outside strings' escapes, mean another format. */
function jsonText(input: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(input);
  } catch (cause) {
    throw new PlistParseError('UNKNOWN_FORMAT', 'not a property list (neither binary, XML nor JSON text)', {
      cause,
    });
  }
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) {
    throw new PlistParseError('UNKNOWN_FORMAT', 'not a property list (neither binary, XML nor JSON text)');
  }
  return text;
}

/**
 * Converts between binary plist, XML plist and JSON (like `plutil -convert`). The input format is
 * detected. JSON output writes dates as ISO 8601 strings and data as base64, and rejects NaN/±Infinity.
 *
 * @throws {@link PlistParseError} when the input does not parse or the value has no form in the target.
 * @example
 * ```ts
 * import { convert } from '@mdmkit/plist';
 * import { readFileSync } from 'node:fs';
 * const xml = convert(readFileSync('Info.plist'), { to: 'xml' });
 * const json = new TextDecoder().decode(convert(xml, { to: 'json' }));
 * ```
 */
export function convert(input: Uint8Array, options: ConvertOptions): Uint8Array {
  const value = readAny(input, options.limits);
  switch (options.to) {
    case 'binary':
      return buildBinary(value);
    case 'xml':
      return Buffer.from(buildXml(value, { indent: options.indent, sortKeys: options.sortKeys }), 'utf8');
    case 'json':
      return Buffer.from(toJson(value, options.indent ?? '  '), 'utf8');
  }
}
