import cluster from 'node:cluster';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createLocalKeyProvider, createStaticKeyProvider, type KeyProvider } from '@mdmkit/crypto';
import { openFileDepot } from './depot';
import { ScepError } from './errors';
import { toNodeListener } from './node';
import { createScepPolicy, staticChallenge } from './policy';
import { createScepServer } from './server';

/** Parsed `mdmkit-scep serve` arguments. */
export interface ServeConfig {
  host: string;
  port: number;
  caDir: string;
  challenge: string;
  validityDays: number;
  keySizes: number[];
  caKeyBits: 2048 | 3072 | 4096;
  caSubject?: string;
  /** Passphrase of a plain `ca.key` from an earlier version, read once to seal it. */
  passphrase?: string;
  /** File holding the key-encryption key that seals the CA key (created when missing); outside `caDir`. */
  kekFile?: string;
  /** The key-encryption key itself (32 bytes), e.g. from an environment secret. */
  kek?: Uint8Array;
  /** Any other key provider (a KMS); takes precedence over `kekFile` and `kek`. */
  keyProvider?: KeyProvider;
  /** Processes serving the same port and depot. Default 1. */
  workers?: number;
}

export const USAGE = `usage: mdmkit-scep serve --ca-dir DIR (--challenge SECRET | --challenge-file FILE) [options]

Serves SCEP at /scep, issuing from the CA in DIR (created on first run).

  --listen HOST:PORT        address to listen on (default 127.0.0.1:8080)
  --ca-dir DIR              CA depot: ca.pem, ca.key.sealed (0600), certs/<serial>.pem
  --kek-file FILE           key-encryption key sealing the CA key, created when missing; must be
                            outside --ca-dir (or env MDMKIT_SCEP_KEK: 32 bytes, base64)
  --challenge SECRET        static challenge password (or env MDMKIT_SCEP_CHALLENGE)
  --challenge-file FILE     read the challenge from a file (first line)
  --validity-days N         validity of issued certificates (default 365)
  --key-sizes LIST          allowed RSA key sizes, comma-separated (default 2048,3072,4096)
  --ca-key-size N           RSA size of a new CA key (default 2048)
  --ca-subject DN           subject of a new CA (default "CN=mdmkit SCEP CA")
  --ca-passphrase-file FILE passphrase of a plain ca.key from an earlier version, which is sealed
                            and deleted on start (or env MDMKIT_SCEP_CA_PASSPHRASE)
  --workers N               processes sharing the port and the depot (default 1)
`;

function bad(message: string): ScepError {
  return new ScepError('INVALID_OPTIONS', message);
}

/** Splits `host:port`, `[v6]:port` or a bare port. */
export function parseListen(value: string): { host: string; port: number } {
  let host = '127.0.0.1';
  let portText = value;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (value.includes(':')) {
    const i = value.lastIndexOf(':');
    host = value.slice(0, i);
    portText = value.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535 || host === '') throw bad(`invalid --listen ${value}`);
  return { host, port };
}

/** Parses the arguments after `serve`. */
export function parseServeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const values = new Map<string, string>();
  const known = new Set([
    'listen',
    'ca-dir',
    'challenge',
    'challenge-file',
    'validity-days',
    'key-sizes',
    'ca-key-size',
    'ca-subject',
    'ca-passphrase-file',
    'kek-file',
    'workers',
  ]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw bad(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!known.has(name)) throw bad(`unknown option --${name}`);
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      // `--ca-dir --challenge x` lacks a value rather than naming a directory "--challenge"; a value
      // that starts with -- is given as --name=value.
      value = args[i + 1]?.startsWith('--') ? undefined : args[i + 1];
      i++;
    }
    if (value === undefined) throw bad(`--${name} needs a value`);
    values.set(name, value);
  }
  const { host, port } = parseListen(values.get('listen') ?? '127.0.0.1:8080');
  const caDir = values.get('ca-dir');
  if (!caDir) throw bad('--ca-dir is required');
  let challenge = values.get('challenge') ?? env.MDMKIT_SCEP_CHALLENGE;
  const challengeFile = values.get('challenge-file');
  if (challengeFile !== undefined) challenge = readFirstLine(challengeFile);
  if (!challenge)
    throw bad('a challenge is required (--challenge, --challenge-file or MDMKIT_SCEP_CHALLENGE)');
  const validityDays = Number(values.get('validity-days') ?? '365');
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 36500) {
    throw bad('--validity-days must be an integer between 1 and 36500');
  }
  const keySizes = (values.get('key-sizes') ?? '2048,3072,4096').split(',').map((s) => Number(s.trim()));
  if (keySizes.length === 0 || keySizes.some((n) => !Number.isInteger(n) || n < 1024 || n > 16384)) {
    throw bad('--key-sizes must be a comma-separated list of RSA sizes');
  }
  const caKeyBits = Number(values.get('ca-key-size') ?? '2048');
  if (caKeyBits !== 2048 && caKeyBits !== 3072 && caKeyBits !== 4096)
    throw bad('--ca-key-size must be 2048, 3072 or 4096');
  const passFile = values.get('ca-passphrase-file');
  const passphrase = passFile !== undefined ? readFirstLine(passFile) : env.MDMKIT_SCEP_CA_PASSPHRASE;
  const caSubject = values.get('ca-subject');
  const kekFile = values.get('kek-file');
  let kek: Uint8Array | undefined;
  if (kekFile !== undefined) {
    if (isInside(caDir, kekFile)) {
      throw bad(
        '--kek-file must be outside --ca-dir: a key-encryption key beside the sealed key protects nothing',
      );
    }
  } else if (env.MDMKIT_SCEP_KEK) {
    kek = new Uint8Array(Buffer.from(env.MDMKIT_SCEP_KEK, 'base64'));
    if (kek.length !== 32) throw bad('MDMKIT_SCEP_KEK must be 32 bytes, base64-encoded');
  } else {
    throw bad('the CA key is sealed: give --kek-file FILE (outside --ca-dir) or MDMKIT_SCEP_KEK');
  }
  const workers = Number(values.get('workers') ?? '1');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw bad('--workers must be between 1 and 64');
  return {
    workers,
    host,
    port,
    caDir,
    challenge,
    validityDays,
    keySizes,
    caKeyBits,
    ...(caSubject !== undefined ? { caSubject } : {}),
    ...(passphrase ? { passphrase } : {}),
    ...(kekFile !== undefined ? { kekFile } : {}),
    ...(kek ? { kek } : {}),
  };
}

