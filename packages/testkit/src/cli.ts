// `mdmkit-testkit`: runs the mocks as standalone processes, with the command-line convention every
// mdmkit bin follows (help at every level, --version, usage errors exit 2, runtime errors exit 1).
import { createRequire } from 'node:module';
import { intOption, parse, UsageError } from './cli-args';
import { DEVICES_USAGE, runDevices } from './fleet/cli';
import { createMockApnsCertificates } from './mock-apns/certificates';
import { startMockApns } from './mock-apns/server';
import { startMockDep } from './mock-dep/server';

const PROGRAM = 'mdmkit-testkit';

const USAGE = `usage: ${PROGRAM} <command> [options]

Commands:
  devices     run a fleet of virtual devices against an MDM server
  mock-apns   run a mock APNs service (HTTP/2 over TLS)
  mock-dep    run a mock Apple DEP (ABM) service (HTTP/1.1)
  help        show help for a command

Options:
  -h, --help     show this help
  --version      print the version
`;

const MOCK_DEP_USAGE = `usage: ${PROGRAM} mock-dep [--host H] [--port P] [--devices N]

Runs a mock of Apple's DEP API and prints its URL and the OAuth credentials it accepts as JSON.
  --host H          address to listen on (default 127.0.0.1)
  --port P          port (default: any free port)
  --devices N       devices in the inventory before the first fetch (default 100)
  -h, --help        show this help
`;

const MOCK_APNS_USAGE = `usage: ${PROGRAM} mock-apns [--port P]

Runs a mock APNs service on 127.0.0.1 with a fresh test PKI and prints its origin and the CA (PEM) as JSON.
  --port P          port (default: any free port)
  -h, --help        show this help
`;

function done(io: Io, text: string, code: number): number {
  io.out(text);
  return code;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** Whether err() writes to a terminal (progress is redrawn in place there). */
  errIsTty?: boolean;
  /** Resolves when the process should stop (SIGINT/SIGTERM). */
  untilStopped(): Promise<void>;
}

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  errIsTty: process.stderr.isTTY === true,
  untilStopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    }),
};

function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/**
 * Runs `mdmkit-testkit` with `args`; returns the exit code (undefined for 0 after a server stopped).
 *
 * @example
 * ```ts
 * await runTestkitCli(['--version']);
 * ```
 */
export async function runTestkitCli(args: string[], io: Io = processIo): Promise<number | undefined> {
  const [command, ...rest] = args;
  try {
    if (command === undefined) throw new UsageError('missing command');
    if (command === '--help' || command === '-h') return done(io, USAGE, 0);
    if (command === '--version') return done(io, `${version()}\n`, 0);
    if (command === 'help') {
      const topic = rest[0];
      if (topic === undefined) return done(io, USAGE, 0);
      if (topic === 'mock-dep') return done(io, MOCK_DEP_USAGE, 0);
      if (topic === 'mock-apns') return done(io, MOCK_APNS_USAGE, 0);
      if (topic === 'devices') return done(io, DEVICES_USAGE, 0);
      throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
    }
    if (command === 'devices') return await runDevices(rest, io);
    if (command === 'mock-dep') {
      const { values, positionals } = parse(rest, ['host', 'port', 'devices']);
      if (values.help || positionals[0] === 'help') return done(io, MOCK_DEP_USAGE, 0);
      if (positionals.length > 0)
        throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const mock = await startMockDep({
        ...(typeof values.host === 'string' && { host: values.host }),
        port: intOption(values.port, 'port', 65535) ?? 0,
        devices: intOption(values.devices, 'devices', 10_000_000) ?? 100,
      });
      io.out(`${JSON.stringify({ url: mock.url, credentials: mock.credentials })}\n`);
      await io.untilStopped();
      await mock.close();
      return 0;
    }
    if (command === 'mock-apns') {
      const { values, positionals } = parse(rest, ['port']);
      if (values.help || positionals[0] === 'help') return done(io, MOCK_APNS_USAGE, 0);
      if (positionals.length > 0)
        throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const pki = await createMockApnsCertificates();
      const port = intOption(values.port, 'port', 65535);
      const mock = await startMockApns({
        key: pki.serverKeyPem,
        cert: pki.serverCertPem,
        requireClientCert: false,
        ...(port !== undefined && { port }),
      });
      io.out(`${JSON.stringify({ origin: mock.origin, caPem: pki.caPem })}\n`);
      await io.untilStopped();
      await mock.close();
      return 0;
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (e) {
    if (e instanceof UsageError) {
      const usage =
        command === 'devices'
          ? DEVICES_USAGE
          : command === 'mock-dep'
            ? MOCK_DEP_USAGE
            : command === 'mock-apns'
              ? MOCK_APNS_USAGE
              : USAGE;
      io.err(`${PROGRAM}: ${e.message}\n${usage}`);
      return 2;
    }
    throw e;
  }
}
