#!/usr/bin/env node
// Runs before `pnpm install`. better-sqlite3 compiles from source wherever its prebuilt binary cannot
// be downloaded, and node-gyp's own failure is long and deep; this names what is missing up front.
import { spawnSync } from 'node:child_process';

const missing = [
  ['python3', ['--version']],
  ['make', ['--version']],
  ['c++', ['--version']],
].filter(([cmd, args]) => spawnSync(cmd, args, { stdio: 'ignore' }).status !== 0);
if (missing.length > 0) {
  const names = missing.map(([cmd]) => cmd).join(', ');
  process.stderr.write(
    `mdmkit: ${names} not found. @mdmkit/storage-sqlite's better-sqlite3 builds from source when no prebuilt\n` +
      'binary can be downloaded, and then needs python3, make and a C++ compiler; see "Set-up" in README.md.\n',
  );
}
