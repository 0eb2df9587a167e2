// Pushes to the mock APNs on loopback with @mdmkit/apns, @parse/node-apn and h2load in the same run
// and writes the table into this package's section of docs/benchmarks.md.
//
//   npx -y pnpm@10.34.8 --filter @mdmkit/apns run bench
//   MDMKIT_BENCH_PUSHES=20000 MDMKIT_BENCH_CONCURRENCY=500 npx -y pnpm@10.34.8 --filter @mdmkit/apns run bench
//
// Profiling one client (both processes write a .cpuprofile; the docs table is not touched):
//   MDMKIT_BENCH_ONLY=ours MDMKIT_BENCH_PUSHES=30000 \
//     node --cpu-prof --import tsx --conditions=mdmkit-source bench/index.ts
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApnsClient } from '@mdmkit/apns';
import { makeBenchPki } from './pki';

const here = dirname(fileURLToPath(import.meta.url));
const PUSHES = Number(process.env.MDMKIT_BENCH_PUSHES ?? 100_000);
const NODE_APN_PUSHES = Number(process.env.MDMKIT_BENCH_NODE_APN_PUSHES ?? Math.min(PUSHES, 20_000));
const CONCURRENCY = Number(process.env.MDMKIT_BENCH_CONCURRENCY ?? 500);
const MAGIC = '7F3A8C2E-1B4D-4E6F-9A0B-C1D2E3F40516';
// Comma-separated subset of ours,bulk,bounded,h2load (for profiling); the docs table is written only
// when every client ran.
const ONLY = new Set((process.env.MDMKIT_BENCH_ONLY ?? 'ours,bulk,bounded,h2load').split(','));
const WRITE = ['ours', 'bulk', 'bounded', 'h2load'].every((c) => ONLY.has(c));

interface Row {
  client: string;
  pushes: number;
  ok: number;
  seconds: number;
  /** Accepted (200) pushes per second. */
  rate: number;
  /** CPU time of the client process per 1,000 pushes. */
  cpuMsPer1k?: number;
  /** CPU time of the mock server process per 1,000 pushes, over the same interval. */
  mockCpuMsPer1k?: number;
  note: string;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function tokens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => i.toString(16).padStart(64, '0'));
}

async function startMocks(pki: Awaited<ReturnType<typeof makeBenchPki>>) {
  const child: ChildProcess = fork(join(here, 'mock-process.ts'), [], { stdio: 'inherit' });
  const ports = await new Promise<{ withCert: number; withoutCert: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { withCert: number; withoutCert: number }));
    child.once('error', reject);
    child.send({ key: pki.serverKeyPem, cert: pki.serverCertPem, maxConcurrentStreams: CONCURRENCY });
  });
  return {
    ports,
    cpu: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => resolve((m as { cpuMs: number }).cpuMs));
        child.send('cpu');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

type Mocks = Awaited<ReturnType<typeof startMocks>>;

async function benchOurs(
  pki: Awaited<ReturnType<typeof makeBenchPki>>,
  mocks: Mocks,
  n: number,
): Promise<Row> {
  const port = mocks.ports.withCert;
  const client = new ApnsClient({
    credentials: { certificate: pki.pushCertPem, privateKey: pki.pushKeyPem },
    origin: `https://127.0.0.1:${port}`,
    ca: pki.caPem,
    concurrency: CONCURRENCY,
  });
  const list = tokens(n).map((token) => ({ token, pushMagic: MAGIC }));
  await client.pushAll(list.slice(0, 2000));
  const mock0 = await mocks.cpu();
  const cpu0 = cpuMs();
  const started = performance.now();
  const summary = await client.pushAll(list);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMs() - cpu0;
  const mockCpu = (await mocks.cpu()) - mock0;
  await client.close();
  return {
    client: '@mdmkit/apns',
    pushes: n,
    ok: summary.delivered,
    seconds,
    rate: summary.delivered / seconds,
    cpuMsPer1k: (cpu / n) * 1000,
    mockCpuMsPer1k: (mockCpu / n) * 1000,
    note: `pushAll, concurrency ${CONCURRENCY}, ${client.stats.connections || 1} session`,
  };
}

