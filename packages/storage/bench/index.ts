import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EnrollmentExport, MdmStorage } from '../src/index';
import type { BenchAdapter } from './types';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = arg('adapter')?.split(',');
const sizes = (arg('sizes') ?? '10000,100000').split(',').map(Number);
const clientCounts = (arg('clients') ?? '1,8,32').split(',').map(Number);
const seconds = Number(arg('seconds') ?? '2');
const write = !args.includes('--no-write');

async function loadAdapters(): Promise<BenchAdapter[]> {
  const files = readdirSync(join(here, 'adapters'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(here, 'adapters', f));
  for (const d of readdirSync(join(repo, 'packages'))) {
    const f = join(repo, 'packages', d, 'bench', 'storage-adapter.ts');
    if (d.startsWith('storage-') && existsSync(f)) files.push(f);
  }
  const out: BenchAdapter[] = [];
  for (const f of files) {
    try {
      const mod = (await import(pathToFileURL(f).href)) as {
        adapter?: BenchAdapter;
        adapters?: BenchAdapter[];
      };
      if (mod.adapter) out.push(mod.adapter);
      if (mod.adapters) out.push(...mod.adapters);
    } catch (e) {
      console.warn(`skipping ${f}: cannot import (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return out.filter((a) => !only || only.includes(a.name));
}

function enrollment(i: number): EnrollmentExport {
  const id = `BENCH-${String(i).padStart(8, '0')}`;
  const now = new Date();
  return {
    enrollment: {
      id,
      channel: 'device',
      deviceId: id,
      serialNumber: `SN${i}`,
      topic: 'com.apple.mgmt.External.bench',
      pushToken: i.toString(16).padStart(64, '0'),
      pushMagic: `magic-${i}`,
      enabled: true,
      tokenUpdateTally: 1,
      createdAt: now,
      updatedAt: now,
    },
    certificateHashes: [],
  };
}

const payload = new TextEncoder().encode(
  '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>DeviceInformation</string></dict></dict></plist>',
);
const report = new TextEncoder().encode(
  '<plist version="1.0"><dict><key>Status</key><string>Acknowledged</string></dict></plist>',
);

interface Row {
  size: number;
  metric: string;
  value: string;
}

async function benchAdapter(adapter: BenchAdapter): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of sizes) {
    const db = await adapter.create();
    const handles: MdmStorage[] = [];
    try {
      const main = await db.open();
      handles.push(main);
      for (let i = 0; i < size; i += 1000) {
        const batch = [];
        for (let j = i; j < Math.min(size, i + 1000); j++) batch.push(enrollment(j));
        await main.importEnrollments(batch);
      }
      const ids = Array.from({ length: size }, (_, i) => `BENCH-${String(i).padStart(8, '0')}`);

      // fan-out: one command to every enrollment
      let t = performance.now();
      await main.enqueueCommand({ uuid: 'fanout-1', requestType: 'DeviceInformation', payload }, ids);
      const fanoutMs = performance.now() - t;
      rows.push({
        size,
        metric: `enqueue 1 command to all ${size.toLocaleString('en')}`,
        value: `${fanoutMs.toFixed(0)} ms`,
      });
      console.log(`${adapter.name} ${size}: fan-out ${fanoutMs.toFixed(0)} ms`);

      // round trips: next command + store result, clients draw distinct enrollments
      let phase = 0;
      for (const clients of clientCounts) {
        const nHandles = Math.min(clients, adapter.maxHandles ?? clients);
        while (handles.length < nHandles) handles.push(await db.open());
        // every phase starts with one pending command per enrollment (untimed)
        if (phase++ > 0) {
          await main.enqueueCommand(
            { uuid: `fanout-${phase}`, requestType: 'DeviceInformation', payload },
            ids,
          );
        }
        let cursor = 0;
        let done = 0;
        const deadline = performance.now() + seconds * 1000;
        t = performance.now();
        await Promise.all(
          Array.from({ length: clients }, async (_, c) => {
            const h = handles[c % nHandles]!;
            while (performance.now() < deadline && cursor < size) {
              const id = ids[cursor++]!;
              const cmd = await h.nextCommand(id);
              if (!cmd) continue;
              await h.recordResult({
                enrollmentId: id,
                commandUuid: cmd.uuid,
                status: 'Acknowledged',
                payload: report,
              });
              done++;
            }
          }),
        );
        const rate = done / ((performance.now() - t) / 1000);
        rows.push({
          size,
          metric: `next command + store result, ${clients} client${clients > 1 ? 's' : ''}`,
          value: `${Math.round(rate).toLocaleString('en')} /s`,
        });
        console.log(`${adapter.name} ${size}: ${clients} clients ${Math.round(rate)} round trips/s`);
      }

      // list: page through everything, 1000 per page
      t = performance.now();
      let after: string | undefined;
      let listed = 0;
      do {
        const page = await main.listEnrollments(
          after === undefined ? { limit: 1000 } : { limit: 1000, after },
        );
        listed += page.items.length;
        after = page.next;
      } while (after !== undefined);
      const listMs = performance.now() - t;
      rows.push({
        size,
        metric: `list all enrollments (pages of 1000, ${listed.toLocaleString('en')} rows)`,
        value: `${listMs.toFixed(0)} ms`,
      });
      console.log(`${adapter.name} ${size}: list ${listMs.toFixed(0)} ms`);
    } finally {
      for (const h of handles) await h.close();
      await db.destroy();
    }
  }
  return rows;
}

function table(rows: Row[]): string {
  // one row per operation, one column per size; size-specific wording is folded out of the label
  const norm = (m: string) => m.replace(/ to all [\d,]+$/, ' to all').replace(/, [\d,]+ rows\)$/, ')');
  const header = `| operation | ${sizes.map((s) => `${s.toLocaleString('en')} enrollments`).join(' | ')} |`;
  const sep = `|---|${sizes.map(() => '---:').join('|')}|`;
  const lines = [...new Set(rows.map((r) => norm(r.metric)))].map((m) => {
    const cells = sizes.map((s) => rows.find((r) => r.size === s && norm(r.metric) === m)?.value ?? '–');
    return `| ${m} | ${cells.join(' | ')} |`;
  });
  return [header, sep, ...lines].join('\n');
}

function replaceBlock(text: string, start: string, end: string, body: string): string {
  const block = `${start}\n${body}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  return `${text.replace(/\n*$/, '\n\n')}${block}\n`;
}

const HEADER = [
  '### @mdmkit/storage adapters',
  '',
  'Reproduce: `npx -y pnpm@10.34.8 --filter @mdmkit/storage run bench` (every importable adapter), or one adapter',
  'package: `npx -y pnpm@10.34.8 --filter @mdmkit/storage-sqlite run bench` (likewise -postgres, -mysql).',
  'Enrollments are seeded with importEnrollments; each round trip is nextCommand + recordResult (Acknowledged)',
  'on a distinct enrollment, for a fixed time per client count. Target: fan-out to 100,000 enrollments < 3 s',
  'on SQLite and PostgreSQL. Each adapter block is rewritten only when that adapter runs.',
].join('\n');

/** Read-modify-write of this package's section; runs while holding the shared bench lock. */
function writeSection(blocks: Record<string, string>): void {
  const file = join(repo, 'docs', 'benchmarks.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = '<!-- bench:storage -->';
  const end = '<!-- /bench:storage -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const old = i >= 0 && j > i ? text.slice(i + start.length, j) : '';
  // keep other adapters' blocks, refresh the header
  const k = old.indexOf('<!-- bench:storage:');
  let section = `${HEADER}\n\n${k >= 0 ? old.slice(k) : ''}`;
  for (const [name, body] of Object.entries(blocks)) {
    section = replaceBlock(
      section,
      `<!-- bench:storage:${name} -->`,
      `<!-- /bench:storage:${name} -->`,
      body,
    );
  }
  text = replaceBlock(text, start, end, section.trim());
  writeFileSync(file, text);
}

async function main(): Promise<void> {
  const from = arg('write-from');
  if (from) {
    writeSection(JSON.parse(readFileSync(from, 'utf8')) as Record<string, string>);
    return;
  }
  const adapters = await loadAdapters();
  const blocks: Record<string, string> = {};
  const cpu = cpus();
  for (const a of adapters) {
    const why = await a.unavailable?.();
    if (why) {
      console.warn(`skipping ${a.name}: ${why}`);
      continue;
    }
    const rows = await benchAdapter(a);
    const extra = (await a.baseline?.()) ?? [];
    const meta = `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} cores), load average ${loadavg()[0]!.toFixed(1)} at the end (the machine is shared).`;
    blocks[a.name] = [
      `#### ${a.name}`,
      '',
      ...(a.describe ? [a.describe(), ''] : []),
      table(rows),
      '',
      ...extra,
      ...(extra.length ? [''] : []),
      meta,
    ].join('\n');
  }
  if (!write || Object.keys(blocks).length === 0) return;
  // the rewrite happens in a child holding the same flock every package's bench uses
  const tmp = join(mkdtempSync(join(tmpdir(), 'mdmkit-bench-')), 'blocks.json');
  writeFileSync(tmp, JSON.stringify(blocks));
  execFileSync(
    'flock',
    [
      '/tmp/mdmkit-bench.lock',
      process.execPath,
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--write-from',
      tmp,
    ],
    { stdio: 'inherit' },
  );
  console.log(`updated ${join(repo, 'docs', 'benchmarks.md')}`);
}

await main();
