#!/usr/bin/env node
import { createRequire } from 'node:module';
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { convert, type ConvertFormat } from './convert';
import { PlistParseError } from './errors';

// Command-line convention shared by every mdmkit bin: `--help`, `-h` and `help` at every level print
// usage to stdout (exit 0); `--version` prints the package version; usage errors go to stderr with the
// program name (exit 2); runtime errors name the file involved (exit 1).
const PROGRAM = 'mdmkit-plist';

const USAGE = `usage: ${PROGRAM} <command> [options]

Commands:
  convert   convert between binary plist, XML plist and JSON
  help      show help for a command

Options:
  -h, --help     show this help
  --version      print the version

Run '${PROGRAM} help convert' for the options of convert.
`;

const CONVERT_USAGE = `usage: ${PROGRAM} convert --to xml|binary|json [-o OUT] [--sort] IN

Converts a property list (binary or XML) or JSON document to the given format.
  IN             input file, or - for standard input
  -t, --to FMT   target format: xml, binary or json
  -o OUT         output file, or - for standard output. Without -o the input file is
                 replaced in place (as plutil -convert does); with IN = - output goes
                 to standard output.
  --sort         sort dictionary keys (XML output)
  -h, --help     show this help
`;

class UsageError extends Error {}

interface ConvertArgs {
  to: ConvertFormat;
  input: string;
  output: string | undefined;
  sortKeys: boolean;
}

function parseConvert(args: string[]): ConvertArgs | 'help' {
  let parsed: ReturnType<typeof parseConvertOptions>;
  try {
    parsed = parseConvertOptions(args);
  } catch (e) {
    // node:util reports e.g. "Option '-o, --output <value>' argument missing"; keep its words.
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return 'help';
  const to = values.to;
  if (to === undefined) throw new UsageError('convert needs --to xml, binary or json');
  if (to !== 'xml' && to !== 'binary' && to !== 'json')
    throw new UsageError(`--to must be xml, binary or json, not ${JSON.stringify(to)}`);
  if (values.output === '') throw new UsageError('-o needs a file name');
  if (positionals.length === 0) throw new UsageError('missing input file (use - for standard input)');
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  return { to, input: positionals[0]!, output: values.output, sortKeys: values.sort ?? false };
}

function parseConvertOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      to: { type: 'string', short: 't' },
      output: { type: 'string', short: 'o' },
      sort: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** Describes a failed file operation once: what went wrong and on which path, without repeating the code. */
function describeFsError(e: NodeJS.ErrnoException, path: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `${path}: no such file or directory`;
    case 'EISDIR':
      return `${path}: is a directory`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied`;
    default:
      return `${path}: ${e.message.replace(/^[A-Z]+: /, '')}`;
  }
}

function runConvert(args: ConvertArgs): number {
  const name = args.input === '-' ? '<stdin>' : args.input;
  let input: Uint8Array;
  try {
    input = readFileSync(args.input === '-' ? 0 : args.input);
  } catch (e) {
    process.stderr.write(`${PROGRAM}: ${describeFsError(e as NodeJS.ErrnoException, name)}\n`);
    return 1;
  }
  let out: Uint8Array;
  try {
    out = convert(input, { to: args.to, sortKeys: args.sortKeys });
  } catch (e) {
    if (!(e instanceof PlistParseError)) throw e;
    process.stderr.write(`${PROGRAM}: ${name}: ${e.message} [${e.code}]\n`);
    return 1;
  }
  const target = args.output ?? (args.input === '-' ? '-' : args.input);
  try {
    if (target === '-') writeFileSync(1, out);
    else if (target === args.input) {
      // Replace in place atomically, so a failed write never leaves half a file. The temporary file is
      // created afresh (never through a file or link already at that name) with the input's mode, so a
      // private file stays private.
      const tmp = `${target}.${process.pid}.tmp`;
      const mode = statSync(target).mode & 0o7777;
      writeFileSync(tmp, out, { flag: 'wx', mode: 0o600 });
      try {
        chmodSync(tmp, mode);
        renameSync(tmp, target);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    } else writeFileSync(target, out);
  } catch (e) {
    process.stderr.write(`${PROGRAM}: ${describeFsError(e as NodeJS.ErrnoException, target)}\n`);
    return 1;
  }
  return 0;
}

function usageError(message: string, usage: string): number {
  process.stderr.write(`${PROGRAM}: ${message}\n\n${usage}`);
  return 2;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError('missing command', USAGE);
  if (command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(USAGE);
    else if (topic === 'convert') process.stdout.write(CONVERT_USAGE);
    else return usageError(`unknown command ${JSON.stringify(topic)}`, USAGE);
    return 0;
  }
  if (command !== 'convert') return usageError(`unknown command ${JSON.stringify(command)}`, USAGE);
  let args: ConvertArgs | 'help';
  try {
    args = parseConvert(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usageError(e.message, CONVERT_USAGE);
  }
  if (args === 'help') {
    process.stdout.write(CONVERT_USAGE);
    return 0;
  }
  return runConvert(args);
}

process.exitCode = main(process.argv.slice(2));
