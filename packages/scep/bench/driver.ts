// Load driver for the SCEP benchmark. Runs inside the benchmark's network namespace and prints one JSON
// line. The same code drives every server: N distinct PKCSReq messages are built before the clock
// starts (pre-generated client keys, unique senderNonce and transactionID each, static challenge), then
// posted over keep-alive HTTP with a fixed concurrency; every answer is checked afterwards to be a
// SUCCESS CertRep holding a certificate for the request's key.
import { Agent, request } from 'node:http';
import {
  type Certificate,
  createCsr,
  decryptCms,
  generateKeyPair,
  issueCertificate,
  parseCertificate,
  parseCertsOnlyCms,
} from '@mdmkit/crypto';
import { readScepAttributes, verifyPkiMessage } from '../src/attributes';
import { buildPkiMessage, PkiStatus } from '../src/index';

const [url, challenge, nText, concText, keysText] = process.argv.slice(2);
const N = Number(nText ?? 200);
const CONCURRENCY = Number(concText ?? 8);
const KEYS = Number(keysText ?? 16);
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const target = new URL(url!);

function call(
  method: 'GET' | 'POST',
  query: string,
  body?: Uint8Array,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method,
        path: `${target.pathname}?${query}`,
        headers: body ? { 'content-type': 'application/x-pki-message', 'content-length': body.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(
  count: number,
  worker: (i: number) => Promise<T>,
): Promise<{ results: T[]; seconds: number }> {
  const results = new Array<T>(count);
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        results[i] = await worker(i);
      }
    }),
  );
  return { results, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

const caRes = await call('GET', 'operation=GetCACert');
let caCerts: Certificate[];
try {
  caCerts = [parseCertificate(caRes.body)];
} catch {
  caCerts = parseCertsOnlyCms(caRes.body);
}
const recipient = caCerts.find((c) => !c.isCA) ?? caCerts[0]!;

const keys = await Promise.all(
  Array.from({ length: KEYS }, () => generateKeyPair({ type: 'rsa', bits: 2048 })),
);
const signers = await Promise.all(
  keys.map(async (k, i) => ({
    certificate: await issueCertificate({
      subject: `CN=bench signer ${i}`,
      publicKey: k.publicKey,
      issuerKey: k.privateKey,
      validityDays: 1,
    }),
    privateKey: k.privateKey,
  })),
);
const runId = Math.random().toString(36).slice(2, 8);
const build = async (i: number) => {
  const k = i % KEYS;
  const csr = await createCsr({
    subject: `CN=bench-${runId}-${i}`,
    privateKey: keys[k]!.privateKey,
    publicKey: keys[k]!.publicKey,
    challengePassword: challenge!,
  });
  return buildPkiMessage({
    messageType: 19,
    content: csr,
    recipient,
    cipher: 'aes-128-cbc',
    hash: 'sha256',
    transactionId: `bench-${runId}-${i}`,
    signer: signers[k]!,
  });
};
const warm = Math.min(16, N);
const messages = await Promise.all(Array.from({ length: N + warm }, (_, i) => build(i)));

// Warm-up (JIT, connection setup), not timed and not counted.
await pool(warm, (i) => call('POST', 'operation=PKIOperation', messages[N + i]!.der));

const pki = await pool(N, (i) => call('POST', 'operation=PKIOperation', messages[i]!.der));
let ok = 0;
const failures: string[] = [];
for (let i = 0; i < N; i++) {
  const res = pki.results[i]!;
  try {
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const v = await verifyPkiMessage(new Uint8Array(res.body));
    const a = readScepAttributes(v.signedAttributes);
    if (a?.pkiStatus !== PkiStatus.SUCCESS)
      throw new Error(`pkiStatus ${a?.pkiStatus} failInfo ${a?.failInfo}`);
    if (Buffer.compare(Buffer.from(a.recipientNonce ?? []), Buffer.from(messages[i]!.senderNonce)) !== 0) {
      throw new Error('recipientNonce mismatch');
    }
    const opened = await decryptCms(v.content, { recipients: [signers[i % KEYS]!] });
    const certs = parseCertsOnlyCms(opened.content);
    const spki = Buffer.from(keys[i % KEYS]!.publicKey.export({ type: 'spki', format: 'der' }));
    if (!certs.some((c) => Buffer.compare(Buffer.from(c.spki), spki) === 0))
      throw new Error('no certificate for our key');
    ok++;
  } catch (e) {
    if (failures.length < 3) failures.push((e as Error).message);
  }
}

const M = N * 5;
const caps = await pool(M, () => call('GET', 'operation=GetCACaps'));
const cacert = await pool(M, () => call('GET', 'operation=GetCACert'));
const okStatus = (r: { status: number }[]) => r.every((x) => x.status === 200);

process.stdout.write(
  `${JSON.stringify({
    n: N,
    concurrency: CONCURRENCY,
    pkiSeconds: pki.seconds,
    pkiRate: N / pki.seconds,
    pkiOk: ok,
    failures,
    capsRate: okStatus(caps.results) ? M / caps.seconds : 0,
    caCertRate: okStatus(cacert.results) ? M / cacert.seconds : 0,
  })}\n`,
);
agent.destroy();