/** A path with symbolic links resolved as far as it exists (the file itself may not exist yet). */
function realPath(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPath(parent), basename(abs));
  }
}

/** Whether `file` is `dir` or lies under it, following symbolic links. */
function isInside(dir: string, file: string): boolean {
  const rel = relative(realPath(dir), realPath(file));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The key provider that seals the CA key, from the configuration. */
async function keyProviderOf(config: ServeConfig): Promise<KeyProvider> {
  if (config.keyProvider) return config.keyProvider;
  if (config.kekFile !== undefined) {
    if (isInside(config.caDir, config.kekFile)) {
      throw bad('kekFile must be outside caDir: a key-encryption key beside the sealed key protects nothing');
    }
    return createLocalKeyProvider({ path: config.kekFile });
  }
  if (config.kek) return createStaticKeyProvider(config.kek, { id: 'env' });
  throw bad('the CA key is sealed: give a key provider, kekFile or kek');
}

/** Opens (or creates) the depot a configuration names. */
async function openDepotOf(config: ServeConfig) {
  return openFileDepot({
    dir: config.caDir,
    keyProvider: await keyProviderOf(config),
    caKeyBits: config.caKeyBits,
    ...(config.caSubject !== undefined ? { caSubject: config.caSubject } : {}),
    ...(config.passphrase !== undefined ? { passphrase: config.passphrase } : {}),
  });
}

function readFirstLine(path: string): string {
  try {
    return (readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '').trim();
  } catch (cause) {
    const reason = (cause as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    throw new ScepError('INVALID_OPTIONS', `${path}: ${reason}`, { cause });
  }
}

/** Whether an error comes from reading a file the arguments name (a runtime error, not a usage error). */
function isFileError(e: unknown): boolean {
  return e instanceof ScepError && typeof (e.cause as NodeJS.ErrnoException | undefined)?.code === 'string';
}

/** A running standalone server. */
export interface RunningScepServer {
  /** Base URL of the SCEP endpoint, e.g. `http://127.0.0.1:8080/scep`. */
  readonly url: string;
  readonly server: Server;
  /** Whether starting sealed a plain `ca.key` from an earlier version (and deleted it). */
  readonly migrated: boolean;
  /** Stops accepting connections, closes idle ones and waits for requests in flight. */
  close(): Promise<void>;
}

/**
 * Starts the standalone server (what `mdmkit-scep serve` runs).
 *
 * @example
 * ```ts
 * import { serve } from '@mdmkit/scep';
 * const running = await serve({ host: '127.0.0.1', port: 8080, caDir: './ca', kekFile: '/etc/mdmkit/scep-kek',
 *   challenge: 'secret', validityDays: 365, keySizes: [2048, 3072, 4096], caKeyBits: 2048 });
 * console.log(running.url); // http://127.0.0.1:8080/scep
 * await running.close();
 * ```
 */
export async function serve(config: ServeConfig): Promise<RunningScepServer> {
  const depot = await openDepotOf(config);
  const scep = createScepServer({
    ca: { certificate: depot.certificate, signer: depot.privateKey },
    store: depot,
    policy: createScepPolicy({
      challenge: staticChallenge(config.challenge),
      keys: [{ type: 'rsa', sizes: config.keySizes }],
      validityDays: config.validityDays,
    }),
  });
  // The slow-client limits @mdmkit/http's serve() sets: headers within 20 s, the whole request
  // within 60 s, idle connections closed after 60 s; no `100 Continue` for a body over the limit.
  const listener = toNodeListener(scep, { path: '/scep' });
  const server = createServer(
    {
      headersTimeout: 20_000,
      requestTimeout: 60_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    },
    listener,
  );
  server.setTimeout(60_000);
  server.on('checkContinue', (req, res) => {
    if (!(Number(req.headers['content-length']) > scep.maxBodyBytes)) res.writeContinue();
    listener(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostText = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostText}:${addr.port}/scep`,
    server,
    migrated: depot.migrated,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

const PROGRAM = 'mdmkit-scep';

/** Top-level usage of the `mdmkit-scep` command. */
export const PROGRAM_USAGE = `usage: ${PROGRAM} <command> [options]

Commands:
  serve     run a standalone SCEP CA server
  help      show help for a command

Options:
  -h, --help     show this help
  --version      print the version

Run '${PROGRAM} help serve' for the options of serve.
`;

function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/**
 * Runs the command line; resolves with the process exit code once the server has stopped. Follows the
 * convention of every mdmkit bin: `--help`, `-h` and `help` at every level (stdout, exit 0), `--version`,
 * usage errors on stderr with the program name (exit 2), runtime errors with exit 1.
 */
export async function main(
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void },
) {
  const usageError = (message: string, usage: string) => {
    io.err(`${PROGRAM}: ${message}\n\n${usage}`);
    return 2;
  };
  const [command, ...rest] = argv;
  if (command === undefined) return usageError('missing command', PROGRAM_USAGE);
  if (command === '--help' || command === '-h') {
    io.out(PROGRAM_USAGE);
    return 0;
  }
  if (command === '--version') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) io.out(PROGRAM_USAGE);
    else if (topic === 'serve') io.out(USAGE);
    else return usageError(`unknown command ${JSON.stringify(topic)}`, PROGRAM_USAGE);
    return 0;
  }
  if (command !== 'serve') return usageError(`unknown command ${JSON.stringify(command)}`, PROGRAM_USAGE);
  if (rest.includes('--help') || rest.includes('-h') || rest[0] === 'help') {
    io.out(USAGE);
    return 0;
  }
  let config: ServeConfig;
  try {
    config = parseServeArgs(rest);
  } catch (e) {
    if (isFileError(e)) {
      io.err(`${PROGRAM}: ${(e as Error).message}\n`);
      return 1;
    }
    return usageError((e as Error).message, USAGE);
  }
  if ((config.workers ?? 1) > 1 && cluster.isPrimary) return runPrimary(config, io);
  const quiet = cluster.isWorker;
  let running: RunningScepServer;
  try {
    running = await serve(config);
  } catch (e) {
    io.err(`mdmkit-scep: ${(e as Error).message}\n`);
    return 1;
  }
  if (!quiet && running.migrated) {
    io.out(`mdmkit-scep: sealed the plain CA key in ${config.caDir} and removed ca.key\n`);
  }
  if (!quiet) io.out(`mdmkit-scep: serving SCEP at ${running.url} (CA ${config.caDir})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      running.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  if (!quiet) io.out('mdmkit-scep: stopped\n');
  // A worker's IPC channel to the primary would keep it alive after its server has closed.
  if (cluster.isWorker) cluster.worker?.disconnect();
  return 0;
}

/**
 * Several processes on one port (node:cluster), all using the same depot: the CA is created here first,
 * then each worker serves; nonces live in the depot as exclusively created files, so a replay is caught
 * whichever worker gets it.
 */
async function runPrimary(config: ServeConfig, io: { out: (s: string) => void; err: (s: string) => void }) {
  try {
    const depot = await openDepotOf(config);
    if (depot.migrated)
      io.out(`mdmkit-scep: sealed the plain CA key in ${config.caDir} and removed ca.key\n`);
  } catch (e) {
    io.err(`mdmkit-scep: ${(e as Error).message}\n`);
    return 1;
  }
  let stopping = false;
  let announced = false;
  const fork = () => {
    const w = cluster.fork();
    w.on('listening', (addr) => {
      if (announced) return;
      announced = true;
      const host = addr.addressType === 6 ? `[${addr.address}]` : addr.address;
      io.out(
        `mdmkit-scep: serving SCEP at http://${host}:${addr.port}/scep (CA ${config.caDir}, ${config.workers} workers)\n`,
      );
    });
    w.on('exit', () => {
      if (!stopping) fork();
    });
  };
  for (let i = 0; i < (config.workers ?? 1); i++) fork();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
      if (alive.length === 0) resolve();
      let left = alive.length;
      for (const w of alive) {
        w!.once('exit', () => {
          if (--left === 0) resolve();
        });
        w!.process.kill('SIGTERM');
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.out('mdmkit-scep: stopped\n');
  return 0;
}
