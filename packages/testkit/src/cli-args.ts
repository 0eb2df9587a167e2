// Argument parsing shared by every `mdmkit-testkit` subcommand.
import { parseArgs } from 'node:util';
import { TestkitError } from './errors';

/** A command-line mistake (`code` `USAGE`): reported with the command's usage, exit 2. */
export class UsageError extends TestkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

export function parse(
  args: string[],
  names: readonly string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const n of names) options[n] = { type: 'string' };
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}

export function intOption(v: string | boolean | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) > max)
    throw new UsageError(`--${name} must be an integer from 0 to ${max}`);
  return Number(v);
}
