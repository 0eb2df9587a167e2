// Helpers of the load benchmarks: start bench/serve.ts pinned to a core, run wrk pinned to another,
// read the server's figures, write a section of docs/benchmarks.md.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');
/** The core the server is pinned to; the load tool gets the other one. */
export const SERVER_CORE = process.env.BENCH_SERVER_CORE ?? '0';
export const LOAD_CORE = process.env.BENCH_LOAD_CORE ?? '1';

export interface RunningBenchServer {
  port: number;
  origin: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Whether the server runs as plain JavaScript (BENCH_BUNDLED=1), with no tsx loader in its process. */
export const BUNDLED = process.env.BENCH_BUNDLED === '1';

/**
 * bench/serve.ts bundled to plain JavaScript with the esbuild that tsx ships, the packages left
 * external so they load from their built `dist` (pnpm build first): the server process then holds
 * what an installed server holds, which matters for RSS (tsx's loader thread adds tens of MB).
 */
async function bundleServe(): Promise<string> {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx'));
  const esbuild = fromTsx('esbuild') as { build(options: object): Promise<unknown> };
  const outfile = join(here, '../node_modules/.cache/bench-serve.mjs');
  await esbuild.build({
    entryPoints: [join(here, 'serve.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    alias: { '@mdmkit/test-support': join(root, 'tools/test-support/src/index.ts') },
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** Starts bench/serve.ts under `taskset -c SERVER_CORE` with `env`, resolving once it listens. */
export async function startBenchServer(
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<RunningBenchServer> {
  const entry = BUNDLED
    ? [await bundleServe()]
    : [
        '--import',
        'tsx',
        // BENCH_FROM_DIST=1: the packages' built dist (pnpm build first), as an installed server runs.
        ...(process.env.BENCH_FROM_DIST === '1' ? [] : ['--conditions=mdmkit-source']),
        join(here, 'serve.ts'),
      ];
  const child = spawn('taskset', ['-c', SERVER_CORE, process.execPath, ...nodeFlags, ...entry], {
    cwd: join(here, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (c: Buffer) => {
      buffered += c.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { port: number });
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    port: ready.port,
    origin: `http://127.0.0.1:${ready.port}`,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface WrkResult {
  requestsPerSecond: number;
  non2xx: number;
  socketErrors: number;
  latencyP99: string;
}

/** Runs wrk (one thread) under `taskset -c LOAD_CORE` and reads its figures. */
export async function runWrk(
  url: string,
  script: string,
  seconds: number,
  connections: number,
): Promise<WrkResult> {
  const { stdout } = await promisify(execFile)(
    'taskset',
    ['-c', LOAD_CORE, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url],
    { maxBuffer: 1 << 20 },
  );
  if (process.env.BENCH_LUA_DEBUG) console.log(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!rps) throw new Error(`wrk printed no rate:\n${stdout}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requestsPerSecond: Number(rps[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    latencyP99: /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?',
  };
}

/** GETs the bench server's /bench/stats. */
export async function serverStats(
  origin: string,
): Promise<{ memory: NodeJS.MemoryUsage; certificateCache: unknown }> {
  return (await (await fetch(`${origin}/bench/stats`)).json()) as {
    memory: NodeJS.MemoryUsage;
    certificateCache: unknown;
  };
}

/** One line naming the machine, Node and the load when the run started. */
export function machineLine(): string {
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model.trim()}, load average at start ${load}`;
}

/** Replaces (or appends) the `<!-- bench:NAME -->` section of docs/benchmarks.md. */
export function writeSection(name: string, body: string): void {
  const file = join(root, 'docs/benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const section = `<!-- bench:${name} -->\n${body.trim()}\n<!-- /bench:${name} -->`;
  const re = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  writeFileSync(file, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
}
