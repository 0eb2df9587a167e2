import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ReferenceServerError } from './errors';

/** Where the server keeps its state. */
export type StorageConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema?: string }
  | { kind: 'mysql'; url: string };

/** How the server speaks TLS. */
export type TlsConfig =
  | { kind: 'files'; certFile: string; keyFile: string }
  | { kind: 'self-signed' }
  | { kind: 'off' };

/** The server's whole configuration, after flags, environment, config file and defaults. */
export interface ServerConfig {
  listen: { host: string; port: number };
  dataDir: string;
  /** Origin devices and admins reach the server at; `undefined` means "derived from `listen`". */
  publicUrl: string | undefined;
  storage: StorageConfig;
  tls: TlsConfig;
  trustedProxies: string[];
  /** A fixed admin API token; without it one is generated on first start and printed once. */
  apiToken: string | undefined;
  /** The key-encryption-key file; never inside `dataDir`. */
  kekFile: string;
  /** When set, `/mdm/enroll` serves a profile only with `?token=` equal to it. */
  enrollToken: string | undefined;
  logLevel: LogLevel;
  /** Where check-in and report events are delivered, and the secret that signs them. */
  webhook: { url: string; secret: string | undefined } | undefined;
  /** Push to this APNs origin (e.g. a mock) instead of Apple's. */
  apns: { origin: string; caFile: string | undefined } | undefined;
  shutdownTimeoutMs: number;
  pushRetryIntervalMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

interface Setting {
  /** Flag name without dashes; also the config-file key. */
  name: string;
  env: string;
  type: 'string' | 'boolean' | 'list';
  help: string;
}

/** Every setting: one flag, one environment variable, one config-file key each. */
export const SETTINGS: readonly Setting[] = [
  {
    name: 'config',
    env: 'MDMKIT_CONFIG',
    type: 'string',
    help: 'JSON file with any of these settings (keys are the flag names)',
  },
  {
    name: 'listen',
    env: 'MDMKIT_LISTEN',
    type: 'string',
    help: 'HOST:PORT to listen on (default 127.0.0.1:8443)',
  },
  {
    name: 'data-dir',
    env: 'MDMKIT_DATA_DIR',
    type: 'string',
    help: 'state directory (default ./mdmkit-data)',
  },
  {
    name: 'public-url',
    env: 'MDMKIT_PUBLIC_URL',
    type: 'string',
    help: 'origin devices reach the server at (default from --listen)',
  },
  {
    name: 'storage',
    env: 'MDMKIT_STORAGE',
    type: 'string',
    help: 'sqlite:[FILE] (default), postgres://… (?schema=S), mysql://…',
  },
  {
    name: 'tls-cert',
    env: 'MDMKIT_TLS_CERT',
    type: 'string',
    help: 'PEM certificate chain to serve (with --tls-key)',
  },
  { name: 'tls-key', env: 'MDMKIT_TLS_KEY', type: 'string', help: 'PEM private key of --tls-cert' },
  {
    name: 'no-tls',
    env: 'MDMKIT_NO_TLS',
    type: 'boolean',
    help: 'plain HTTP behind a TLS-terminating proxy',
  },
  {
    name: 'trusted-proxy',
    env: 'MDMKIT_TRUSTED_PROXY',
    type: 'list',
    help: 'proxy address or CIDR whose client-certificate header is believed (repeatable; env: comma-separated)',
  },
  {
    name: 'api-token',
    env: 'MDMKIT_API_TOKEN',
    type: 'string',
    help: 'admin API token (at least 24 characters); default: generated once and printed',
  },
  {
    name: 'kek-file',
    env: 'MDMKIT_KEK_FILE',
    type: 'string',
    help: 'key-encryption key, outside --data-dir (default ~/.config/mdmkit-server/kek.json)',
  },
  {
    name: 'enroll-token',
    env: 'MDMKIT_ENROLL_TOKEN',
    type: 'string',
    help: 'require /mdm/enroll?token=VALUE for a profile',
  },
  {
    name: 'log-level',
    env: 'MDMKIT_LOG_LEVEL',
    type: 'string',
    help: 'debug | info | warn | error (default info)',
  },
  {
    name: 'webhook-url',
    env: 'MDMKIT_WEBHOOK_URL',
    type: 'string',
    help: 'POST every check-in and command report here (NanoMDM webhook shape), from a durable outbox',
  },
  {
    name: 'webhook-secret',
    env: 'MDMKIT_WEBHOOK_SECRET',
    type: 'string',
    help: 'sign webhook bodies with HMAC-SHA256 under this secret (at least 16 characters)',
  },
  {
    name: 'apns-origin',
    env: 'MDMKIT_APNS_ORIGIN',
    type: 'string',
    help: 'push to this APNs origin instead of Apple (a mock service)',
  },
  {
    name: 'apns-ca',
    env: 'MDMKIT_APNS_CA',
    type: 'string',
    help: "PEM CA that signs --apns-origin's TLS certificate",
  },
  {
    name: 'shutdown-timeout',
    env: 'MDMKIT_SHUTDOWN_TIMEOUT',
    type: 'string',
    help: 'seconds in-flight requests get on shutdown (default 10)',
  },
  {
    name: 'push-retry-interval',
    env: 'MDMKIT_PUSH_RETRY_INTERVAL',
    type: 'string',
    help: 'seconds between pushes to devices with waiting commands (default 60)',
  },
];

/** Usage text of `mdmkit-server`. */
export const USAGE = `usage: mdmkit-server [options]

Runs an Apple MDM server: /mdm/enroll, /mdm/checkin, /mdm/connect, /scep, the admin API under /api/v1,
/health and /metrics. Every option also reads from its environment variable or the --config file;
a flag wins over the environment, the environment over the file.

${SETTINGS.map((s) => `  --${`${s.name}${s.type === 'boolean' ? '' : ' V'}`.padEnd(22)} ${s.help}\n  ${''.padEnd(24)} env ${s.env}`).join('\n')}
  -h, --help               show this help
  --version                print the version
`;

type Raw = Map<string, { value: string | boolean | string[]; source: string }>;

function invalid(setting: Setting | string, source: string, why: string): ReferenceServerError {
  const name = typeof setting === 'string' ? setting : setting.name;
  return new ReferenceServerError('INVALID_CONFIG', `invalid setting ${name} (from ${source}): ${why}`, {
    setting: name,
  });
}

function settingNamed(name: string): Setting {
  const s = SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`no setting ${name}`);
  return s;
}

