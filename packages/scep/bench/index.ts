// SCEP benchmark: PKIOperation, GetCACert and GetCACaps requests per second of mdmkit-scep against Debian
// scepserver, both standalone servers with a file depot, CA keys of 2048 and 4096 bits, driven by the same
// load driver (bench/driver.ts). scepserver listens on every interface, so both servers and the driver run
// inside a private network namespace that has nothing but loopback. Rounds alternate between the servers
// and the best round of each is kept, because the machine is shared.
//
//   pnpm --filter @mdmkit/scep run bench      (as root: ip netns needs it)
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, type Netns, waitForPort } from '../test/netns';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, '..');
const repo = resolve(pkgDir, '../..');
const tsx = join(repo, 'node_modules/.bin/tsx');
const ROUNDS = Number(process.env.SCEP_BENCH_ROUNDS ?? 2);
const CONCURRENCY = Number(process.env.SCEP_BENCH_CONCURRENCY ?? 8);
const CHALLENGE = 'bench-challenge';

interface DriverResult {
  n: number;
  pkiSeconds: number;
  pkiRate: number;
  pkiOk: number;
  failures: string[];
  capsRate: number;
  caCertRate: number;
}

function runDriver(ns: Netns, port: number, n: number): DriverResult {
  const r = ns.run(
    tsx,
    [
      '--conditions=mdmkit-source',
      join(here, 'driver.ts'),
      `http://127.0.0.1:${port}/scep`,
      CHALLENGE,
      String(n),
      String(CONCURRENCY),
    ],
    { cwd: pkgDir, timeoutMs: 600_000 },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as DriverResult;
  } catch {
    throw new Error(`driver failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

function best(results: DriverResult[]) {
  const okRate = (r: DriverResult) => r.pkiOk / r.pkiSeconds;
  const top = results.reduce((a, b) => (okRate(b) > okRate(a) ? b : a));
  return {
    pkiRate: okRate(top),
    ok: results.map((r) => `${r.pkiOk}/${r.n}`).join(', '),
    failures: results.flatMap((r) => r.failures),
    caps: Math.max(...results.map((r) => r.capsRate)),
    caCert: Math.max(...results.map((r) => r.caCertRate)),
  };
}

async function main() {
  const probe = spawnSync('scepserver', ['-version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log('SKIPPED scep bench: Debian scepserver is not installed');
    return;
  }
  const ns = createNetns();
  if (typeof ns === 'string') {
    console.log(`SKIPPED scep bench: ${ns}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'mdmkit-scep-bench-'));
  const rows: string[] = [];
  const children: ChildProcess[] = [];
  try {
    for (const bits of [2048, 4096]) {
      const n = bits === 2048 ? 160 : 64;
      const peerDepot = join(work, `peer-${bits}`);
      const init = spawnSync('scepserver', ['ca', '-init', '-depot', peerDepot, '-keySize', String(bits)], {
        encoding: 'utf8',
      });
      if (init.status !== 0) throw new Error(`scepserver ca -init failed: ${init.stderr}`);
      const peerPort = 8080;
      const peer = ns.spawn(
        'scepserver',
        ['-depot', peerDepot, '-port', String(peerPort), '-challenge', CHALLENGE, '-allowrenew', '0'],
        { logFile: join(work, `peer-${bits}.log`) },
      );
      children.push(peer);
      const ourServers = [1, 2].map((workers) => {
        const port = 8090 + workers;
        const child = ns.spawn(
          tsx,
          [
            '--conditions=mdmkit-source',
            join(pkgDir, 'src/bin.ts'),
            'serve',
            '--listen',
            `127.0.0.1:${port}`,
            '--ca-dir',
            join(work, `ours-${bits}-${workers}`),
            '--kek-file',
            join(work, `ours-${bits}-${workers}.kek`),
            '--challenge',
            CHALLENGE,
            '--ca-key-size',
            String(bits),
            '--workers',
            String(workers),
          ],
          { logFile: join(work, `ours-${bits}-${workers}.log`) },
        );
        children.push(child);
        return { workers, port, child, results: [] as DriverResult[] };
      });
      await waitForPort(ns, peerPort, 60_000);
      for (const o of ourServers) await waitForPort(ns, o.port, 180_000);
      const peerResults: DriverResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const o of ourServers) {
          o.results.push(runDriver(ns, o.port, n));
          console.log(
            `CA ${bits} round ${round + 1} mdmkit x${o.workers}: ${JSON.stringify(o.results.at(-1))}`,
          );
        }
        peerResults.push(runDriver(ns, peerPort, n));
        console.log(`CA ${bits} round ${round + 1} scepserver: ${JSON.stringify(peerResults.at(-1))}`);
      }
      peer.kill('SIGTERM');
      for (const o of ourServers) o.child.kill('SIGTERM');
      const [o1, o2] = ourServers.map((o) => best(o.results)) as [
        ReturnType<typeof best>,
        ReturnType<typeof best>,
      ];
      const p = best(peerResults);
      const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
      const cols = (a: number, b: number, c: number, digits: number) =>
        `${a.toFixed(digits)} | ${b.toFixed(digits)} | ${c.toFixed(digits)} | ${ratio(a, c)} | ${ratio(b, c)}`;
      const peerFailures = p.failures.length ? ` (failures: ${[...new Set(p.failures)].join('; ')})` : '';
      rows.push(
        `| PKIOperation (PKCSReq), CA RSA ${bits} | ${cols(o1.pkiRate, o2.pkiRate, p.pkiRate, 1)} | ${o1.ok} / ${o2.ok} / ${p.ok}${peerFailures} |`,
        `| GetCACert, CA RSA ${bits} | ${cols(o1.caCert, o2.caCert, p.caCert, 0)} | |`,
        `| GetCACaps, CA RSA ${bits} | ${cols(o1.caps, o2.caps, p.caps, 0)} | |`,
      );
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    ns.destroy();
    rmSync(work, { recursive: true, force: true });
  }

  const cpu = cpus();
  const section = [
    '## @mdmkit/scep',
    '',
    'Command: `pnpm --filter @mdmkit/scep run bench` (as root; scepserver and both servers run in a private network namespace).',
    `Date: ${new Date().toISOString()}; Node ${process.version}; CPU: ${cpu[0]?.model ?? 'unknown'} × ${cpu.length}.`,
    '',
    `Both peers are standalone servers with a file depot: \`mdmkit-scep serve\` (one process, and \`--workers 2\` to use both cores as the Go server does) and Debian \`scepserver\` 2.1.0. One load driver (bench/driver.ts) for both: distinct pre-built PKCSReq messages (16 pre-generated RSA-2048 client keys, unique senderNonce, transactionID and subject each, static challenge, AES-128-CBC, SHA-256) posted over keep-alive HTTP with ${CONCURRENCY} requests in flight; afterwards every answer is checked to be a SUCCESS CertRep whose envelope holds a certificate for the request's key, and only those count. GetCACert/GetCACaps: ${CONCURRENCY} in flight. Best of ${ROUNDS} alternating rounds (the machine is shared with other work, so absolute figures vary between runs). scepserver's FAILURE answers come from its depot's serial-number file under concurrent requests (its log says \`could not convert to serial number\`); they are not counted.`,
    '',
    '| operation | mdmkit-scep req/s | mdmkit-scep --workers 2 req/s | scepserver req/s | ratio (1 process) | ratio (--workers 2) | SUCCESS answers (mdmkit / mdmkit x2 / scepserver) |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeSection(join(repo, 'docs/benchmarks.md'), 'scep', section);
  console.log(section);
}

/** Replaces this package's section of docs/benchmarks.md, under a lock shared with the other benches. */
function writeSection(file: string, name: string, body: string) {
  const lock = '/tmp/mdmkit-bench.lock';
  const script = `
const fs = require('node:fs');
const [file, name, body] = process.argv.slice(1);
const open = '<!-- bench:' + name + ' -->', close = '<!-- /bench:' + name + ' -->';
let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\\n';
const block = open + '\\n' + body + close;
const a = text.indexOf(open), b = text.indexOf(close);
text = a !== -1 && b > a ? text.slice(0, a) + block + text.slice(b + close.length) : text.replace(/\\n*$/, '\\n\\n') + block + '\\n';
fs.writeFileSync(file, text);`;
  const r = spawnSync('flock', [lock, process.execPath, '-e', script, file, name, body], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`could not update ${file}: ${r.stderr}`);
}

await main();
