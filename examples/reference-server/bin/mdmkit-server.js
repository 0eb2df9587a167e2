#!/usr/bin/env node
// Package managers link bins at install time, before a workspace is built; pointing the bin at this
// committed file keeps the link valid and turns a missing build into a clear message.
import('../dist/bin.js').catch((error) => {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/bin.js')) throw error;
  process.stderr.write('mdmkit-server: not built yet; run `pnpm run build` in the repository first\n');
  process.exitCode = 1;
});