async function benchNodeApn(
  pki: Awaited<ReturnType<typeof makeBenchPki>>,
  mocks: Mocks,
  n: number,
  mode: 'bulk' | 'bounded',
): Promise<Row> {
  const port = mocks.ports.withCert;
  const require = createRequire(import.meta.url);
  const apn = require('@parse/node-apn');
  const provider = new apn.Provider({
    cert: Buffer.from(pki.pushCertPem),
    key: Buffer.from(pki.pushKeyPem),
    ca: Buffer.from(pki.caPem),
    production: true,
    address: '127.0.0.1',
    port,
  });
  const note = new apn.Notification();
  note.rawPayload = { mdm: MAGIC };
  note.topic = pki.topic;
  note.pushType = 'mdm';
  note.priority = 10;
  const all = tokens(n);
  await provider.send(note, all.slice(0, Math.min(CONCURRENCY, 2000)));
  let ok = 0;
  const mock0 = await mocks.cpu();
  const cpu0 = cpuMs();
  const started = performance.now();
  if (mode === 'bulk') {
    // The documented way: one send() with every recipient; node-apn requests them all at once.
    const r = await provider.send(note, all);
    ok = r.sent.length;
  } else {
    // node-apn at its best: the same bounded concurrency as ours, one recipient per send().
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        const r = await provider.send(note, all[next++]!);
        ok += r.sent.length;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMs() - cpu0;
  const mockCpu = (await mocks.cpu()) - mock0;
  provider.shutdown();
  return {
    client: `@parse/node-apn 8.1 (${mode})`,
    pushes: n,
    ok,
    seconds,
    rate: ok / seconds,
    cpuMsPer1k: (cpu / n) * 1000,
    mockCpuMsPer1k: (mockCpu / n) * 1000,
    note:
      mode === 'bulk'
        ? 'one provider.send(note, tokens) for all tokens; default 5 s request timeout'
        : `${CONCURRENCY} concurrent provider.send(note, token) calls`,
  };
}

async function benchH2load(
  pki: Awaited<ReturnType<typeof makeBenchPki>>,
  mocks: Mocks,
  n: number,
): Promise<Row | undefined> {
  const port = mocks.ports.withoutCert;
  const dir = mkdtempSync(join(tmpdir(), 'mdmkit-apns-bench-'));
  const body = join(dir, 'body.json');
  writeFileSync(body, JSON.stringify({ mdm: MAGIC }));
  const args = [
    '-n',
    String(n),
    '-c',
    '1',
    '-m',
    String(CONCURRENCY),
    '-d',
    body,
    '-H',
    'apns-push-type: mdm',
    '-H',
    `apns-topic: ${pki.topic}`,
    '-H',
    'apns-priority: 10',
    `https://127.0.0.1:${port}/3/device/${'ab'.repeat(32)}`,
  ];
  // GNU time reports h2load's own CPU (user and system seconds) on stderr.
  const timed = existsSync('/usr/bin/time');
  const mock0 = await mocks.cpu();
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', 'h2load', ...args], {
        encoding: 'utf8',
        timeout: 600_000,
      })
    : spawnSync('h2load', args, { encoding: 'utf8', timeout: 600_000 });
  const mockCpu = (await mocks.cpu()) - mock0;
  rmSync(dir, { recursive: true, force: true });
  const time = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0) {
    console.warn('h2load not run:', r.error?.message ?? r.stderr);
    return undefined;
  }
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(r.stdout);
  const succeeded = /(\d+) succeeded/.exec(r.stdout);
  if (!finished) return undefined;
  return {
    client: 'h2load (nghttp2, C)',
    pushes: n,
    ok: Number(succeeded?.[1] ?? 0),
    seconds: Number(finished[1]),
    rate: Number(finished[2]),
    ...(time ? { cpuMsPer1k: ((Number(time[1]) + Number(time[2])) * 1000 * 1000) / n } : {}),
    mockCpuMsPer1k: (mockCpu / n) * 1000,
    note: `-c 1 -m ${CONCURRENCY}, no client certificate`,
  };
}

