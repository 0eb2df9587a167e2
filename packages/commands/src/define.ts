import { type BuildOptions, type Command, type ProtocolIssue, rawCommand } from '@mdmkit/protocol';
import { checkValue, throwIssues, UNION_MISMATCH } from '@mdmkit/protocol/schema';
import type { z } from 'zod';
import { compareVersions } from './versions';
import { asCommandError, CommandError } from './errors';
import type { OsName, Support } from './support';
import { unwrapUnchecked } from './unchecked';

export type { Command };

/** Where a command will run, for the builder's per-key availability check. */
export interface TargetPlatform {
  os: OsName;
  /** OS version, e.g. `'17.4'`; omitted = only keys unavailable on every version are reported. */
  version?: string;
}

/** Options of every command builder. */
export interface CommandBuildOptions extends BuildOptions {
  /**
   * The platform the command is for: a payload key that the schema marks as unavailable there
   * (another OS, or introduced in a later version) is refused with `KEY_NOT_AVAILABLE`.
   */
  platform?: TargetPlatform;
}

/** What the generator knows about one command. */
export interface CommandDefinition<R extends string = string, P extends object = object, Res = unknown> {
  readonly requestType: R;
  /** Validator of the request keys (without `RequestType`). */
  readonly payload: z.ZodType<P>;
  /** Validator of the response keys, or undefined when the device answers with the bare report. */
  readonly response: z.ZodType<Res> | undefined;
  /** The schema file in Apple's repository at the pinned release. */
  readonly source: string;
  readonly support: Support;
  /**
   * Per-OS availability of the payload keys that the schema restricts, by key path (`.` between
   * keys, `*` for every item of an array), e.g. `PIN` or `Updates.*.MaxUserDeferrals`.
   */
  readonly keySupport?: Readonly<Record<string, Support>>;
  /** Access rights per value of a request array (DeviceInformation's queries). */
  readonly valueAccessRights?: Readonly<Record<string, Partial<Record<string, string>>>>;
  /** Validates `payload` and wraps it in a command envelope. */
  build(payload: P, options?: CommandBuildOptions): Command<R, P>;
}

const OS_NAMES: ReadonlySet<string> = new Set<OsName>(['iOS', 'macOS', 'tvOS', 'visionOS', 'watchOS']);

function startsWith(path: (string | number)[], prefix: (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
}

/** The places in `value` a key path of `keySupport` names (`*`: every item or key), present ones only. */
function placesOf(
  value: unknown,
  segments: string[],
  at: (string | number)[],
  out: (string | number)[][],
): void {
  if (segments.length === 0) {
    if (value !== undefined) out.push(at);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const [head, ...rest] = segments as [string, ...string[]];
  if (Array.isArray(value)) {
    if (head === '*') for (let i = 0; i < value.length; i++) placesOf(value[i], rest, [...at, i], out);
    return;
  }
  const dict = value as Record<string, unknown>;
  if (head === '*') for (const k of Object.keys(dict)) placesOf(dict[k], rest, [...at, k], out);
  else if (Object.hasOwn(dict, head)) placesOf(dict[head], rest, [...at, head], out);
}

/** The keys of `payload`, at any depth, that the schema marks as unavailable on `platform`. */
function unavailableKeys(
  keySupport: Readonly<Record<string, Support>> | undefined,
  payload: Record<string, unknown>,
  platform: TargetPlatform,
): ProtocolIssue[] {
  const issues: ProtocolIssue[] = [];
  for (const [keyPath, support] of Object.entries(keySupport ?? {})) {
    const s = support[platform.os];
    if (!s?.introduced) continue;
    const places: (string | number)[][] = [];
    placesOf(payload, keyPath.split('.'), [], places);
    const where = `${platform.os}${platform.version ? ` ${platform.version}` : ''}`;
    for (const place of places) {
      const path = ['Command', ...place];
      if (s.introduced === 'n/a') {
        issues.push({
          path,
          expected: `a key available on ${platform.os}`,
          got: `a key not available on ${platform.os}`,
          message: `not available on ${platform.os}`,
        });
      } else if (platform.version !== undefined && compareVersions(platform.version, s.introduced) < 0) {
        issues.push({
          path,
          expected: `a key available on ${where}`,
          got: `a key introduced in ${platform.os} ${s.introduced}`,
          message: `needs ${platform.os} ${s.introduced} or later`,
        });
      }
    }
  }
  return issues;
}

/**
 * Binds a command's schema facts to its builder; used by the generated code.
 *
 * @example
 * ```ts
 * const Ping = defineCommand({ requestType: 'Ping', payload: z.looseObject({}), response: undefined, source: '', support: {} });
 * Ping.build({});
 * ```
 */
export function defineCommand<R extends string, P extends object, Res>(
  def: Omit<CommandDefinition<R, P, Res>, 'build'>,
): CommandDefinition<R, P, Res> {
  const what = `${def.requestType} command`;
  return {
    ...def,
    build(payload: P, options?: CommandBuildOptions): Command<R, P> {
      return asCommandError(() => {
        const { value, paths } = unwrapUnchecked(payload ?? {});
        // Every issue is listed (no limit), so that filtering the marked ones cannot hide the rest.
        const issues = checkValue(def.payload, value, ['Command'], Number.POSITIVE_INFINITY).filter(
          // A marked value stands for a leaf; it never decides which member of a union applies.
          (i) => i.expected === UNION_MISMATCH || !paths.some((p) => startsWith(i.path, ['Command', ...p])),
        );
        if (issues.length) throwIssues('INVALID_COMMAND', what, issues);
        if (options?.platform) {
          if (!OS_NAMES.has(options.platform.os)) {
            throw new CommandError(
              'INVALID_ARGUMENT',
              `${what}: platform.os: expected one of ${[...OS_NAMES].join(', ')}`,
              {
                keyPath: ['platform', 'os'],
              },
            );
          }
          const unavailable = unavailableKeys(
            def.keySupport,
            value as Record<string, unknown>,
            options.platform,
          );
          if (unavailable.length) {
            const first = unavailable[0]!;
            throw new CommandError(
              'KEY_NOT_AVAILABLE',
              `${what}: ${first.path.join('.')}: ${first.message}`,
              {
                keyPath: first.path,
                issues: unavailable,
              },
            );
          }
        }
        return rawCommand(def.requestType, value as Record<string, unknown>, options) as Command<R, P>;
      });
    },
  };
}
