import type { Command } from '@mdmkit/protocol';
import type { CommandBuildOptions, CommandDefinition } from './define';
import { CommandError } from './errors';
import { commandDefinitions, type RequestType } from './generated/registry';

/** The definition of a RequestType, with payload and response types. */
export type DefinitionOf<R extends RequestType> = (typeof commandDefinitions)[R];

/** Request keys (without RequestType) of a command. */
export type PayloadOf<R extends RequestType> =
  DefinitionOf<R> extends CommandDefinition<string, infer P, unknown> ? P : never;

/** Response keys of a command, `undefined` for commands answered with the bare report. */
export type ResponseOf<R extends RequestType> =
  DefinitionOf<R> extends CommandDefinition<string, object, infer Res> ? Res : never;

/**
 * True when the schemas describe this RequestType.
 *
 * @example
 * ```ts
 * if (!isKnownRequestType(stored.requestType)) return decodeReport(body);
 * ```
 */
export function isKnownRequestType(requestType: string): requestType is RequestType {
  return Object.hasOwn(commandDefinitions, requestType);
}

/**
 * The definition of a command by RequestType, or undefined for a RequestType no schema describes.
 *
 * @example
 * ```ts
 * getCommand('DeviceLock')?.support.macOS?.introduced; // '10.7'
 * ```
 */
export function getCommand<R extends RequestType>(requestType: R): DefinitionOf<R>;
export function getCommand(requestType: string): CommandDefinition | undefined;
export function getCommand(requestType: string): CommandDefinition | undefined {
  return isKnownRequestType(requestType) ? (commandDefinitions[requestType] as CommandDefinition) : undefined;
}

/**
 * Every RequestType of the schema release, sorted.
 *
 * @example
 * ```ts
 * listRequestTypes().length; // 66 in the pinned schema release
 * ```
 */
export function listRequestTypes(): RequestType[] {
  return (Object.keys(commandDefinitions) as RequestType[]).sort();
}

/**
 * Builds a command chosen at run time, validating the payload against its schema.
 *
 * @throws CommandError `UNKNOWN_COMMAND` for a RequestType no schema describes (use `rawCommand`),
 * `INVALID_COMMAND` when the payload does not match, `KEY_NOT_AVAILABLE` for a key not available on
 * `options.platform`.
 * @example
 * ```ts
 * const cmd = buildCommand('DeviceInformation', { Queries: ['OSVersion'] });
 * ```
 */
export function buildCommand<R extends RequestType>(
  requestType: R,
  payload: PayloadOf<R>,
  options?: CommandBuildOptions,
): Command<R, PayloadOf<R>>;
export function buildCommand(requestType: string, payload?: object, options?: CommandBuildOptions): Command;
export function buildCommand(
  requestType: string,
  payload: object = {},
  options?: CommandBuildOptions,
): Command {
  const def = getCommand(requestType);
  if (!def) {
    throw new CommandError('UNKNOWN_COMMAND', `no schema for RequestType ${requestType}; use rawCommand`, {
      keyPath: ['Command', 'RequestType'],
    });
  }
  return def.build(payload, options) as Command;
}