/** Reads flags; unknown flags and missing values are configuration errors naming the flag. */
function fromArgs(args: readonly string[]): { raw: Raw; help: boolean; version: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  for (const s of SETTINGS) {
    options[s.name] = {
      type: s.type === 'boolean' ? 'boolean' : 'string',
      ...(s.type === 'list' ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (e) {
    const message = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1]?.replace(/^-+/, '') ?? 'arguments';
    throw new ReferenceServerError(
      'INVALID_CONFIG',
      `invalid setting ${flag} (from the command line): ${message}`,
      {
        setting: flag,
        cause: e,
      },
    );
  }
  const raw: Raw = new Map();
  for (const s of SETTINGS) {
    const v = parsed.values[s.name];
    if (v !== undefined) raw.set(s.name, { value: v as string | boolean | string[], source: `--${s.name}` });
  }
  return { raw, help: parsed.values.help === true, version: parsed.values.version === true };
}

function fromEnv(env: NodeJS.ProcessEnv): Raw {
  const raw: Raw = new Map();
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v === undefined || v === '') continue;
    const source = `environment ${s.env}`;
    if (s.type === 'boolean') {
      if (!/^(1|true|yes|0|false|no)$/i.test(v))
        throw invalid(s, source, `${JSON.stringify(v)} is not true or false`);
      raw.set(s.name, { value: /^(1|true|yes)$/i.test(v), source });
    } else if (s.type === 'list') {
      raw.set(s.name, {
        value: v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
        source,
      });
    } else raw.set(s.name, { value: v, source });
  }
  return raw;
}

function fromFile(path: string, cwd: string): Raw {
  const source = `config file ${path}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(cwd, path), 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw invalid('config', source, `cannot read it as JSON (${why})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('config', source, 'must hold one JSON object');
  }
  const raw: Raw = new Map();
  for (const [key, value] of Object.entries(parsed)) {
    const s = SETTINGS.find((x) => x.name === key && x.name !== 'config');
    if (!s) throw invalid(key, source, 'no such setting');
    const ok =
      s.type === 'boolean'
        ? typeof value === 'boolean'
        : s.type === 'list'
          ? Array.isArray(value) && value.every((x) => typeof x === 'string')
          : typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw invalid(s, source, `must be ${s.type === 'list' ? 'a list of strings' : `a ${s.type}`}`);
    raw.set(key, {
      value: typeof value === 'number' ? String(value) : (value as string | boolean | string[]),
      source,
    });
  }
  return raw;
}

