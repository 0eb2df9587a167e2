import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type PlistDict, PlistReal, PlistUid, type PlistValue } from '@mdmkit/plist';

/** A plist value with its type spelled out, as exchanged with plistlib_peer.py. */
export type Tagged =
  | { t: 'i'; v: string }
  | { t: 'r'; v: string }
  | { t: 's'; v: string }
  | { t: 'b'; v: boolean }
  | { t: 'd'; v: number }
  | { t: 'D'; v: string }
  | { t: 'u'; v: number }
  | { t: 'a'; v: Tagged[] }
  | { t: 'o'; v: [string, Tagged][] };

function realBits(n: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
}

/** Tags a JS value by the package's number rule; dates in microseconds. */
export function tag(v: PlistValue): Tagged {
  switch (typeof v) {
    case 'string':
      return { t: 's', v };
    case 'boolean':
      return { t: 'b', v };
    case 'bigint':
      return { t: 'i', v: v.toString() };
    case 'number':
      return Number.isSafeInteger(v) && !Object.is(v, -0)
        ? { t: 'i', v: String(v) }
        : { t: 'r', v: realBits(v) };
  }
  if (v instanceof PlistReal) return { t: 'r', v: realBits(v.value) };
  if (v instanceof PlistUid) return { t: 'u', v: v.value };
  if (v instanceof Date) return { t: 'd', v: v.getTime() * 1000 };
  if (v instanceof Uint8Array) return { t: 'D', v: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return { t: 'a', v: v.map(tag) };
  return { t: 'o', v: Object.keys(v).map((k) => [k, tag((v as PlistDict)[k]!)] as [string, Tagged]) };
}

/**
 * Makes two tagged values comparable: dates rounded to the millisecond, NaN payloads dropped. Dict
 * entries keep their order (a round trip keeps it too).
 */
export function normalise(t: Tagged): Tagged {
  switch (t.t) {
    case 'd':
      return { t: 'd', v: Math.round(t.v / 1000) };
    case 'r':
      // NaN payloads are not part of the value (V8 canonicalises them on write).
      return Number.isNaN(Buffer.from(t.v, 'hex').readDoubleBE(0)) ? { t: 'r', v: '7ff8000000000000' } : t;
    case 'a':
      return { t: 'a', v: t.v.map(normalise) };
    case 'o': {
      // A duplicate key keeps its first position and its last value, in JavaScript objects and
      // python dicts alike.
      const m = new Map<string, Tagged>();
      for (const [k, x] of t.v) m.set(k, normalise(x));
      return { t: 'o', v: [...m.entries()] };
    }
    default:
      return t;
  }
}

export type PeerRequest =
  | { op: 'read'; data: Uint8Array }
  | { op: 'write' | 'carry'; fmt: 'xml' | 'binary'; value: Tagged };
export type PeerAnswer = { ok: true; value?: Tagged; data?: string } | { ok: false; error: string };

/** The value plistlib read, or an error naming what it said instead. */
export function answerValue(a: PeerAnswer | undefined): Tagged {
  if (!a?.ok || a.value === undefined)
    throw new Error(`plistlib gave no value: ${a?.ok === false ? a.error : '?'}`);
  return a.value;
}

/** The bytes plistlib wrote, or an error naming what it said instead. */
export function answerData(a: PeerAnswer | undefined): Buffer {
  if (!a?.ok || a.data === undefined)
    throw new Error(`plistlib wrote nothing: ${a?.ok === false ? a.error : '?'}`);
  return Buffer.from(a.data, 'base64');
}

const script = fileURLToPath(new URL('./plistlib_peer.py', import.meta.url));

/** Runs a whole batch through one python process. */
export function plistlib(requests: PeerRequest[]): PeerAnswer[] {
  const input = requests
    .map((r) =>
      JSON.stringify(r.op === 'read' ? { op: 'read', data: Buffer.from(r.data).toString('base64') } : r),
    )
    .join('\n');
  const res = spawnSync('python3', [script], { input: `${input}\n`, maxBuffer: 1 << 30, timeout: 60_000 });
  if (res.status !== 0) throw new Error(`plistlib peer failed: ${res.stderr?.toString()}`);
  const lines = res.stdout.toString().trim().split('\n');
  if (lines.length !== requests.length)
    throw new Error(`plistlib peer answered ${lines.length} of ${requests.length}`);
  return lines.map((l) => JSON.parse(l) as PeerAnswer);
}
