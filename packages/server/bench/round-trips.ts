// Command round trips per second and their latency at BENCH_SEED enrolled devices (default 10,000):
// @mdmkit/server pinned to one core (SQLite, or PostgreSQL with BENCH_STORAGE=postgres), the
// @mdmkit/testkit fleet in this process on the other core. A round trip queues a DeviceInformation
// for one device (POST /bench/enqueue), then the device polls: its Idle, the command, its signed
// answer (stored before the server answers), and the server's empty answer. The run also measures
// fleet-driven Idle check-ins and ends with the server's RSS.
//   cd packages/server && taskset -c 1 npx tsx --conditions=mdmkit-source bench/round-trips.ts
// Env: BENCH_SEED, BENCH_STORAGE, BENCH_SECONDS (default 20), BENCH_RATE (round trips started per
// second, default 2000: above what one core serves, so the figure is the server's ceiling),
// BENCH_CONCURRENCY (default 64), BENCH_IMPORT (extra enrollments imported into storage),
// BENCH_FROM_DIST=1 (the server loads the built packages) or BENCH_BUNDLED=1 (the server bundled to
// plain JavaScript, no tsx in its process: the figure to compare RSS with).
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate, pemDecode } from '@mdmkit/crypto';
import { Fleet, runScenario } from '@mdmkit/testkit/fleet';
import { BUNDLED, machineLine, serverStats, startBenchServer, writeSection } from './processes';

const SEED = Number(process.env.BENCH_SEED ?? 10_000);
const STORAGE = process.env.BENCH_STORAGE ?? 'sqlite';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const IMPORT = Number(process.env.BENCH_IMPORT ?? 0);
const FROM_DIST = process.env.BENCH_FROM_DIST === '1';

const machine = machineLine();
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const identitiesFile = join(mkdtempSync(join(tmpdir(), 'mdmkit-rt-')), 'identities.json');
const seedStarted = performance.now();
const server = await startBenchServer({
  BENCH_MODE: 'mdm',
  BENCH_SEED: String(SEED),
  BENCH_IMPORT: String(IMPORT),
  BENCH_STORAGE: STORAGE,
  BENCH_IDENTITIES: identitiesFile,
  BENCH_CERT_CACHE: String(Math.max(1024, SEED)),
});
const seedSeconds = (performance.now() - seedStarted) / 1000;
try {
  const ids = JSON.parse(readFileSync(identitiesFile, 'utf8')) as {
    topic: string;
    serverPath: string;
    keys: string[];
    devices: { udid: string; certPem: string; key: number }[];
  };
  const keys = ids.keys.map((k) => createPrivateKey(k));
  const url = `${server.origin}${ids.serverPath}`;
  const facts = {
    serverUrl: url,
    checkInUrl: url,
    topic: ids.topic,
    signMessage: true,
    scep: { url: '', subject: {} },
  };
  const fleet = new Fleet();
  for (const d of ids.devices) {
    fleet.adopt(
      facts,
      { certificate: parseCertificate(pemDecode(d.certPem).der), privateKey: keys[d.key]! },
      d.udid,
    );
  }
  const enqueue = async (udids: string[]) => {
    const res = await fetch(`${server.origin}/bench/enqueue`, {
      method: 'POST',
      body: JSON.stringify({ udids }),
    });
    if (res.status !== 200) throw new Error(`enqueue answered ${res.status}`);
    await res.arrayBuffer();
  };
  const atStart = (await serverStats(server.origin)).memory;
  // Warm-up, then the measured phases.
  await fleet.checkIns({ rate: 500, durationMs: 2000, concurrency: CONCURRENCY });
  const idleFleet = new Fleet();
  for (const d of fleet.devices) idleFleet.add(d);
  const idle = await runScenario(idleFleet, {
    scenario: 'idle',
    devices: SEED,
    rate: RATE * 4,
    durationMs: SECONDS * 1000,
    concurrency: CONCURRENCY,
  });
  const tripFleet = new Fleet();
  for (const d of fleet.devices) tripFleet.add(d);
  const trips = await runScenario(tripFleet, {
    scenario: 'round-trips',
    devices: SEED,
    rate: RATE,
    durationMs: SECONDS * 1000,
    concurrency: CONCURRENCY,
    enqueue,
  });
  const { memory } = await serverStats(server.origin);
  const i = idle.operations.idle!;
  const t = trips.operations.roundTrip!;
  const name = STORAGE === 'postgres' ? 'PostgreSQL' : 'SQLite';
  const table = `### Round trips at ${SEED.toLocaleString('en')} enrolled devices, ${name}

${machine}. Server pinned with \`taskset -c 0\` (${name}${STORAGE === 'postgres' ? ', the database on the same machine, unpinned' : ''}),
the testkit fleet (${SEED.toLocaleString('en')} devices, their own certificates from the server's CA over a pool of 8 RSA-2048 keys) with
\`taskset -c 1\`, ${CONCURRENCY} operations in flight, ${SECONDS} s per phase. A round trip is an HTTP enqueue plus
the device's Idle, its signed DeviceInformation answer and the server's empty reply (3 device-side requests).
${IMPORT ? `Plus ${IMPORT.toLocaleString('en')} enrollments imported into storage. ` : ''}Seeding took ${seedSeconds.toFixed(0)} s.

| phase | per second | p50 | p90 | p99 | errors |
|---|---:|---:|---:|---:|---:|
| Idle check-ins (fleet-driven) | ${i.perSecond} | ${i.p50Ms} ms | ${i.p90Ms} ms | ${i.p99Ms} ms | ${i.errors} |
| command round trips | ${t.perSecond} | ${t.p50Ms} ms | ${t.p90Ms} ms | ${t.p99Ms} ms | ${t.errors} |

Commands answered Acknowledged: ${trips.commands.Acknowledged} of ${t.ok} round trips. Server RSS once seeded:
${mb(atStart.rss)} (heap used ${mb(atStart.heapUsed)}); after the run: ${mb(memory.rss)} (heap used ${mb(memory.heapUsed)}).
The server ran ${BUNDLED ? 'as plain JavaScript (bench/serve.ts bundled by esbuild, no tsx in its process), the packages from their built `dist`' : FROM_DIST ? "the packages' built `dist` (only the bench script through tsx)" : 'from TypeScript sources through tsx, whose loader adds to RSS'}.

\`\`\`sh
cd packages/server && ${BUNDLED ? 'BENCH_BUNDLED=1 ' : FROM_DIST ? 'BENCH_FROM_DIST=1 ' : ''}BENCH_SEED=${SEED} ${IMPORT ? `BENCH_IMPORT=${IMPORT} ` : ''}BENCH_STORAGE=${STORAGE} BENCH_SECONDS=${SECONDS} taskset -c 1 npx tsx --conditions=mdmkit-source bench/round-trips.ts
\`\`\``;
  console.log(table);
  if (Object.keys(trips.errors).length || Object.keys(idle.errors).length)
    console.log(idle.errors, trips.errors);
  writeSection(`server:round-trips:${STORAGE}${IMPORT ? ':import' : ''}`, table);
} finally {
  await server.stop();
}
