// CPU cost of one device request through the whole service chain (Mdm-Signature verify, chain
// verification, decoding, certificate association, core, SQLite) against the least any server must
// do for the same request: verify the signature, decode the report and record it in the same
// storage. The gap is what the chain costs. NanoMDM, the named peer, is a Go server that does not
// run here; this compares against the in-process minimum instead. Rounds are interleaved, process
// CPU time, medians. Writes its table into the server section of docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createStaticKeyProvider,
  generateKeyPair,
  issueCertificate,
  signCms,
  verifyCertificateChain,
  verifyMdmSignatureSync,
} from '@mdmkit/crypto';
import type { HttpRequest } from '@mdmkit/http';
import { buildXml } from '@mdmkit/plist';
import { decodeReport } from '@mdmkit/protocol';
import { createLocalCa } from '@mdmkit/scep';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { createMdmServer } from '../src/index';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.MDMKIT_BENCH_ROUNDS ?? 9);
const PER_ROUND = Number(process.env.MDMKIT_BENCH_REQUESTS ?? 400);

const keyProvider = createStaticKeyProvider(new Uint8Array(randomBytes(32)));
const storage = await createSqliteStorage({
  path: join(mkdtempSync(join(tmpdir(), 'mdmkit-bench-')), 'b.db'),
});
const { ca } = await createLocalCa({ provider: keyProvider });
const topic = 'com.apple.mgmt.External.00000000-0000-0000-0000-000000000001';
const mdm = createMdmServer({
  storage,
  keyProvider,
  serverUrl: 'https://mdm.example.com/mdm',
  topic,
  scep: { ca },
});

const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
const certificate = await issueCertificate({
  subject: { CN: 'bench device' },
  publicKey: key.publicKey,
  issuer: ca.certificate,
  issuerKey: ca.signer as import('node:crypto').KeyObject,
  extendedKeyUsage: ['clientAuth'],
  validityDays: 2,
});
const udid = 'BENCH-0000-0000-0000-000000000001';
await storage.associateCertificate(udid, certificate.fingerprintSha256);
await storage.authenticate({ id: udid, topic });
await storage.tokenUpdate({ id: udid, channel: 'device', topic, pushToken: 'ab'.repeat(32), pushMagic: 'm' });

const body = new TextEncoder().encode(buildXml({ UDID: udid, Status: 'Idle' }));
const signature = Buffer.from(
  await signCms({ content: body, certificate, privateKey: key.privateKey, detached: true }),
).toString('base64');
const request: HttpRequest = {
  method: 'PUT',
  path: '/mdm',
  rawQuery: '',
  query: new URLSearchParams(),
  headers: { get: (n) => (n.toLowerCase() === 'mdm-signature' ? signature : undefined) },
  body,
  remoteAddress: '127.0.0.1',
  clientCertificate: undefined,
};

async function viaServer(): Promise<void> {
  const r = await mdm.command(request);
  if (r.status !== 200) throw new Error(`status ${r.status}`);
}
async function minimum(): Promise<void> {
  const signer = verifyMdmSignatureSync(signature, body);
  verifyCertificateChain(signer, { trusted: [ca.certificate] });
  const report = decodeReport(body);
  await storage.recordResult({ enrollmentId: report.enrollment.id, status: report.envelope.Status });
}

async function cpuPer(fn: () => Promise<void>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < PER_ROUND; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / PER_ROUND;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (let i = 0; i < 50; i++) {
  await viaServer();
  await minimum();
}
const server: number[] = [];
const base: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const b = await cpuPer(minimum);
  const s = await cpuPer(viaServer);
  base.push(b);
  server.push(s);
  ratios.push(s / b);
}
await mdm.close();
await storage.close();

const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores)`;
const table = `<!-- bench:server -->
### @mdmkit/server: one signed Idle report through the service chain (SQLite)

Baseline: the least any server does for the same request in the same process — verify the
\`Mdm-Signature\`, verify the certificate chain, decode the report, \`recordResult\` in the same SQLite
storage. The peer named for this path, NanoMDM, is a Go server that does not run on this machine, so
it is not in the table. Process CPU time per request, ${PER_ROUND} requests per round, ${ROUNDS} interleaved
rounds, medians.

Command: \`pnpm --filter @mdmkit/server run bench\` · ${date} · Node ${process.version} · ${machine}

| path | CPU per request | vs. baseline |
|---|---:|---:|
| baseline (verify + decode + record) | ${median(base).toFixed(0)} µs | 1.00× |
| \`createMdmServer\` command endpoint (whole chain) | ${median(server).toFixed(0)} µs | ${median(ratios).toFixed(2)}× |
<!-- /bench:server -->`;
console.log(table);
const docs = join(here, '../../../docs/benchmarks.md');
const text = readFileSync(docs, 'utf8');
const re = /<!-- bench:server -->[\s\S]*?<!-- \/bench:server -->/;
writeFileSync(docs, re.test(text) ? text.replace(re, table) : `${text.trimEnd()}\n\n${table}\n`);
