// Mdm-Signature verification (the per-request device identity check) against the bare RSA verify it contains.
import { createPrivateKey, randomBytes, verify } from 'node:crypto';
import { clearCertificateCache, configureCertificateCache } from '../src/cert-cache';
import type { Certificate } from '../src/certificate';
import { parseDer, readOctets } from '../src/der';
import { createSelfSignedCa, issueCertificate } from '../src/issue';
import { generateKeyPair } from '../src/keys';
import { verifyMdmSignatureSync } from '../src/mdm-signature';
import { signCms } from '../src/signed-data';
import { pkijsVerifyDetached } from './pkijs-peer';

/** Header of the table whose rows {@link runVerifyBench} returns. */
export const VERIFY_BENCH_HEADER =
  '| case | ops/s (per core) | CPU µs/op | vs bare crypto.verify |\n|---|---:|---:|---:|';

/** Warm target from the issue: Mdm-Signature verify within 2× of the bare `crypto.verify`. */
const WARM_TARGET = 2;

/** CPU time of this process in ns: the machine is shared, so wall time would measure the scheduler. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function measure(fn: () => void, n: number): number {
  const start = cpuNs();
  for (let i = 0; i < n; i++) fn();
  return (cpuNs() - start) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** The signed attributes (re-tagged as SET) and signature of the single SignerInfo: what crypto.verify checks. */
function signedPartsOf(der: Uint8Array): { signedAttrs: Uint8Array; signature: Uint8Array } {
  const sd = parseDer(der).children()[1]!.children()[0]!.children();
  const si = sd[sd.length - 1]!.children()[0]!.children();
  const attrs = Uint8Array.from(si[3]!.raw);
  attrs[0] = 0x31;
  return { signedAttrs: attrs, signature: readOctets(si[5]!) };
}

/**
 * Measures detached Mdm-Signature verification of a 4 KB body signed by an RSA-2048 device identity:
 * warm (signer certificate cached), cold (certificate cache disabled, so every call parses the
 * certificate and imports its key), the bare `crypto.verify` of the same signed attributes with an
 * already-imported key, and pkijs verifying the same message. Returns Markdown table rows for {@link VERIFY_BENCH_HEADER}.
 *
 * @example
 * ```ts
 * console.log(`${VERIFY_BENCH_HEADER}\n${await runVerifyBench()}`);
 * ```
 */
export async function runVerifyBench(opts: { iterations?: number; rounds?: number } = {}): Promise<string> {
  const iterations = opts.iterations ?? 1000;
  const rounds = opts.rounds ?? 7;
  const ca = await createSelfSignedCa({ subject: 'CN=Bench Identity CA' });
  const device = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const body = randomBytes(4096);
  // Distinct certificates (same key, new serials) so the cold case never sees a certificate twice in a row.
  const certs: Certificate[] = [];
  const headers: string[] = [];
  for (let i = 0; i < 16; i++) {
    const cert = await issueCertificate({
      subject: { CN: `device-${i}` },
      publicKey: device.publicKey,
      issuer: ca.certificate,
      issuerKey: ca.privateKey,
      extendedKeyUsage: ['clientAuth'],
    });
    certs.push(cert);
    const der = await signCms({
      content: body,
      certificate: cert,
      privateKey: device.privateKey,
      detached: true,
    });
    headers.push(Buffer.from(der).toString('base64'));
  }
  const header = headers[0]!;
  const { signedAttrs, signature } = signedPartsOf(Buffer.from(header, 'base64'));
  const publicKey = certs[0]!.publicKey;
  const bodySig = new Uint8Array(
    (await import('node:crypto')).sign(
      'sha256',
      body,
      createPrivateKey(device.privateKey.export({ format: 'pem', type: 'pkcs8' })),
    ),
  );
  if (!verify('sha256', signedAttrs, publicKey, signature))
    throw new Error('bench setup: bare verify failed');
  if (verifyMdmSignatureSync(header, body).fingerprintSha256 !== certs[0]!.fingerprintSha256) {
    throw new Error('bench setup: wrong signer');
  }

  const bare = () => {
    verify('sha256', signedAttrs, publicKey, signature);
  };
  const bareBody = () => {
    verify('sha256', body, publicKey, bodySig);
  };
  const warm = () => {
    verifyMdmSignatureSync(header, body);
  };
  let k = 0;
  const cold = () => {
    verifyMdmSignatureSync(headers[k++ & 15]!, body);
  };

  // Bare and warm alternate so that noise from other processes hits both; the ratio is the median of
  // the paired per-round ratios.
  const pair = (): [number, number] => [measure(bare, iterations), measure(warm, iterations)];
  clearCertificateCache();
  pair();
  const bs: number[] = [];
  const ws: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const [pb, pw] = pair();
    bs.push(pb);
    ws.push(pw);
    ratios.push(pw / pb);
  }
  const bbs: number[] = [];
  for (let r = 0; r < rounds; r++) bbs.push(measure(bareBody, iterations));
  configureCertificateCache({ capacity: 0 });
  const cs: number[] = [];
  try {
    measure(cold, iterations / 10);
    for (let r = 0; r < rounds; r++) cs.push(measure(cold, iterations / 4));
  } finally {
    configureCertificateCache({ capacity: 1024 });
  }
  // The library-only route for comparison: pkijs parses the whole message and verifies through WebCrypto.
  if (!(await pkijsVerifyDetached(Buffer.from(header, 'base64'), body)))
    throw new Error('bench setup: pkijs rejected');
  const ps: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = cpuNs();
    const n = 20;
    for (let i = 0; i < n; i++) await pkijsVerifyDetached(Buffer.from(header, 'base64'), body);
    ps.push((cpuNs() - start) / n);
  }
  const pk = median(ps);
  const b = median(bs);
  const w = median(ws);
  const bb = median(bbs);
  const c = median(cs);
  const ratio = median(ratios);
  const row = (name: string, ns: number, rel: string) =>
    `| ${name} | ${Math.round(1e9 / ns).toLocaleString('en-US')} | ${(ns / 1000).toFixed(1)} | ${rel} |`;
  return [
    row('bare `crypto.verify` (RSA-2048 PKCS#1 v1.5, SHA-256 over the signed attributes)', b, '1.00×'),
    row('bare `crypto.verify` over the 4 KB body itself (for reference)', bb, `${(bb / b).toFixed(2)}×`),
    row(
      '`verifyMdmSignature`, 4 KB body, RSA-2048 signer, warm (signer cached)',
      w,
      `${ratio.toFixed(2)}× (target ≤ ${WARM_TARGET}×: ${ratio <= WARM_TARGET ? 'met' : 'NOT met'})`,
    ),
    row(
      '`verifyMdmSignature`, cold (certificate parsed and key imported every call)',
      c,
      `${(c / b).toFixed(2)}×`,
    ),
    row(
      'pkijs 3.4 `SignedData.verify` (parse + WebCrypto verify), same message',
      pk,
      `${(pk / b).toFixed(2)}×`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runVerifyBench().then((rows) => console.log(`${VERIFY_BENCH_HEADER}\n${rows}`));
}
