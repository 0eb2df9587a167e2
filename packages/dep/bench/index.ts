// Full initial sync of a large ABM inventory from the mock DEP service (own process) with
// @mdmkit/dep's syncer into the in-memory DepStore, against a bare fetch-and-parse baseline, each in
// a fresh process; writes the table into this package's section of docs/benchmarks.md.
//
//   npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench
//   MDMKIT_BENCH_DEVICES=10000 npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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

const rows: ['ours' | 'baseline', Result][] = [];
for (const which of ['ours', 'baseline'] as const) {
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
Targets: < 20 s and < 250 MB. The SQLite and PostgreSQL rows come with the DepStore of the SQL core.

${table}

Reproduce: \`npx -y pnpm@10.34.8 --filter @mdmkit/dep run bench\` — ${new Date().toISOString().slice(0, 10)},
Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}.
`;
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