function parseListen(value: string, source: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw invalid(settingNamed('listen'), source, `${JSON.stringify(value)} is not HOST:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

function parseStorage(value: string, dataDir: string, source: string): StorageConfig {
  const bad = (why: string) => invalid(settingNamed('storage'), source, why);
  if (value === 'sqlite:' || value === 'sqlite') return { kind: 'sqlite', path: join(dataDir, 'mdmkit.db') };
  if (value.startsWith('sqlite:')) return { kind: 'sqlite', path: resolve(value.slice('sqlite:'.length)) };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('expected sqlite:[FILE], postgres://… or mysql://…');
  }
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw bad(`schema ${JSON.stringify(schema)} is not a plain identifier`);
    }
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.href, ...(schema !== undefined ? { schema } : {}) };
  }
  if (url.protocol === 'mysql:') {
    if (url.pathname.length < 2) throw bad('a mysql:// URL must name its database');
    return { kind: 'mysql', url: url.href };
  }
  throw bad(`unknown scheme ${url.protocol} (expected sqlite:, postgres:// or mysql://)`);
}

function isAddressOrCidr(v: string): boolean {
  const [address, bits, extra] = v.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function seconds(setting: Setting, value: string, source: string, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw invalid(
      setting,
      source,
      `${JSON.stringify(value)} is not a number of seconds between 0 and ${max}`,
    );
  }
  return Math.round(Number(value) * 1000);
}

function readable(setting: Setting, path: string, source: string): string {
  try {
    readFileSync(path);
  } catch (e) {
    throw invalid(setting, source, `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return path;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** What {@link loadConfig} found: a configuration, or a request for help or the version. */
export type ConfigResult = { kind: 'run'; config: ServerConfig } | { kind: 'help' } | { kind: 'version' };

/**
 * Builds the configuration from command-line flags, environment variables and a JSON config file
 * (in that order of precedence) over the embedded defaults. Throws `INVALID_CONFIG` naming the first
 * setting it cannot use.
 *
 * @example
 * ```ts
 * import { loadConfig } from '@mdmkit/reference-server';
 * const r = loadConfig(['--listen', '127.0.0.1:9443', '--kek-file', '/tmp/kek.json'], {}, '/tmp');
 * if (r.kind === 'run') console.log(r.config.listen.port); // 9443
 * ```
 */
export function loadConfig(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ConfigResult {
  const cli = fromArgs(args);
  if (cli.help) return { kind: 'help' };
  if (cli.version) return { kind: 'version' };
  const envRaw = fromEnv(env);
  const configPath = (cli.raw.get('config') ?? envRaw.get('config'))?.value as string | undefined;
  const fileRaw = configPath !== undefined ? fromFile(configPath, cwd) : new Map();
  const get = (name: string) => cli.raw.get(name) ?? envRaw.get(name) ?? fileRaw.get(name);
  const str = (name: string): { value: string; source: string } | undefined => {
    const v = get(name);
    return v === undefined ? undefined : { value: String(v.value), source: v.source };
  };

  const listenRaw = str('listen');
  const listen = listenRaw
    ? parseListen(listenRaw.value, listenRaw.source)
    : { host: '127.0.0.1', port: 8443 };
  const dataDir = resolve(cwd, str('data-dir')?.value ?? 'mdmkit-data');

  const publicRaw = str('public-url');
  let publicUrl: string | undefined;
  if (publicRaw) {
    const s = settingNamed('public-url');
    let url: URL;
    try {
      url = new URL(publicRaw.value);
    } catch {
      throw invalid(s, publicRaw.source, `${JSON.stringify(publicRaw.value)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw invalid(s, publicRaw.source, 'must be https:// (or http:// for local tests)');
    if (url.pathname !== '/' || url.search || url.hash || url.username) {
      throw invalid(s, publicRaw.source, 'must be an origin only, e.g. https://mdm.example.com');
    }
    publicUrl = url.origin;
  }

  const storageRaw = str('storage');
  const storage = parseStorage(storageRaw?.value ?? 'sqlite:', dataDir, storageRaw?.source ?? 'default');

  const certRaw = str('tls-cert');
  const keyRaw = str('tls-key');
  const noTls = get('no-tls');
  let tls: TlsConfig = { kind: 'self-signed' };
  if (noTls?.value === true) {
    if (certRaw || keyRaw)
      throw invalid(settingNamed('no-tls'), noTls.source, 'cannot be combined with --tls-cert/--tls-key');
    tls = { kind: 'off' };
  } else if (certRaw || keyRaw) {
    if (!certRaw) throw invalid(settingNamed('tls-cert'), keyRaw!.source, '--tls-key needs --tls-cert');
    if (!keyRaw) throw invalid(settingNamed('tls-key'), certRaw.source, '--tls-cert needs --tls-key');
    tls = {
      kind: 'files',
      certFile: readable(settingNamed('tls-cert'), resolve(cwd, certRaw.value), certRaw.source),
      keyFile: readable(settingNamed('tls-key'), resolve(cwd, keyRaw.value), keyRaw.source),
    };
  }

  const proxies = get('trusted-proxy');
  const trustedProxies = proxies ? (proxies.value as string[]) : [];
  for (const p of trustedProxies) {
    if (!isAddressOrCidr(p))
      throw invalid(
        settingNamed('trusted-proxy'),
        proxies!.source,
        `${JSON.stringify(p)} is not an IP address or CIDR range`,
      );
  }

  const tokenRaw = str('api-token');
  if (
    tokenRaw &&
    (tokenRaw.value.length < 24 || tokenRaw.value.length > 512 || /[\s:]/.test(tokenRaw.value))
  ) {
    throw invalid(
      settingNamed('api-token'),
      tokenRaw.source,
      'must be 24 to 512 characters without spaces or colons',
    );
  }

  const kekRaw = str('kek-file');
  let kekFile: string;
  if (kekRaw) kekFile = resolve(cwd, kekRaw.value);
  else {
    const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : join(homedir(), '.config'));
    kekFile = join(base, 'mdmkit-server', 'kek.json');
  }
  if (isInside(dataDir, kekFile)) {
    throw invalid(
      settingNamed('kek-file'),
      kekRaw?.source ?? 'default',
      'must be outside --data-dir: a key-encryption key beside the sealed data protects nothing',
    );
  }

  const enrollRaw = str('enroll-token');
  if (enrollRaw && enrollRaw.value.length < 16)
    throw invalid(settingNamed('enroll-token'), enrollRaw.source, 'must be at least 16 characters');

  const levelRaw = str('log-level');
  const logLevel = (levelRaw?.value ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw invalid(settingNamed('log-level'), levelRaw!.source, 'must be debug, info, warn or error');
  }

  const apnsRaw = str('apns-origin');
  const apnsCaRaw = str('apns-ca');
  let apns: ServerConfig['apns'];
  if (apnsRaw) {
    if (!/^https:\/\/[^/]+$/.test(apnsRaw.value))
      throw invalid(settingNamed('apns-origin'), apnsRaw.source, 'must be an https origin');
    apns = {
      origin: apnsRaw.value,
      caFile: apnsCaRaw
        ? readable(settingNamed('apns-ca'), resolve(cwd, apnsCaRaw.value), apnsCaRaw.source)
        : undefined,
    };
  } else if (apnsCaRaw) throw invalid(settingNamed('apns-ca'), apnsCaRaw.source, 'needs --apns-origin');

  const hookRaw = str('webhook-url');
  const hookSecretRaw = str('webhook-secret');
  let webhook: ServerConfig['webhook'];
  if (hookRaw) {
    let url: URL | undefined;
    try {
      url = new URL(hookRaw.value);
    } catch {}
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw invalid(settingNamed('webhook-url'), hookRaw.source, 'must be an http or https URL');
    }
    if (hookSecretRaw && hookSecretRaw.value.length < 16) {
      throw invalid(settingNamed('webhook-secret'), hookSecretRaw.source, 'must be at least 16 characters');
    }
    webhook = { url: url.href, secret: hookSecretRaw?.value };
  } else if (hookSecretRaw)
    throw invalid(settingNamed('webhook-secret'), hookSecretRaw.source, 'needs --webhook-url');

  const shutdownRaw = str('shutdown-timeout');
  const retryRaw = str('push-retry-interval');
  return {
    kind: 'run',
    config: {
      listen,
      dataDir,
      publicUrl,
      storage,
      tls,
      trustedProxies,
      apiToken: tokenRaw?.value,
      kekFile,
      enrollToken: enrollRaw?.value,
      logLevel,
      webhook,
      apns,
      shutdownTimeoutMs: shutdownRaw
        ? seconds(settingNamed('shutdown-timeout'), shutdownRaw.value, shutdownRaw.source, 3600)
        : 10_000,
      pushRetryIntervalMs: retryRaw
        ? seconds(settingNamed('push-retry-interval'), retryRaw.value, retryRaw.source, 86_400)
        : 60_000,
    },
  };
}
