#!/usr/bin/env node
import { main } from './cli';

main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mdmkit-scep: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
