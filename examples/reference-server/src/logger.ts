import type { LogLevel } from './config';

/** Fields of one log line; values must be JSON-serialisable and never secrets. */
export type LogFields = Record<string, unknown>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Errors become `{ name, code, message }`; a stack only at debug level, never a cause's data. */
function serialise(value: unknown, withStack: boolean): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: value.message,
      ...(withStack && value.stack ? { stack: value.stack } : {}),
    };
  }
  return value;
}

/**
 * A small JSON-lines logger (the fields pino writes: `level`, `time`, `msg`), so the server needs no
 * logging dependency and logs stay machine-readable.
 *
 * @example
 * ```ts
 * import { createJsonLogger } from '@mdmkit/reference-server';
 * const log = createJsonLogger('info', (line) => process.stderr.write(line));
 * log.child({ requestId: 'r1' }).info('request', { status: 200 });
 * ```
 */
export function createJsonLogger(
  level: LogLevel,
  write: (line: string) => void,
  bound: LogFields = {},
): Logger {
  const min = ORDER[level];
  const emit = (l: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[l] < min) return;
    const line: LogFields = { level: l, time: new Date().toISOString(), msg, ...bound };
    for (const [k, v] of Object.entries(fields ?? {})) line[k] = serialise(v, min <= ORDER.debug);
    try {
      write(`${JSON.stringify(line)}\n`);
    } catch {
      // A log line that cannot be written must never fail the request that produced it.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger(level, write, { ...bound, ...fields }),
  };
}
