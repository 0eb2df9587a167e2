// Decoding cost on the check-in and report paths: plist parse alone (the baseline) against parse plus
// schema validation (decodeCheckin / decodeReportFor). Rewrites the `protocol` section of
// docs/benchmarks.md. Run: pnpm --filter @mdmkit/commands run bench
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildXml, type PlistDict, parse } from '@mdmkit/plist';
import { decodeCheckin, decodeCheckinDict, decodeReport, decodeReportDict } from '@mdmkit/protocol';
import { decodeReportDictFor, decodeReportFor } from '../src/index';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => readFileSync(join(root, 'test-fixtures/mdm', `${name}.plist`));

/** A realistic large InstalledApplicationList report (a Mac with many apps). */
function bigAppList(count: number): Uint8Array {
  const apps: PlistDict[] = [];
  for (let i = 0; i < count; i++) {
    apps.push({
      AppStoreVendable: i % 3 === 0,
      BundleSize: 10_000_000 + i * 7919,
      DeviceBasedVPP: i % 3 === 0,
      HasUpdateAvailable: i % 7 === 0,
      Identifier: `com.example.vendor${i % 40}.app${i}`,
      Installing: false,
      IsValidated: true,
      Name: `Example Application ${i}`,
      ShortVersion: `${1 + (i % 9)}.${i % 13}.${i % 5}`,
      Version: `${1000 + i}`,
    });
  }
  const dict: PlistDict = {
    CommandUUID: 'B1E2C3D4-0000-4000-8000-000000000001',
    InstalledApplicationList: apps,
    Status: 'Acknowledged',
    UDID: '5A3C9E21-7B4D-5F60-8A1B-2C3D4E5F6071',
  };
  return new TextEncoder().encode(buildXml(dict));
}

interface Case {
  name: string;
  body: Uint8Array;
  /** The full decode: parse + validation. */
  decode: (b: Uint8Array) => unknown;
  /** Validation alone, on the already parsed dictionary. */
  validate: (d: PlistDict) => unknown;
  target?: number;
}

const parsed = (d: PlistDict) => d;
const cases: Case[] = [
  {
    name: 'TokenUpdate check-in (macOS user)',
    body: fixture('tokenupdate-macos-user'),
    decode: decodeCheckin,
    validate: (d) => decodeCheckinDict(parsed(d)),
  },
  {
    name: 'DeviceInformation report (macOS, 33 keys)',
    body: fixture('report-deviceinformation-macos'),
    decode: (b) => decodeReportFor('DeviceInformation', b),
    validate: (d) => decodeReportDictFor('DeviceInformation', d),
    target: 30,
  },
  {
    name: 'InstalledApplicationList report (8 apps)',
    body: fixture('report-installedapplicationlist-macos'),
    decode: (b) => decodeReportFor('InstalledApplicationList', b),
    validate: (d) => decodeReportDictFor('InstalledApplicationList', d),
    target: 30,
  },
  {
    name: 'InstalledApplicationList report (300 apps)',
    body: bigAppList(300),
    decode: (b) => decodeReportFor('InstalledApplicationList', b),
    validate: (d) => decodeReportDictFor('InstalledApplicationList', d),
    target: 30,
  },
  {
    name: 'Error report with error chain (envelope only)',
    body: fixture('report-error-installprofile-macos'),
    decode: decodeReport,
    validate: (d) => decodeReportDict(d),
  },
];

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * CPU ns per op of `fn` over a fixed CPU-time budget. CPU time rather than wall time: the machine
 * is shared, and other processes' load would otherwise land in the figures.
 */
function timeOnce(fn: () => void, budgetMs: number): number {
  let n = 0;
  const start = cpuMicros();
  let now = start;
  while (now - start < budgetMs * 1000) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    now = cpuMicros();
  }
  return ((now - start) * 1000) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Interleaves the variants round by round (the machine is shared, so load drifts) and keeps the
 * median of each.
 */
function measure(fns: (() => void)[], rounds = 9, budgetMs = 120): number[] {
  for (const fn of fns) for (let i = 0; i < 200; i++) fn();
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < fns.length; i++) samples[i]!.push(timeOnce(fns[i]!, budgetMs));
  }
  return samples.map(median);
}

const fmt = (ns: number) =>
  ns >= 1_000_000 ? `${(ns / 1_000_000).toFixed(2)} ms` : `${(ns / 1000).toFixed(1)} µs`;

const rows: string[] = [];
for (const c of cases) {
  const dict = parse(c.body, { reals: 'number' }) as PlistDict;
  const [parseNs, validateNs, fullNs] = measure([
    () => parse(c.body, { reals: 'number' }),
    () => c.validate(dict),
    () => c.decode(c.body),
  ]) as [number, number, number];
  const overhead = (validateNs / parseNs) * 100;
  const verdict =
    c.target === undefined ? '' : overhead <= c.target ? `≤ ${c.target}% ✓` : `> ${c.target}% ✗`;
  rows.push(
    `| ${c.name} | ${(c.body.length / 1024).toFixed(1)} KiB | ${fmt(parseNs)} | ${fmt(validateNs)} | ${fmt(fullNs)} | +${overhead.toFixed(0)}% | ${verdict} |`,
  );
  console.log(
    `${c.name}: parse ${fmt(parseNs)}, validate ${fmt(validateNs)} (+${overhead.toFixed(1)}%), parse+validate ${fmt(fullNs)}`,
  );
}

const cpu = cpus();
const section = [
  '### @mdmkit/protocol and @mdmkit/commands: decoding check-ins and reports',
  '',
  "Baseline: `@mdmkit/plist` `parse(body, { reals: 'number' })` alone. Measured in the same run,",
  'interleaved round by round, process CPU time (medians of 9): validation alone on the parsed dictionary',
  '(`decodeCheckinDict`, `decodeReportDict`, `decodeReportDictFor`: envelope, identity block, typed',
  'response, enrollment id) and the full decode (`decodeCheckin`, `decodeReport`, `decodeReportFor`).',
  'Target: validation adds ≤ 30% over the parse for DeviceInformation and InstalledApplicationList reports.',
  '',
  `Command: \`pnpm --filter @mdmkit/commands run bench\` · ${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpu[0]?.model.trim() ?? 'unknown CPU'} (${cpu.length} cores)`,
  '',
  '| message | size | plist parse | validation alone | parse + validate | validation / parse | target |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...rows,
].join('\n');

const docs = join(root, 'docs/benchmarks.md');
const start = '<!-- bench:protocol -->';
const end = '<!-- /bench:protocol -->';
// The read-modify-write of the shared file runs under the same lock file as other packages' benches.
const rewrite = `
const fs = require('node:fs');
const [file, start, end, body] = process.argv.slice(1);
let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\\n';
const block = start + '\\n' + body + '\\n' + end;
const a = text.indexOf(start), b = text.indexOf(end);
text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : text.replace(/\\n*$/, '\\n\\n') + block + '\\n';
fs.writeFileSync(file, text);
`;
const args = ['-e', rewrite, docs, start, end, section];
const locked = spawnSync('flock', ['/tmp/mdmkit-bench.lock', process.execPath, ...args], {
  stdio: 'inherit',
});
if (locked.error || locked.status !== 0) {
  if (!existsSync(docs)) writeFileSync(docs, '# Benchmarks\n');
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
console.log(`wrote the protocol section of ${docs}`);
