import { createRequire } from 'node:module';
import { loadConfig, USAGE } from './config';
import { ReferenceServerError } from './errors';
import { createJsonLogger } from './logger';
import { startReferenceServer } from './server';

/** Where the command writes: the token and start line to `out`, logs to `err`. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  /** Resolves on SIGINT/SIGTERM. */
  untilStopped(): Promise<void>;
}

const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  untilStopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
};

/**
 * Runs `mdmkit-server` until SIGINT/SIGTERM; returns the exit code. A configuration error prints one
 * line naming the setting and exits 2; a start-up failure prints one line and exits 1.
 *
 * @example
 * ```ts
 * import { main } from '@mdmkit/reference-server';
 * const code = await main(['--help']); // prints the usage, 0
 * ```
 */
export async function main(
  args: string[],
  io: CliIo = processIo,
  env = process.env,
  cwd = process.cwd(),
): Promise<number> {
  let result: ReturnType<typeof loadConfig>;
  // `pnpm start -- --flag` hands the separator on; nothing here takes positionals.
  const given = args[0] === '--' ? args.slice(1) : args;
  try {
    result = loadConfig(given, env, cwd);
  } catch (e) {
    if (e instanceof ReferenceServerError && e.code === 'INVALID_CONFIG') {
      io.err(`mdmkit-server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (result.kind === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (result.kind === 'version') {
    io.out(`${(createRequire(import.meta.url)('../package.json') as { version: string }).version}\n`);
    return 0;
  }
  const { config } = result;
  const log = createJsonLogger(config.logLevel, (line) => io.err(line));
  const stopped = io.untilStopped();
  let server: Awaited<ReturnType<typeof startReferenceServer>>;
  try {
    server = await startReferenceServer(config, { log });
  } catch (e) {
    if (e instanceof ReferenceServerError) {
      io.err(`mdmkit-server: ${e.message}\n`);
      return e.code === 'INVALID_CONFIG' ? 2 : 1;
    }
    throw e;
  }
  io.out(`mdmkit-server listening on ${server.url} (public URL ${server.publicUrl})\n`);
  io.out(`enrollment profile: ${server.publicUrl}/mdm/enroll${config.enrollToken ? '?token=…' : ''}\n`);
  if (config.tls.kind === 'self-signed')
    io.out(`self-signed TLS certificate: ${config.dataDir}/tls-cert.pem\n`);
  if (server.generatedToken) {
    io.out(`admin API token (shown once, stored hashed): ${server.generatedToken}\n`);
  }
  await stopped;
  await server.close();
  return 0;
}
