import { PlistParseError } from './errors';
import { formatReal } from './xml-build';
import { type PlistDict, PlistReal, PlistUid, type PlistValue, isIntegral, setKey } from './value';

/**
 * Writes a value as JSON text: dates as ISO 8601 strings, data as base64 strings, UIDs as
 * `{"CF$UID": n}`, bigints as plain JSON numbers (exact digits), integral reals as `1.0`.
 * NaN and ±Infinity have no JSON form and are rejected.
 */
export function toJson(value: PlistValue, indent = '  '): string {
  const out: string[] = [];
  writeJson(value, indent, '', out, 0);
  out.push('\n');
  return out.join('');
}

function invalid(message: string): PlistParseError {
  return new PlistParseError('INVALID_VALUE', message);
}

function jsonNumber(n: number, asReal: boolean): string {
  if (!Number.isFinite(n)) throw invalid(`JSON cannot represent ${n}`);
  if (asReal && (Number.isInteger(n) || Object.is(n, -0))) {
    const s = formatReal(n);
    return s.includes('e') || s.includes('.') ? s : `${s}.0`;
  }
  return String(n);
}

function writeJson(v: PlistValue, indent: string, pad: string, out: string[], depth: number): void {
  if (depth > 2048) throw invalid('nesting too deep (cyclic?)');
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'number':
      out.push(jsonNumber(v, !isIntegral(v)));
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
  }
  if (v instanceof PlistReal) return void out.push(jsonNumber(v.value, true));
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw invalid('invalid Date');
    return void out.push(JSON.stringify(v.toISOString()));
  }
  if (v instanceof Uint8Array) {
    return void out.push(
      JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')),
    );
  }
  if (v instanceof PlistUid) return void out.push(`{"CF$UID": ${v.value}}`);
  if (v === null || typeof v !== 'object') throw invalid(`cannot write a ${v === null ? 'null' : typeof v}`);
  const inner = pad + indent;
  const nl = indent === '' ? '' : '\n';
  if (Array.isArray(v)) {
    if (v.length === 0) return void out.push('[]');
    out.push('[', nl);
    v.forEach((x, i) => {
      out.push(inner);
      writeJson(x, indent, inner, out, depth + 1);
      out.push(i < v.length - 1 ? ',' : '', nl);
    });
    out.push(pad, ']');
    return;
  }
  const keys = Object.keys(v).filter((k) => (v as PlistDict)[k] !== undefined);
  if (keys.length === 0) return void out.push('{}');
  out.push('{', nl);
  keys.forEach((k, i) => {
    out.push(inner, JSON.stringify(k), indent === '' ? ':' : ': ');
    writeJson((v as PlistDict)[k]!, indent, inner, out, depth + 1);
    out.push(i < keys.length - 1 ? ',' : '', nl);
  });
  out.push(pad, '}');
}

/**
 * Reads JSON into a plist value. Numbers follow the one number rule (so `1.0` in JSON becomes the
 * integer 1, as JSON does not keep the difference); `null` is rejected.
 */
export function fromJson(text: string): PlistValue {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PlistParseError('INVALID_JSON', `invalid JSON: ${(cause as Error).message}`, { cause });
  }
  return fromJsonValue(raw, []);
}

function fromJsonValue(v: unknown, path: (string | number)[]): PlistValue {
  if (v === null)
    throw new PlistParseError('INVALID_VALUE', 'JSON null has no plist form', { keyPath: [...path] });
  if (path.length > 2048)
    throw new PlistParseError('LIMIT_EXCEEDED', 'JSON nested deeper than 2048', { keyPath: [] });
  if (Array.isArray(v)) {
    const out: PlistValue[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      out[i] = fromJsonValue(v[i], path);
      path.pop();
    }
    return out;
  }
  if (typeof v === 'object') {
    const d: PlistDict = {};
    for (const k of Object.keys(v)) {
      path.push(k);
      setKey(d, k, fromJsonValue((v as Record<string, unknown>)[k], path));
      path.pop();
    }
    return d;
  }
  return v as PlistValue;
}
