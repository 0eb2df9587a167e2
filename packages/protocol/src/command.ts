import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseBody } from './body';
import { ProtocolError } from './errors';
import { validate } from './validate';
import { emptyResponse, PLIST_CONTENT_TYPE, plistBytes, toPlistValue, type WireResponse } from './wire';

/**
 * A command as it travels to the device: `{ CommandUUID, Command: { RequestType, ...payload } }`.
 * `P` is the command's payload (its request keys without `RequestType`).
 */
export interface Command<R extends string = string, P extends object = Record<string, unknown>> {
  CommandUUID: string;
  Command: { RequestType: R } & P;
}

/** Options of every command builder. */
export interface BuildOptions {
  /** Use this CommandUUID instead of a fresh random one (e.g. to re-send a stored command). */
  commandUUID?: string;
}

const CommandEnvelopeSchema = z.looseObject({
  CommandUUID: z.string().min(1),
  Command: z.looseObject({ RequestType: z.string().min(1) }),
});

/**
 * Wraps a payload in the command envelope without any schema check: the raw path for commands no
 * schema describes yet. Prefer the typed builders of @mdmkit/commands. The payload is copied; a value
 * no plist can carry (a function, `null`, a container that contains itself) is refused.
 *
 * @throws ProtocolError `INVALID_COMMAND` with the key path (e.g. `['Command', 'Items', 0]`).
 *
 * @example
 * ```ts
 * const cmd = rawCommand('SomeFutureCommand', { Flag: true });
 * const bytes = encodeCommand(cmd);
 * ```
 */
export function rawCommand<R extends string>(
  requestType: R,
  payload: Record<string, unknown> = {},
  options: BuildOptions = {},
): Command<R> {
  if (!requestType)
    throw new ProtocolError('INVALID_COMMAND', 'RequestType must not be empty', { keyPath: ['RequestType'] });
  const commandUUID = options.commandUUID ?? randomUUID();
  if (!commandUUID)
    throw new ProtocolError('INVALID_COMMAND', 'CommandUUID must not be empty', { keyPath: ['CommandUUID'] });
  // RequestType first on the wire, and never overridden by a payload key of the same name. Values
  // are copied through toPlistValue so that what cannot be sent is refused here, with its path.
  const body: Record<string, unknown> = { RequestType: requestType };
  const copied = toPlistValue(payload, ['Command']) as Record<string, unknown>;
  for (const [k, v] of Object.entries(copied)) {
    if (k !== 'RequestType') {
      Object.defineProperty(body, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return { CommandUUID: commandUUID, Command: body as { RequestType: R } };
}

/**
 * Encodes a command envelope as XML plist bytes, ready to be the body of the 200 answer to a report.
 *
 * @example
 * ```ts
 * const bytes = encodeCommand(rawCommand('ProfileList'));
 * ```
 */
export function encodeCommand(command: Command<string, object>): Uint8Array {
  validate(CommandEnvelopeSchema, command, 'INVALID_COMMAND', 'command');
  return plistBytes(command);
}

/**
 * The answer to a report: the next command as an XML plist, or an empty 200 when the queue is empty.
 *
 * @example
 * ```ts
 * return commandResponse(await queue.next(enrollmentId)); // undefined -> empty 200
 * ```
 */
export function commandResponse(command?: Command<string, object>): WireResponse {
  if (!command) return emptyResponse();
  return { status: 200, headers: { 'content-type': PLIST_CONTENT_TYPE }, body: encodeCommand(command) };
}

/**
 * Decodes a command envelope (what a device receives), checking `CommandUUID` and `RequestType`
 * only. Used by virtual devices and for commands queued as raw plists.
 *
 * @example
 * ```ts
 * const { CommandUUID, Command } = decodeCommand(bytesFromServer);
 * if (Command.RequestType === 'DeviceInformation') answer(CommandUUID);
 * ```
 */
export function decodeCommand(body: Uint8Array | string): Command {
  const dict = parseBody(body, 'command');
  return validate(CommandEnvelopeSchema, dict, 'INVALID_COMMAND', 'command') as Command;
}
