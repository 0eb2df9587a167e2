// Full initial sync of a large ABM inventory from the mock DEP service (own process) with
// @mdmkit/dep's syncer into the in-memory DepStore, against a bare fetch-and-parse baseline, each in
// a fresh process; writes the table into this package's section of docs/benchmarks.md.
//
//   npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench
//   MDMKIT_BENCH_DEVICES=10000 npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const DEVICES = Number(process.env.MDMKIT_BENCH_DEVICES ?? 100_000);

interface Result {
  seconds: number;
  peakRssMb: number;
  stored: number;
}

function child(script: string) {
  return fork(join(here, script), { execArgv: process.execArgv, stdio: 'inherit' });
}

function once<T>(p: ReturnType<typeof fork>): Promise<T> {
  return new Promise((resolve, reject) => {
    p.once('message', (m) => resolve(m as T));
    p.once('error', reject);
  });
}

const mock = child('mock-process.ts');
mock.send({ devices: DEVICES });
const { url, credentials } = await once<{ url: string; credentials: Record<string, string> }>(mock);

type Which = 'ours' | 'sqlite' | 'postgres' | 'baseline';
const rows: [Which, Result][] = [];
// MDMKIT_BENCH_ROWS=sqlite,postgres runs only those rows (the docs are then left alone)
const only = process.env.MDMKIT_BENCH_ROWS?.split(',');
for (const which of (['ours', 'sqlite', 'postgres', 'baseline'] as const).filter(
  (w) => !only || only.includes(w),
)) {
  const p = child('sync-process.ts');
  p.send({ which, url, credentials, expected: DEVICES });
  const r = await once<Result>(p);
  if (r.stored !== DEVICES) throw new Error(`${which} stored ${r.stored} of ${DEVICES}`);
  rows.push([which, r]);
  console.log(which, r);
}
mock.send('stop');

const names = {
  ours: '`@mdmkit/dep` DepSyncer → MemoryDepStore (session, zod-typed pages, fenced page writes, events)',
  sqlite: '`@mdmkit/dep` DepSyncer → `@mdmkit/storage-sqlite` (file, WAL, synchronous=FULL)',
  postgres: '`@mdmkit/dep` DepSyncer → `@mdmkit/storage-postgres` (local server, pool of 4)',
  baseline: 'baseline: undici `request` + `JSON.parse` into a `Map` (no validation, no storage)',
};
const table = [
  `| sync of ${DEVICES.toLocaleString('en-US')} devices, 1000 per page | seconds | peak RSS (MB) |`,
  '|---|---:|---:|',
  ...rows.map(([w, r]) => `| ${names[w]} | ${r.seconds.toFixed(2)} | ${r.peakRssMb.toFixed(0)} |`),
].join('\n');
const markdown = `## @mdmkit/dep — full initial sync

Full initial sync from the mock DEP service (\`@mdmkit/testkit/mock-dep\`, in its own process on
loopback) in a fresh process per row; peak RSS is the syncing process only, sampled every 20 ms.
Targets: < 20 s and < 250 MB. The SQLite and PostgreSQL rows store every page through the SQL
core's DepStore (one transaction per page, fenced); the device count is read back from the database
after the clock stops. Compare rows within one run: on a loaded machine every row, the baseline
included, runs several times slower than on an idle one. Load average when the run started: ${loadavg()
  .map((l) => l.toFixed(2))
  .join(', ')}.

The PostgreSQL row writes each page as one statement (an \`unnest\` of one array parameter per
column). Each row's process loads only what a server would: the 353 MB PostgreSQL figure of
2026-12-05 counted the TypeScript compiler, which the bench pulled in through a test helper's package
root; it now imports only that helper's database module.

${table}

Reproduce: \`npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench\` — ${new Date().toISOString().slice(0, 10)},
Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}.
`;
if (only) {
  console.log(table);
  process.exit(0);
}
const docs = join(here, '../../../docs/benchmarks.md');
const text = readFileSync(docs, 'utf8');
const start = '<!-- bench:dep -->';
const end = '<!-- /bench:dep -->';
const block = `${start}\n${markdown}${end}`;
const i = text.indexOf(start);
const j = text.indexOf(end);
writeFileSync(
  docs,
  i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`,
);
console.log(table);
