/** Fields a log line may carry: ids, kinds, counts. This package never passes a secret here. */
export type LogFields = Record<string, string | number | boolean>;

/**
 * Where this package writes what it did. Lines name owners, kinds, actors and versions, never secret
 * values, wrapped keys or sealed blobs.
 *
 * @example
 * ```ts
 * const logger: EscrowLogger = { info: (m, f) => console.log(m, f), warn: (m, f) => console.warn(m, f) };
 * ```
 */
export interface EscrowLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
}

/** A logger that writes nothing. */
export const silentLogger: EscrowLogger = { info() {}, warn() {} };
