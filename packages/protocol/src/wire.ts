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

/**
 * Copies a JS value into a plist value: drops `undefined` object members (optional keys left out),
 * and rejects what a plist cannot carry (functions, symbols, `null`, `undefined` in arrays).
 */
export function toPlistValue(v: unknown, path: (string | number)[] = []): PlistValue {
  if (v === null || v === undefined || typeof v === 'function' || typeof v === 'symbol') {
    throw new ProtocolError(
      'INVALID_COMMAND',
      `${path.join('.') || '(root)'}: ${v === null ? 'null' : typeof v} is not a plist value`,
      {
        keyPath: path,
      },
    );
  }
  if (Array.isArray(v)) return v.map((x, i) => toPlistValue(x, [...path, i]));
  if (isPlistDict(v)) {
    const out: Record<string, PlistValue> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      Object.defineProperty(out, k, {
        value: toPlistValue(x, [...path, k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v as PlistValue;
}

/** Encodes a dictionary as XML plist bytes. */
export function plistBytes(value: unknown): Uint8Array {
  return encoder.encode(buildXml(toPlistValue(value)));
}

/** 200 with an XML plist body. */
export function plistResponse(value: unknown, status = 200): WireResponse {
  return { status, headers: { 'content-type': PLIST_CONTENT_TYPE }, body: plistBytes(value) };
}

/** An empty 200: the answer to most check-ins, and to a report when no command is queued. */
export function emptyResponse(): WireResponse {
  return { status: 200, headers: {}, body: new Uint8Array(0) };
}
