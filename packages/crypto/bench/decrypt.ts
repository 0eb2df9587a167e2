// EnvelopedData decryption (the SCEP hot path) against the bare RSA operation it contains.
import { constants, createPrivateKey, privateDecrypt, type RsaPrivateKey, randomBytes } from 'node:crypto';
import { parseCertificate } from '../src/certificate';
import { decryptCmsSync } from '../src/enveloped-decrypt';
import { encryptCmsSync } from '../src/enveloped-encrypt';
import { createSelfSignedCa } from '../src/issue';
import { parseDer, readOctets } from '../src/der';

/** Header of the table whose rows {@link runDecryptBench} returns. */
export const DECRYPT_BENCH_HEADER =
  '| case | ops/s (per core) | CPU µs/op | vs bare privateDecrypt |\n|---|---:|---:|---:|';

/** Warm target from the issue: decrypt within 1.25× of the bare privateDecrypt. */
const WARM_TARGET = 1.25;

/**
 * CPU time of this process in nanoseconds. The benchmark machine is shared, so wall time would
 * measure the scheduler as much as the code; CPU time (all threads, GC included) does not.
 */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Nanoseconds of CPU per operation over `n` calls. */
function measure(fn: () => void, n: number): number {
  const start = cpuNs();
  for (let i = 0; i < n; i++) fn();
  return (cpuNs() - start) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Finds the encryptedKey OCTET STRING of the first recipient (the input of the bare RSA step). */
function encryptedKeyOf(der: Uint8Array): Uint8Array {
  const env = parseDer(der).children()[1]?.children()[0];
  const ri = env?.children()[1]?.children()[0]?.children();
  const ek = ri?.[3];
  if (!ek) throw new Error('unexpected EnvelopedData shape');
  return readOctets(ek);
}

/**
 * Measures EnvelopedData decryption of 1 KB (RSA-2048 key transport with PKCS#1 v1.5, AES-256-CBC)
 * warm (same certificate and key objects, caches hot) and cold (certificate and key parsed anew each
 * time), next to the bare `privateDecrypt` it performs. Returns Markdown table rows for
 * {@link DECRYPT_BENCH_HEADER}.
 *
 * @example
 * ```ts
 * const rows = await runDecryptBench();
 * console.log(`${DECRYPT_BENCH_HEADER}\n${rows}`);
 * ```
 */
export async function runDecryptBench(opts: { iterations?: number; rounds?: number } = {}): Promise<string> {
  const iterations = opts.iterations ?? 500;
  const rounds = opts.rounds ?? 7;
  const { certificate, privateKey } = await createSelfSignedCa({ subject: 'CN=Bench RA' });
  const keyDer = privateKey.export({ format: 'der', type: 'pkcs8' });
  const content = randomBytes(1024);
  const der = encryptCmsSync({ content, recipients: [certificate], cipher: 'aes-256-cbc' });
  const encryptedKey = encryptedKeyOf(der);
  const recipients = [{ certificate, privateKey }];
  const rsaNoPad = { key: privateKey, padding: constants.RSA_NO_PADDING } as RsaPrivateKey;

  const bare = () => {
    privateDecrypt(rsaNoPad, encryptedKey);
  };
  const warm = () => {
    decryptCmsSync(der, { recipients });
  };
  const cold = () => {
    const cert = parseCertificate(certificate.der);
    const key = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
    decryptCmsSync(der, { recipients: [{ certificate: cert, privateKey: key }] });
  };
  const check = decryptCmsSync(der, { recipients });
  if (!Buffer.from(check.content).equals(content)) throw new Error('bench decrypt produced wrong content');

  const desDer = encryptCmsSync({
    content,
    recipients: [certificate],
    cipher: 'des-cbc',
    insecureAllowSingleDes: true,
  });
  const warmDes = () => {
    decryptCmsSync(desDer, { recipients });
  };
  const coldCert = () => {
    decryptCmsSync(der, { recipients: [{ certificate: parseCertificate(certificate.der), privateKey }] });
  };

  // Bare and warm alternate round by round so that noise from other processes hits both alike; the
  // ratio is the median of the per-round (paired) ratios, the absolute figures are medians of the rounds.
  const pair = (): [number, number, number] => [
    measure(bare, iterations),
    measure(warm, iterations),
    measure(warmDes, iterations / 5),
  ];
  pair();
  const bs: number[] = [];
  const ws: number[] = [];
  const ds: number[] = [];
  const ratios: number[] = [];
  const desRatios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const [pb, pw, pd] = pair();
    bs.push(pb);
    ws.push(pw);
    ds.push(pd);
    ratios.push(pw / pb);
    desRatios.push(pd / pb);
  }
  // Cold cases run afterwards: they create key objects and garbage that would disturb the pair.
  measure(cold, iterations / 10);
  const cs: number[] = [];
  const ccs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    cs.push(measure(cold, iterations / 10));
    ccs.push(measure(coldCert, iterations / 5));
  }
  const b = median(bs);
  const w = median(ws);
  const c = median(cs);
  const cc = median(ccs);
  const ratio = median(ratios);
  const d = median(ds);
  const row = (name: string, ns: number, ratio: string) =>
    `| ${name} | ${Math.round(1e9 / ns).toLocaleString('en-US')} | ${(ns / 1000).toFixed(1)} | ${ratio} |`;
  return [
    row('bare `privateDecrypt` (RSA-2048, no padding)', b, '1.00×'),
    row(
      'EnvelopedData decrypt 1 KB, RSA-2048 PKCS#1 v1.5 + AES-256-CBC, warm',
      w,
      `${ratio.toFixed(2)}× (target ≤ ${WARM_TARGET}×: ${ratio <= WARM_TARGET ? 'met' : 'NOT met'})`,
    ),
    row(
      'EnvelopedData decrypt 1 KB, single DES-CBC content (micromdm SCEP client), warm',
      d,
      `${median(desRatios).toFixed(2)}×`,
    ),
    row('EnvelopedData decrypt 1 KB, cold certificate (parsed each time)', cc, `${(cc / b).toFixed(2)}×`),
    row(
      'EnvelopedData decrypt 1 KB, cold certificate and private key (both parsed each time)',
      c,
      `${(c / b).toFixed(2)}×`,
    ),
  ].join('\n');
}

// Allows `tsx --conditions=mdmkit-source bench/decrypt.ts` on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  runDecryptBench().then((rows) => console.log(`${DECRYPT_BENCH_HEADER}\n${rows}`));
}