function writeSection(markdown: string): void {
  const file = join(here, '../../../docs/benchmarks.md');
  const script = `
    const fs = require('fs');
    const file = process.argv[1];
    const body = process.env.MDMKIT_BENCH_SECTION;
    const start = '<!-- bench:apns -->', end = '<!-- /bench:apns -->';
    let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\\n';
    const block = start + '\\n' + body + '\\n' + end;
    const i = text.indexOf(start), j = text.indexOf(end);
    text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : text.replace(/\\n*$/, '\\n\\n') + block + '\\n';
    fs.writeFileSync(file, text);`;
  const r = spawnSync('flock', ['/tmp/mdmkit-bench.lock', process.execPath, '-e', script, file], {
    env: { ...process.env, MDMKIT_BENCH_SECTION: markdown },
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('could not update docs/benchmarks.md');
}

const loadStart = loadavg();

/** Share of time some task waited for a CPU over the last minute (Linux PSI), when available. */
function cpuPressure(): string | undefined {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? `${m[1]}%` : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const pki = await makeBenchPki();
  const mocks = await startMocks(pki);
  const rows: Row[] = [];
  try {
    if (ONLY.has('ours')) {
      console.log(`@mdmkit/apns: ${PUSHES} pushes…`);
      rows.push(await benchOurs(pki, mocks, PUSHES));
      console.log(rows.at(-1));
    }
    for (const mode of ['bulk', 'bounded'] as const) {
      if (!ONLY.has(mode)) continue;
      console.log(`@parse/node-apn (${mode}): ${NODE_APN_PUSHES} pushes…`);
      rows.push(await benchNodeApn(pki, mocks, NODE_APN_PUSHES, mode));
      console.log(rows.at(-1));
    }
    if (ONLY.has('h2load')) {
      console.log(`h2load: ${PUSHES} requests…`);
      const h2 = await benchH2load(pki, mocks, PUSHES);
      if (h2) {
        rows.push(h2);
        console.log(h2);
      }
    }
  } finally {
    await mocks.stop();
  }
  if (!WRITE) return;
  const ours = rows[0]!;
  const pressure = cpuPressure();
  const bounded = rows.find((r) => r.client.endsWith('(bounded)'));
  const h2 = rows.find((r) => r.client.startsWith('h2load'));
  const cpu = cpus();
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(1));
  const ratio = (a: number, b: number | undefined) => (b && b > 0 ? a / b : undefined);
  const times = (x: number | undefined) => (x === undefined ? 'n/a' : `${x.toFixed(2)}×`);
  const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(0)}%`);
  const vsApn = ratio(ours.rate, bounded?.rate);
  const vsH2 = ratio(ours.rate, h2?.rate);
  const cpuVsApn = ratio(bounded?.cpuMsPer1k ?? 0, ours.cpuMsPer1k);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
  const met = (x: number | undefined, target: number) =>
    x === undefined ? 'not measured' : x >= target ? 'met' : 'missed';
  const lines = [
    '## @mdmkit/apns — MDM pushes to the mock APNs on loopback',
    '',
    `Reproduce: \`npx -y pnpm@10.34.8 --filter @mdmkit/apns run bench\` (env: MDMKIT_BENCH_PUSHES=${PUSHES}, ` +
      `MDMKIT_BENCH_NODE_APN_PUSHES=${NODE_APN_PUSHES}, MDMKIT_BENCH_CONCURRENCY=${CONCURRENCY}).`,
    `Date ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ` +
      `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} (shared machine; load average ${load(loadStart)} ` +
      `at the start, ${load(loadavg())} at the end${pressure ? `; tasks waited for a CPU ${pressure} of the last minute` : ''}).`,
    '',
    'Setup, the same for every client: one mock process (`@mdmkit/testkit/mock-apns`, TLS 1.3, HTTP/2,',
    `MAX_CONCURRENT_STREAMS ${CONCURRENCY}, recording off), each client in turn against it after a warm-up;`,
    `${CONCURRENCY} pushes in flight; body \`{"mdm":"<PushMagic>"}\`, headers apns-topic, apns-push-type: mdm,`,
    'apns-priority: 10. The mock requires the client certificate except on the port h2load uses (h2load cannot',
    'present one; that skips one TLS check per connection, not per request). Rates count accepted (200) pushes.',
    'CPU columns: CPU time (user + system) of the client process and of the mock process over the timed run,',
    'per 1,000 pushes (h2load: GNU time). On a 2-core machine the client and the mock each need a core, so the',
    'rate is bounded by whichever costs more per push; h2load (C) costs almost nothing, so its rate is the',
    "mock's own ceiling.",
    '',
    '| client | pushes | accepted | seconds | accepted/s | client CPU ms per 1k | mock CPU ms per 1k | vs node-apn (bounded) | vs h2load | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.client} | ${fmt(r.pushes)} | ${fmt(r.ok)} | ${r.seconds.toFixed(2)} | ${fmt(r.rate)} | ` +
        `${ms(r.cpuMsPer1k)} | ${ms(r.mockCpuMsPer1k)} | ${times(ratio(r.rate, bounded?.rate))} | ` +
        `${pct(ratio(r.rate, h2?.rate))} | ${r.note} |`,
    ),
    '',
    `Targets: ≥ 4× @parse/node-apn's pushes/s — ${met(vsApn, 4)} (${times(vsApn)} its best mode, a bounded ` +
      `driver; its documented bulk send() is in the table for completeness); ≥ 50% of h2load — ` +
      `${met(vsH2, 0.5)} (${pct(vsH2)}). Client CPU per push: ${times(cpuVsApn)} less than node-apn.`,
  ];
  if (vsH2 !== undefined && vsH2 < 0.5 && h2) {
    lines.push(
      '',
      `Why the h2load target is missed: h2load needs ${ms(h2.cpuMsPer1k)} ms of CPU per 1k requests, so its rate ` +
        `is the mock's ceiling (${ms(h2.mockCpuMsPer1k)} ms per 1k on the mock). @mdmkit/apns needs ` +
        `${ms(ours.cpuMsPer1k)} ms per 1k in its own process, most of it inside node:http2, and that process ` +
        'competes with the mock for the two cores (and with other work on the machine); the ideal ratio on two ' +
        `idle cores is about mock CPU / client CPU = ${pct(ratio(h2.mockCpuMsPer1k ?? 0, ours.cpuMsPer1k))}.`,
    );
  }
  if (vsApn !== undefined && vsApn < 4) {
    lines.push(
      '',
      'Why the 4× target is missed: both Node clients spend most of their CPU inside node:http2 itself (stream',
      'objects, header conversion, an AsyncResource per request, the Writable machinery for the body).',
      '@mdmkit/apns adds no timer, promise or closure per request, so its CPU per push is close to what',
      'node:http2 needs for one request; 4× the rate of another node:http2 client would need node:http2 to cost less.',
    );
  }
  const markdown = lines.join('\n');
  console.log(markdown);
  writeSection(markdown);
}

await main();
