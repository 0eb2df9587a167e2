#!/usr/bin/env node
import { main } from './cli';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mdmkit-server: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
