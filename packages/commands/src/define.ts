import { type BuildOptions, type Command, rawCommand, validate } from '@mdmkit/protocol';
import type { z } from 'zod';
import type { Support } from './support';

export type { BuildOptions, Command };

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
  /** Access rights per value of a request array (DeviceInformation's queries). */
  readonly valueAccessRights?: Readonly<Record<string, Partial<Record<string, string>>>>;
  /** Validates `payload` and wraps it in a command envelope. */
  build(payload: P, options?: BuildOptions): Command<R, P>;
}

/** Used by generated code: binds a definition's facts to its builder. */
export function defineCommand<R extends string, P extends object, Res>(
  def: Omit<CommandDefinition<R, P, Res>, 'build'>,
): CommandDefinition<R, P, Res> {
  return {
    ...def,
    build(payload: P, options?: BuildOptions): Command<R, P> {
      const valid = validate(def.payload, payload ?? {}, 'INVALID_COMMAND', `${def.requestType} command`, [
        'Command',
      ]);
      return rawCommand(def.requestType, valid as Record<string, unknown>, options) as Command<R, P>;
    },
  };
}
