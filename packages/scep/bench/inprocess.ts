// In-process profile of the SCEP handler: pre-built PKCSReq messages handed straight to
// ScepServer.handle (no HTTP), timed per phase, to separate SCEP cost from HTTP cost.
// Run: npx tsx --conditions=mdmkit-source bench/inprocess.ts [N]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, createStaticKeyProvider, generateKeyPair, issueCertificate } from '@mdmkit/crypto';
import {
  buildPkiMessage,
  createScepPolicy,
  createScepServer,
  openFileDepot,
  staticChallenge,
} from '../src/index';

const N = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'scep-inproc-'));
// A throwaway key-encryption key: the bench's CA lives only as long as the run.
const depot = await openFileDepot({
  dir,
  caKeyBits: 2048,
  keyProvider: createStaticKeyProvider(randomBytes(32)),
});
const server = createScepServer({
  ca: { certificate: depot.certificate, signer: depot.privateKey },
  store: depot,
  policy: createScepPolicy({ challenge: staticChallenge('secret'), keys: [{ type: 'rsa', sizes: [2048] }] }),
});
const keys = await Promise.all(Array.from({ length: 8 }, () => generateKeyPair({ type: 'rsa', bits: 2048 })));
const signers = await Promise.all(
  keys.map(async (k, i) => ({
    certificate: await issueCertificate({
      subject: `CN=s${i}`,
      publicKey: k.publicKey,
      issuerKey: k.privateKey,
      validityDays: 1,
    }),
    privateKey: k.privateKey,
  })),
);
const msgs = await Promise.all(
  Array.from({ length: N }, async (_, i) => {
    const k = keys[i % 8]!;
    const csr = await createCsr({
      subject: `CN=ip-${i}`,
      privateKey: k.privateKey,
      publicKey: k.publicKey,
      challengePassword: 'secret',
    });
    return buildPkiMessage({
      messageType: 19,
      content: csr,
      recipient: depot.certificate,
      cipher: 'aes-128-cbc',
      hash: 'sha256',
      transactionId: `t-${i}`,
      signer: signers[i % 8]!,
    });
  }),
);
const query = new URLSearchParams('operation=PKIOperation');
const time = async (label: string, count: number, f: (i: number) => Promise<unknown>) => {
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await f(i);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(cpu);
  console.log(
    `${label}: ${(count / s).toFixed(1)}/s wall, ${((u.user + u.system) / 1000 / count).toFixed(2)} ms CPU each`,
  );
};
await time('PKIOperation sequential', N, async (i) => {
  const r = await server.handle({ method: 'POST', query, body: msgs[i]!.der });
  if (r.status !== 200) throw new Error(`status ${r.status}`);
});
const caps = new URLSearchParams('operation=GetCACaps');
await time('GetCACaps', 5000, () => server.handle({ method: 'GET', query: caps }));
const cacert = new URLSearchParams('operation=GetCACert');
await time('GetCACert', 5000, () => server.handle({ method: 'GET', query: cacert }));
rmSync(dir, { recursive: true, force: true });
