import { createHash } from 'node:crypto';
import { DeclarativeError } from './errors';

/** Nesting deeper than this is refused: no declaration comes near it, and it bounds the recursion. */
export const MAX_JSON_DEPTH = 64;

function fail(path: (string | number)[], what: string): never {
  const where = path.length ? path.join('.') : '(root)';
  throw new DeclarativeError('NOT_JSON', `${where}: ${what}`, { keyPath: path });
}

function write(v: unknown, path: (string | number)[], out: string[]): void {
  if (path.length > MAX_JSON_DEPTH) fail(path, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (v === null || typeof v === 'boolean' || typeof v === 'string') {
    out.push(JSON.stringify(v));
    return;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(path, 'JSON has no NaN or Infinity');
    out.push(JSON.stringify(v));
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      if (v[i] === undefined) fail([...path, i], 'JSON arrays have no undefined entries');
      write(v[i], [...path, i], out);
    }
    out.push(']');
    return;
  }
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      fail(path, 'only plain objects, arrays and scalars are JSON');
    // Sorting by UTF-16 code units is what RFC 8785 asks for and what Array.prototype.sort does.
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i) out.push(',');
      out.push(JSON.stringify(k), ':');
      write((v as Record<string, unknown>)[k], [...path, k], out);
    });
    out.push('}');
    return;
  }
  fail(path, `a ${typeof v} is not JSON`);
}

/**
 * The canonical JSON text of a value: object keys sorted, no whitespace, numbers as JavaScript prints
 * them (the rules of RFC 8785 for the values declarations hold). Two values that are equal as JSON
 * give the same text, whatever the key order they were written in. Members whose value is
 * `undefined` are left out, as `JSON.stringify` does.
 * @throws DeclarativeError `NOT_JSON` for NaN, Infinity, bigint, functions, symbols, class instances,
 * undefined array entries and nesting deeper than {@link MAX_JSON_DEPTH} (which also stops cycles).
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, 'x'] }); // '{"a":[true,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, [], out);
  return out.join('');
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`: 64 characters. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
