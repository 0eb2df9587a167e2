import { buildXml, type PlistValue } from '@mdmkit/plist';
import { isPlistDict } from './body';
import { ProtocolError } from './errors';

/** A framework-free HTTP answer: mount it in node:http, fetch-style handlers or any framework. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const encoder = new TextEncoder();
export const PLIST_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** Deepest nesting a value we send may have; the same bound plist parsers apply by default. */
export const MAX_VALUE_DEPTH = 512;

function notPlist(path: (string | number)[], what: string): ProtocolError {
  return new ProtocolError('INVALID_COMMAND', `${path.join('.') || '(root)'}: ${what}`, { keyPath: path });
}

/**
 * Copies a JS value into a plist value: drops `undefined` object members (optional keys left out),
 * and rejects what a plist cannot carry (functions, symbols, `null`, `undefined` in arrays, a
 * container that contains itself, nesting deeper than {@link MAX_VALUE_DEPTH}) with a
 * {@link ProtocolError} `INVALID_COMMAND` whose `keyPath` starts at `path`.
 *
 * @example
 * ```ts
 * toPlistValue({ Name: 'x', Skipped: undefined }); // { Name: 'x' }
 * ```
 */
export function toPlistValue(v: unknown, path: (string | number)[] = []): PlistValue {
  return copy(v, [...path], new Set());
}

// `path` is one array pushed and popped along the walk; it is copied only into an error.
function copy(v: unknown, path: (string | number)[], open: Set<object>): PlistValue {
  if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') {
    throw notPlist([...path], `${v === null ? 'null' : typeof v} is not a plist value`);
  }
  const array = Array.isArray(v);
  if (!array && !isPlistDict(v)) return v as PlistValue;
  if (open.has(v)) throw notPlist([...path], 'value contains itself');
  if (open.size >= MAX_VALUE_DEPTH) throw notPlist([...path], `nesting deeper than ${MAX_VALUE_DEPTH}`);
  open.add(v);
  let out: PlistValue;
  if (array) {
    const list: PlistValue[] = [];
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      list.push(copy(v[i], path, open));
      path.pop();
    }
    out = list;
  } else {
    const dict: Record<string, PlistValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      path.push(k);
      // defineProperty: a key named `__proto__` stays an ordinary key.
      Object.defineProperty(dict, k, {
        value: copy(x, path, open),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      path.pop();
    }
    out = dict;
  }
  open.delete(v);
  return out;
}

/**
 * Encodes a dictionary as XML plist bytes.
 *
 * @example
 * ```ts
 * const bytes = plistBytes({ DigestChallenge: '' });
 * ```
 */
export function plistBytes(value: unknown): Uint8Array {
  return encoder.encode(buildXml(toPlistValue(value)));
}

/**
 * 200 with an XML plist body.
 *
 * @example
 * ```ts
 * return plistResponse({ AuthToken: token });
 * ```
 */
export function plistResponse(value: unknown, status = 200): WireResponse {
  return { status, headers: { 'content-type': PLIST_CONTENT_TYPE }, body: plistBytes(value) };
}

/**
 * An empty 200: the answer to most check-ins, and to a report when no command is queued.
 *
 * @example
 * ```ts
 * return emptyResponse(); // 200, no body
 * ```
 */
export function emptyResponse(): WireResponse {
  return { status: 200, headers: {}, body: new Uint8Array(0) };
}
