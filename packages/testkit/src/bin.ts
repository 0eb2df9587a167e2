#!/usr/bin/env node
import { runTestkitCli } from './cli';

runTestkitCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mdmkit-testkit: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
