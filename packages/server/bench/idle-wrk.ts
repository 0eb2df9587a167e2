// Signed Idle check-ins per second: @mdmkit/server on SQLite pinned to one core, replayed with wrk
// on the other core, against a bare node:http server answering the same requests with an empty 200
// under the same pinning, in the same run. The Idles are real signed reports from BENCH_SEED
// enrolled identities (each its own certificate from the server's SCEP CA); the server verifies
// every signature (its caches hold parsed certificates, never request or signature bytes).
//   pnpm --filter @mdmkit/server exec tsx --conditions=mdmkit-source bench/idle-wrk.ts
// Env: BENCH_SEED (devices replayed, default 1000), BENCH_SECONDS (default 10), BENCH_CONNECTIONS
// (default 64), BENCH_ROUNDS (default 2), BENCH_CPU_PROF=FILE (a CPU profile of the server during
// the last measured run; summarise it with bench/profile-summary.ts).
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate, pemDecode, signCms } from '@mdmkit/crypto';
import { buildXml } from '@mdmkit/plist';
import { machineLine, runWrk, startBenchServer, type WrkResult, writeSection } from './processes';

const SEED = Number(process.env.BENCH_SEED ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PROFILE_FILE = process.env.BENCH_CPU_PROF;

interface Identities {
  serverPath: string;
  keys: string[];
  devices: { udid: string; certPem: string; key: number }[];
}

const machine = machineLine();
const dir = mkdtempSync(join(tmpdir(), 'mdmkit-wrk-'));
const identitiesFile = join(dir, 'identities.json');
const script = join(dir, 'idle.lua');

let firstRequest: { signature: string; body: string } | undefined;

/** A wrk script that sends each device's signed Idle in turn. */
async function writeScript(ids: Identities): Promise<void> {
  firstRequest = undefined;
  const keys = ids.keys.map((k) => createPrivateKey(k));
  const lines = ['local reqs = {}'];
  for (const d of ids.devices) {
    const body = buildXml({ UDID: d.udid, Status: 'Idle' });
    const certificate = parseCertificate(pemDecode(d.certPem).der);
    const signature = Buffer.from(
      await signCms({
        content: new TextEncoder().encode(body),
        certificate,
        privateKey: keys[d.key]!,
        detached: true,
      }),
    ).toString('base64');
    firstRequest ??= { signature, body };
    lines.push(
      `reqs[#reqs + 1] = wrk.format("PUT", "${ids.serverPath}", { ["Host"] = "127.0.0.1", ["Mdm-Signature"] = "${signature}" }, [==[${body}]==])`,
    );
  }
  lines.push('local i = 0', 'request = function()', '  i = i % #reqs + 1', '  return reqs[i]', 'end');
  if (process.env.BENCH_LUA_DEBUG)
    lines.push(
      'local n = 0',
      'response = function(s, h, b) if s ~= 200 and n < 3 then print(s, b); n = n + 1 end end',
    );
  writeFileSync(script, `${lines.join('\n')}\n`);
}

const bare: WrkResult[] = [];
const mdm: WrkResult[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const b = await startBenchServer({ BENCH_MODE: 'bare' });
  const profile = round === ROUNDS - 1 ? PROFILE_FILE : undefined;
  const m = await startBenchServer({
    BENCH_MODE: 'mdm',
    BENCH_SEED: String(SEED),
    BENCH_IDENTITIES: identitiesFile,
  });
  await writeScript(JSON.parse(readFileSync(identitiesFile, 'utf8')) as Identities);
  // One request by hand first: a replay of refused requests would measure nothing.
  const probe = await fetch(`${m.origin}/mdm`, {
    method: 'PUT',
    headers: { 'mdm-signature': firstRequest!.signature },
    body: firstRequest!.body,
  });
  if (probe.status !== 200)
    throw new Error(`the server refused a signed Idle: ${probe.status} ${await probe.text()}`);
  // Warm-up (JIT, certificate cache), then the measured runs, bare first.
  await runWrk(`${m.origin}/mdm`, script, 2, CONNECTIONS);
  const rb = await runWrk(`${b.origin}/mdm`, script, SECONDS, CONNECTIONS);
  if (profile) await fetch(`${m.origin}/bench/profile/start`, { method: 'POST' });
  const rm = await runWrk(`${m.origin}/mdm`, script, SECONDS, CONNECTIONS);
  if (profile)
    await fetch(`${m.origin}/bench/profile/stop?file=${encodeURIComponent(profile)}`, { method: 'POST' });
  bare.push(rb);
  mdm.push(rm);
  console.log(`round ${round + 1}: bare ${rb.requestsPerSecond}/s, mdm ${rm.requestsPerSecond}/s`, rm);
  await b.stop();
  await m.stop();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bareRps = median(bare.map((r) => r.requestsPerSecond));
const mdmRps = median(mdm.map((r) => r.requestsPerSecond));
const errors = mdm.reduce((n, r) => n + r.non2xx + r.socketErrors, 0);
const table = `### Signed Idle check-ins per second, one core (wrk replay)

${machine}. Server pinned with \`taskset -c 0\`, wrk (1 thread, ${CONNECTIONS} connections, ${SECONDS} s
per run) with \`taskset -c 1\`; ${ROUNDS} rounds, medians; ${SEED} enrolled devices, each request a real
Idle signed by its device (RSA-2048, SHA-256), every signature verified by the server.

| server (same requests, same pinning) | requests/s | p99 | of bare |
|---|---:|---:|---:|
| bare \`node:http\`, empty 200 | ${bareRps.toFixed(0)} | ${bare.at(-1)?.latencyP99} | 100% |
| \`@mdmkit/server\` on SQLite, signed Idle | ${mdmRps.toFixed(0)} | ${mdm.at(-1)?.latencyP99} | ${((mdmRps / bareRps) * 100).toFixed(1)}% |

Non-2xx answers and socket errors on the server runs: ${errors}.

\`\`\`sh
cd packages/server && ${process.env.BENCH_FROM_DIST === '1' ? 'BENCH_FROM_DIST=1 ' : ''}BENCH_SEED=${SEED} BENCH_SECONDS=${SECONDS} BENCH_ROUNDS=${ROUNDS} npx tsx --conditions=mdmkit-source bench/idle-wrk.ts
\`\`\``;
console.log(table);
writeSection('server:idle-wrk', table);
