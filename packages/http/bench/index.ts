// Throughput of a trivial handler through the @mdmkit/http node adapter against a bare node:http
// server answering the same request, and through the WHATWG adapter behind a minimal node → fetch
// bridge against the same bridge with a bare fetch handler. Load comes from wrk; the server
// process's CPU time per request is the measure (wall time on a shared machine is mostly other
// people's load); rounds are interleaved and ratios are medians of per-round ratios. Writes its table into the http section of docs/benchmarks.md.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.MDMKIT_BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.MDMKIT_BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.MDMKIT_BENCH_CONNECTIONS ?? 32);
const PUT_SCRIPT = join(here, 'put-1k.lua');

type Case = { label: string; args: string[] };
const cases: Case[] = [
  { label: 'GET, no body', args: [] },
  { label: 'PUT, 1 KiB body', args: ['-s', PUT_SCRIPT] },
];

function startServers(): Promise<{ child: ChildProcess; ports: Record<string, number> }> {
  const child = spawn(
    process.execPath,
    ['--conditions=mdmkit-source', '--import', 'tsx', join(here, 'servers.ts')],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve({ child, ports: JSON.parse(out.slice(0, nl)) as Record<string, number> });
    });
    child.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
  });
}

/** The server process's CPU time so far, in microseconds. */
function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(Number(m)));
    child.send('cpu');
  });
}

interface Sample {
  rps: number;
  /** Server CPU microseconds per request. */
  cpuUs: number;
}

async function measure(child: ChildProcess, port: number, args: string[]): Promise<Sample> {
  const before = await serverCpu(child);
  const r = await new Promise<{ stdout: string }>((resolve) => {
    const p = spawn('wrk', [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      ...args,
      `http://127.0.0.1:${port}/bench`,
    ]);
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    p.on('close', () => resolve({ stdout }));
  });
  const after = await serverCpu(child);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  if (!rps || !total || /Non-2xx|Socket errors/.test(r.stdout)) throw new Error(`wrk failed: ${r.stdout}`);
  return { rps: Number(rps[1]), cpuUs: (after - before) / Number(total[1]) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error)
    throw new Error('wrk is not installed (Debian: apt-get install wrk)');
  writeFileSync(PUT_SCRIPT, `wrk.method = "PUT"\nwrk.body = string.rep("x", 1024)\n`);
  const load0 = loadavg();
  const { child, ports } = await startServers();
  const names = Object.keys(ports);
  const results = new Map<string, Sample[]>();
  try {
    for (const c of cases) for (const n of names) await measure(child, ports[n]!, c.args); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        // Rotate the order each round so no server always runs first or last.
        const order = names.map((_, i) => names[(i + round) % names.length]!);
        for (const n of order) {
          const key = `${c.label}|${n}`;
          const sample = await measure(child, ports[n]!, c.args);
          results.set(key, [...(results.get(key) ?? []), sample]);
          process.stderr.write(
            `${c.label} · ${n}: ${fmt(sample.rps)} req/s, ${sample.cpuUs.toFixed(1)} µs CPU/request\n`,
          );
        }
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  const load1 = loadavg();
  // Throughput per core relative to the baseline: baseline CPU per request over this server's.
  const ratio = (c: Case, n: string, base: string) => {
    const a = results.get(`${c.label}|${n}`)!;
    const b = results.get(`${c.label}|${base}`)!;
    return median(a.map((x, i) => b[i]!.cpuUs / x.cpuUs));
  };
  const rows: string[] = [];
  for (const c of cases) {
    for (const n of names) {
      const viaBridge = n.startsWith('bridge');
      const base = viaBridge ? 'bridge + bare fetch handler' : 'bare node:http';
      const r = ratio(c, n, base);
      const target =
        n === '@mdmkit/http node adapter'
          ? r >= 0.9
            ? ' (target ≥ 90%: met)'
            : ' (target ≥ 90%: not met)'
          : '';
      const samples = results.get(`${c.label}|${n}`)!;
      const cpuUs = median(samples.map((x) => x.cpuUs));
      const rps = median(samples.map((x) => x.rps));
      rows.push(
        `| ${c.label} | ${n} | ${cpuUs.toFixed(1)} | ${fmt(1e6 / cpuUs)} | ${fmt(rps)} | ${(r * 100).toFixed(0)}% of ${base}${target} |`,
      );
    }
  }
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const section = [
    '### @mdmkit/http: requests/s of a trivial handler',
    '',
    'Reproduce: `npx -y pnpm@10.34.8 --filter @mdmkit/http run bench` (env: MDMKIT_BENCH_ROUNDS, MDMKIT_BENCH_SECONDS, MDMKIT_BENCH_CONNECTIONS).',
    '',
    `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpu} (${cpus().length} cores, shared; load average ${load0.map((x) => x.toFixed(1)).join(', ')} at the start, ${load1.map((x) => x.toFixed(1)).join(', ')} at the end).`,
    `Load: wrk 1 thread, ${CONNECTIONS} keep-alive connections, ${SECONDS} s per measurement, ${ROUNDS} interleaved rounds; all servers in one Node process, one at a time under load.`,
    "The machine is shared and busy, so wall-clock requests/s swing from round to round; the comparison uses the server process's CPU time per request (medians), and requests/s per core is its inverse. The ratio is the median of per-round ratios against the baseline measured next to it; wall-clock requests/s are shown for reference.",
    "The WHATWG rows run behind a minimal node:http → `Request`/`Response` bridge (the part a framework's node server plays), so their baseline is that bridge with a bare fetch handler.",
    '',
    '| request | server | server CPU µs/request | requests/s per core | wall requests/s | vs baseline (per core) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  writeSection(section);
  process.stdout.write(`${section}\n`);
}

function writeSection(markdown: string): void {
  const file = join(here, '../../../docs/benchmarks.md');
  const start = '<!-- bench:http -->';
  const end = '<!-- /bench:http -->';
  const text = readFileSync(file, 'utf8');
  const block = `${start}\n${markdown}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  writeFileSync(
    file,
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.replace(/\n*$/, '\n\n')}${block}\n`,
  );
}

await main();
