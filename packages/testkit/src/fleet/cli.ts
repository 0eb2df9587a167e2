// `mdmkit-testkit devices`: a fleet of virtual devices pointed at any MDM server.
import { readFile } from 'node:fs/promises';
import type { Io } from '../cli';
import { intOption, parse, UsageError } from '../cli-args';
import { DEVICE_MODELS, type DevicePlatform } from '../virtual-device/models';
import { fetchBounded, MAX_ANSWER_BYTES } from '../virtual-device/transport';
import { TestkitError } from '../errors';
import { Fleet } from './fleet';
import { runScenario, SCENARIOS, type ScenarioName } from './scenario';

export const DEVICES_USAGE = `usage: mdmkit-testkit devices (--enroll-url URL | --profile FILE) [options]

Enrolls a fleet of virtual Apple devices with an MDM server and drives it, then prints a JSON summary
(latency percentiles, error counts, command answers) on stdout; progress goes to stderr.
  --enroll-url URL     GET a fresh enrollment profile here for each device
  --profile FILE       or use this enrollment profile for every device (a shared SCEP challenge)
  --server-url URL     send every device request to this origin instead of the one in the profile
                       (e.g. http://127.0.0.1:8080 behind a public https name)
  --scenario S         enroll | idle | round-trips | mixed (default idle)
  --devices N          devices to enroll (default 100)
  --enroll-rate R      enrollments started per second (default 20)
  --rate R             Idle check-ins (idle, mixed) or polls (round-trips) per second (default 100)
  --command-rate R     polls expecting a command per second in mixed (default rate / 10)
  --duration S         seconds of check-ins after enrollment (default 10)
  --concurrency C      requests in flight at most (default 64)
  --platforms LIST     comma-separated macOS,iOS,iPadOS, used in turn (default all three)
  --timeout S          seconds a server has to answer one request, body included (default 30);
                       a request past it counts as an error
  -h, --help           show this help

Round trips need the server to queue commands; pointed at a server through this command, a round
trip is a poll that answers whatever the server had queued. Exit 0 when nothing failed, 1 otherwise.
`;

const OPTIONS = [
  'enroll-url',
  'profile',
  'server-url',
  'scenario',
  'devices',
  'enroll-rate',
  'rate',
  'command-rate',
  'duration',
  'concurrency',
  'platforms',
  'timeout',
] as const;

function urlOption(v: string | boolean | undefined, name: string): URL | undefined {
  if (v === undefined) return undefined;
  try {
    const url = new URL(String(v));
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {}
  throw new UsageError(`--${name} must be an http or https URL`);
}

function positive(v: string | boolean | undefined, name: string, max: number): number | undefined {
  const n = intOption(v, name, max);
  if (n === 0) throw new UsageError(`--${name} must be at least 1`);
  return n;
}

/** A fetch that sends every request to `origin`, keeping path and query. */
function redirectTo(origin: URL): typeof fetch {
  return (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return fetch(`${origin.origin}${url.pathname}${url.search}`, init);
  };
}

/**
 * Runs the `devices` subcommand (`mdmkit-testkit devices …`); returns its exit code.
 *
 * @example
 * ```ts
 * const code = await runDevices(['--enroll-url', 'https://mdm.example.com/enroll', '--devices', '50'], io);
 * ```
 */
export async function runDevices(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS);
  if (values.help || positionals[0] === 'help') {
    io.out(DEVICES_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const enrollUrl = urlOption(values['enroll-url'], 'enroll-url');
  const profileFile = values.profile;
  if ((enrollUrl === undefined) === (profileFile === undefined))
    throw new UsageError('give exactly one of --enroll-url and --profile');
  const serverUrl = urlOption(values['server-url'], 'server-url');
  const scenario = (values.scenario ?? 'idle') as ScenarioName;
  if (!SCENARIOS.includes(scenario))
    throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const platforms = values.platforms === undefined ? undefined : String(values.platforms).split(',');
  for (const p of platforms ?? [])
    if (!(p in DEVICE_MODELS)) throw new UsageError(`unknown platform ${JSON.stringify(p)}`);
  const devices = positive(values.devices, 'devices', 1_000_000) ?? 100;
  const enrollRate = positive(values['enroll-rate'], 'enroll-rate', 1_000_000);
  const rate = positive(values.rate, 'rate', 1_000_000);
  const commandRate = positive(values['command-rate'], 'command-rate', 1_000_000);
  const duration = positive(values.duration, 'duration', 86_400) ?? 10;
  const concurrency = positive(values.concurrency, 'concurrency', 100_000);
  const timeoutMs = (positive(values.timeout, 'timeout', 3600) ?? 30) * 1000;

  const transport = serverUrl ? redirectTo(serverUrl) : fetch;
  let shared: Uint8Array | undefined;
  if (typeof profileFile === 'string') {
    try {
      shared = new Uint8Array(await readFile(profileFile));
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new TestkitError('INVALID_PROFILE', `${profileFile}: ${reason}`, { cause: e });
    }
  }
  const profile = async (): Promise<Uint8Array> => {
    if (shared) return shared;
    const res = await fetchBounded(
      transport,
      String(enrollUrl),
      {},
      { timeoutMs, maxBytes: MAX_ANSWER_BYTES },
    );
    if (res.status !== 200)
      throw new TestkitError('REQUEST_FAILED', `GET ${String(enrollUrl)} answered ${res.status}`);
    return res.body;
  };
  const fleet = new Fleet({
    profile,
    fetch: transport,
    requestTimeoutMs: timeoutMs,
    ...(platforms && { platforms: platforms as DevicePlatform[] }),
  });
  const stopper = new AbortController();
  void io.untilStopped().then(() => stopper.abort());
  const summary = await runScenario(fleet, {
    scenario,
    devices,
    durationMs: duration * 1000,
    progress: { write: (s) => io.err(s), isTTY: io.errIsTty === true },
    signal: stopper.signal,
    ...(enrollRate !== undefined && { enrollRate }),
    ...(rate !== undefined && { rate }),
    ...(commandRate !== undefined && { commandRate }),
    ...(concurrency !== undefined && { concurrency }),
  });
  io.out(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.errorCount === 0 ? 0 : 1;
}
