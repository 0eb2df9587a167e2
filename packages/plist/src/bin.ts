#!/usr/bin/env node
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { convert, type ConvertFormat } from './convert';
import { PlistParseError } from './errors';

const USAGE = `usage: mdmkit-plist convert --to xml|binary|json [-o OUT] IN

Converts a property list (binary or XML) or JSON document to the given format.
  IN        input file, or - for standard input
  -o OUT    output file, or - for standard output. Without -o the input file is
            replaced in place (as plutil -convert does); with IN = - output goes
            to standard output.
  --sort    sort dictionary keys (XML output)
`;

class UsageError extends Error {}

interface Args {
  to: ConvertFormat;
  input: string;
  output: string | undefined;
  sortKeys: boolean;
}

function parseArgs(argv: string[]): Args | 'help' {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) return 'help';
  const [command, ...rest] = argv;
  if (command !== 'convert') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  let to: string | undefined;
  let output: string | undefined;
  let input: string | undefined;
  let sortKeys = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--to' || a === '-t') to = rest[++i];
    else if (a.startsWith('--to=')) to = a.slice(5);
    else if (a === '-o' || a === '--output') output = rest[++i];
    else if (a.startsWith('--output=')) output = a.slice(9);
    else if (a === '--sort') sortKeys = true;
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else if (input === undefined) input = a;
    else throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
  }
  if (to !== 'xml' && to !== 'binary' && to !== 'json')
    throw new UsageError('--to must be xml, binary or json');
  if (input === undefined) throw new UsageError('missing input file (use - for standard input)');
  if (output === '') throw new UsageError('-o needs a file name');
  return { to, input, output, sortKeys };
}

function main(argv: string[]): number {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`mdmkit-plist: ${e.message}\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const name = args.input === '-' ? '<stdin>' : args.input;
  try {
    const input = readFileSync(args.input === '-' ? 0 : args.input);
    const out = convert(input, { to: args.to, sortKeys: args.sortKeys });
    const target = args.output ?? (args.input === '-' ? '-' : args.input);
    if (target === '-') writeFileSync(1, out);
    else if (target === args.input) {
      // Replace in place atomically, so a failed write never leaves half a file.
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, out);
      renameSync(tmp, target);
    } else writeFileSync(target, out);
    return 0;
  } catch (e) {
    if (e instanceof PlistParseError) {
      process.stderr.write(`mdmkit-plist: ${name}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`mdmkit-plist: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
