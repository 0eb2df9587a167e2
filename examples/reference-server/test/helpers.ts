import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const bin = resolve(here, '../src/bin.ts');
// node itself with tsx's loader (not the tsx CLI, which relays signals through a process of its own).
const node = (args: string[]) =>
  [process.execPath, ['--conditions=mdmkit-source', '--import', 'tsx', bin, ...args]] as const;

/** A server started as a user starts it: its own process, its own data directory. */
export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** Where it listens. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** The admin token printed at this start, if one was. */
  printedToken: string | undefined;
  /** A fetch that trusts the server's self-signed certificate (when it has one). */
  fetch: typeof fetch;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Fresh directories: a data directory and, apart from it, one for the key-encryption key. */
export function freshDirs(): { dataDir: string; kekFile: string } {
  const root = mkdtempSync(join(tmpdir(), 'mdmkit-server-test-'));
  return { dataDir: join(root, 'data'), kekFile: join(root, 'keys', 'kek.json') };
}

/** Runs `mdmkit-server` with `args` until it exits; for configuration errors. */
export function runToExit(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(...node(args), {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((res) => child.once('exit', (code) => res({ code, stdout, stderr })));
}

/** Starts `mdmkit-server` on a free port and waits for its start line. */
export async function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(...node(['--listen', '127.0.0.1:0', ...args]), {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no start line within 60 s:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`exited with ${code}:\n${out}\n${err}`));
    });
  });
  // The token line follows the start line in the same write burst; give it a moment.
  await new Promise((r) => setTimeout(r, 100));
  const certPath = /self-signed TLS certificate: (\S+)/.exec(out)?.[1];
  const ca = certPath ? readFileSync(certPath, 'utf8') : undefined;
  return {
    child,
    url,
    stdout: () => out,
    stderr: () => err,
    get printedToken() {
      return /admin API token \(shown once, stored hashed\): (\S+)/.exec(out)?.[1];
    },
    fetch: trustingFetch(ca),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A fetch over node:http/https that trusts `ca` (a PEM) besides nothing else. */
export function trustingFetch(ca: string | undefined): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers(init?.headers);
    const body =
      init?.body === undefined || init.body === null
        ? undefined
        : await new Response(init.body).arrayBuffer();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((res, rej) => {
      const req = send(
        url,
        {
          method: init?.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          ...(url.protocol === 'https:' && ca ? { ca } : {}),
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(answer.headers)) if (typeof v === 'string') h.set(k, v);
            const status = answer.statusCode ?? 500;
            res(
              new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
                status,
                headers: h,
              }),
            );
          });
          answer.on('error', rej);
        },
      );
      req.on('error', rej);
      if (body) req.end(Buffer.from(body));
      else req.end();
    });
  };
}

/** An API call with a bearer token; answers status and parsed JSON (or text). */
export async function api(
  server: Pick<ServerProcess, 'url' | 'fetch'>,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: the tests' assertions check the JSON's shape.
): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await server.fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** A concrete path for a route pattern (`:name` segments filled in). */
export function samplePath(pattern: string): string {
  return pattern.replace(/:([A-Za-z_]+)/g, (_m, name: string) => `sample-${name}`);
}

/** A fresh server for one describe block: started before its tests, stopped after them. */
export function serverForSuite(): { readonly server: ServerProcess; readonly admin: string } {
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    const { dataDir, kekFile } = freshDirs();
    server = await startServer(['--data-dir', dataDir, '--kek-file', kekFile]);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      return server!;
    },
    get admin() {
      return server!.printedToken!;
    },
  };
}
