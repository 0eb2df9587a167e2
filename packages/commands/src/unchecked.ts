import { CommandError } from './errors';

/** A value the caller sends on purpose without the schema's check (see {@link unchecked}). */
class UncheckedValue {
  constructor(readonly value: string | number | boolean) {}
}

/**
 * Marks one value of a command payload as sent without the schema's check: for an enum value or a
 * number that an OS newer than the pinned schema release accepts, so a builder can still be used
 * instead of `rawCommand`. Everything else in the payload is still validated; the marked value must
 * be a string, number or boolean and stands for a leaf (it cannot pick a union member, such as the
 * `Item` of a Settings entry). The returned marker fits any payload key's type.
 *
 * @throws CommandError `INVALID_ARGUMENT` for any other value (an array or dictionary would skip the
 * checks of everything inside it).
 * @example
 * ```ts
 * scheduleOSUpdateCommand({
 *   Updates: [{ ProductKey: 'k', InstallAction: unchecked('InstallLater') }],
 * });
 * ```
 */
export function unchecked(value: string | number | boolean): never {
  const ok =
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value));
  if (!ok) {
    throw new CommandError('INVALID_ARGUMENT', 'unchecked: expected a string, finite number or boolean');
  }
  return new UncheckedValue(value) as never;
}

/** A payload with its unchecked markers replaced by their values, and where they were. */
export interface Unwrapped {
  value: unknown;
  paths: (string | number)[][];
}

/**
 * Replaces every {@link unchecked} marker in a payload by its value (copying only the containers on
 * the way to a marker) and lists the markers' key paths. Containers met twice on one path (cycles)
 * are left as they are for the plist copy to refuse.
 *
 * @example
 * ```ts
 * unwrapUnchecked({ A: [unchecked('x')] }); // { value: { A: ['x'] }, paths: [['A', 0]] }
 * ```
 */
export function unwrapUnchecked(payload: unknown): Unwrapped {
  const paths: (string | number)[][] = [];
  const open = new Set<object>();
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (v instanceof UncheckedValue) {
      paths.push([...path]);
      return v.value;
    }
    if (typeof v !== 'object' || v === null || open.has(v) || open.size > 512) return v;
    const array = Array.isArray(v);
    if (!array && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)
      return v;
    open.add(v);
    const before = paths.length;
    const entries = array ? v.map((x, i) => [i, x] as const) : Object.entries(v);
    const copied = entries.map(([k, x]) => [k, walk(x, [...path, k])] as const);
    open.delete(v);
    if (paths.length === before) return v;
    if (array) return copied.map(([, x]) => x);
    const out: Record<string, unknown> = {};
    for (const [k, x] of copied) {
      Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return { value: walk(payload, []), paths };
}
