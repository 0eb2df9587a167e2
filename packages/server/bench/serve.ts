// The server side of the load benchmarks, run as its own process so that it can be pinned to one
// core with taskset while the load tool runs on the other:
//   BENCH_MODE=mdm   @mdmkit/server on SQLite (or PostgreSQL), with BENCH_SEED enrollments whose
//                    identities (certificate + key) it issues and writes to BENCH_IDENTITIES for the
//                    load side, plus BENCH_IMPORT more enrollments imported straight into storage;
//   BENCH_MODE=bare  a bare node:http server answering every request with an empty 200 (the ceiling).
// Prints one JSON line when it listens. Besides the MDM endpoints it serves POST /bench/enqueue
// ({"udids": [...]}: queue a DeviceInformation for each), GET /bench/stats (RSS, cache figures) and
// POST /bench/profile/start, /bench/profile/stop?file=PATH (a CPU profile of just the measured window).
import { createPublicKey, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceInformationCommand } from '@mdmkit/commands';
import {
  certificateCacheStats,
  configureCertificateCache,
  createStaticKeyProvider,
  generateKeyPair,
  issueCertificate,
} from '@mdmkit/crypto';
import { toNodeListener } from '@mdmkit/http';
import { createLocalCa } from '@mdmkit/scep';
import type { EnrollmentExport, MdmStorage } from '@mdmkit/storage';
import { createPostgresStorage } from '@mdmkit/storage-postgres';
import { createSqliteStorage } from '@mdmkit/storage-sqlite';
import { postgresTestUrl, uniqueName } from '@mdmkit/test-support';
import pg from 'pg';
import { createMdmServer } from '../src/index';

const env = process.env;
const mode = env.BENCH_MODE ?? 'mdm';
const port = Number(env.BENCH_PORT ?? 0);
let dropOnExit: (() => Promise<void>) | undefined;

function listen(listener: (req: IncomingMessage, res: ServerResponse) => void, extra: object): void {
  const server = createServer({ keepAlive: true }, listener);
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ ready: true, port: address.port, ...extra })}\n`);
  });
  process.on('SIGTERM', () => {
    const cleanup = dropOnExit?.() ?? Promise.resolve();
    cleanup.finally(() => process.exit(0));
  });
}

if (mode === 'bare') {
  listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = 200;
      res.setHeader('content-length', '0');
      res.end();
    });
  }, {});
} else {
  await serveMdm();
}

async function openStorage(): Promise<MdmStorage> {
  if (env.BENCH_STORAGE === 'postgres') {
    const schema = uniqueName('mdmkit_bench');
    const storage = await createPostgresStorage({ url: postgresTestUrl(), schema, poolSize: 8 });
    dropOnExit = async () => {
      await storage.close();
      const client = new pg.Client({ connectionString: postgresTestUrl() });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    };
    return storage;
  }
  return createSqliteStorage({ path: join(mkdtempSync(join(tmpdir(), 'mdmkit-bench-')), 'mdm.db') });
}

async function serveMdm(): Promise<void> {
  if (env.BENCH_CERT_CACHE) configureCertificateCache({ capacity: Number(env.BENCH_CERT_CACHE) });
  const keyProvider = createStaticKeyProvider(new Uint8Array(randomBytes(32)));
  const storage = await openStorage();
  const { ca } = await createLocalCa({ provider: keyProvider, subject: 'CN=bench identity CA' });
  const topic = 'com.apple.mgmt.External.00000000-0000-0000-0000-0000000000be';
  const mdm = createMdmServer({
    storage,
    keyProvider,
    serverUrl: 'https://mdm.bench.test/mdm',
    topic,
    scep: { ca },
  });

  // Enrollments with real identities: distinct certificates from the SCEP CA over a small pool of
  // RSA keys (generating 10,000 RSA keys would take minutes and measures nothing on the server side).
  const seed = Number(env.BENCH_SEED ?? 1000);
  const keys: KeyObject[] = [];
  for (let i = 0; i < 8; i++) keys.push((await generateKeyPair({ type: 'rsa', bits: 2048 })).privateKey);
  const now = new Date();
  // What a completed enrollment holds (Authenticate then TokenUpdate), written by storage import
  // in batches of 1000: one transaction per batch instead of three per device.
  const enrollment = (id: string, serialNumber: string, certHash: string): EnrollmentExport => ({
    enrollment: {
      id,
      channel: 'device',
      deviceId: id,
      serialNumber,
      topic,
      pushToken: randomBytes(32).toString('hex'),
      pushMagic: randomUUID(),
      enabled: true,
      tokenUpdateTally: 1,
      createdAt: now,
      updatedAt: now,
    },
    certificateHashes: [certHash],
  });
  const pending: EnrollmentExport[] = [];
  const devices: { udid: string; certPem: string; key: number }[] = [];
  for (let i = 0; i < seed; i++) {
    const udid = `BENCH-${String(i).padStart(8, '0')}-${randomUUID().slice(0, 8).toUpperCase()}`;
    const key = i % keys.length;
    const certificate = await issueCertificate({
      subject: { CN: udid },
      publicKey: createPublicKey(keys[key] as KeyObject),
      issuer: ca.certificate,
      issuerKey: ca.signer as KeyObject,
      extendedKeyUsage: ['clientAuth'],
      keyUsage: ['digitalSignature'],
      validityDays: 7,
    });
    pending.push(enrollment(udid, `SN${i}`, certificate.fingerprintSha256));
    if (pending.length === 1000) await storage.importEnrollments(pending.splice(0));
    devices.push({ udid, certPem: certificate.pem, key });
  }
  if (pending.length > 0) await storage.importEnrollments(pending);
  if (env.BENCH_IDENTITIES) {
    writeFileSync(
      env.BENCH_IDENTITIES,
      JSON.stringify({
        topic,
        serverPath: '/mdm',
        keys: keys.map((k) => k.export({ type: 'pkcs8', format: 'pem' })),
        devices,
      }),
    );
  }
  // Enrollments without identities, as a migration would bring them (storage import, no SCEP).
  const imported = Number(env.BENCH_IMPORT ?? 0);
  for (let done = 0; done < imported; ) {
    const batch: EnrollmentExport[] = [];
    for (let j = 0; j < 1000 && done < imported; j++, done++) {
      const id = `IMPORTED-${String(done).padStart(8, '0')}`;
      batch.push(enrollment(id, `IMP${done}`, randomBytes(32).toString('hex')));
    }
    await storage.importEnrollments(batch);
  }

  const mdmListener = toNodeListener(mdm.handler);
  const inspector = new Session();
  inspector.connect();
  listen(
    (req, res) => {
      if (req.url?.startsWith('/bench/profile/') && req.method === 'POST') {
        const file = new URL(req.url, 'http://x').searchParams.get('file');
        const step = req.url.startsWith('/bench/profile/start')
          ? inspector.post('Profiler.enable').then(() => inspector.post('Profiler.start'))
          : inspector.post('Profiler.stop').then(({ profile }) => {
              if (file) writeFileSync(file, JSON.stringify(profile));
            });
        step.then(
          () => res.end(),
          (e: Error) => {
            res.statusCode = 500;
            res.end(e.message);
          },
        );
        return;
      }
      if (req.url === '/bench/stats') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ memory: process.memoryUsage(), certificateCache: certificateCacheStats() }));
        return;
      }
      if (req.url === '/bench/enqueue' && req.method === 'POST') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const { udids } = JSON.parse(Buffer.concat(chunks).toString()) as { udids: string[] };
          const cmd = deviceInformationCommand({ Queries: ['UDID', 'OSVersion'] });
          mdm.enqueue(cmd, udids, { push: false }).then(
            () => res.end(cmd.CommandUUID),
            (e: Error) => {
              res.statusCode = 500;
              res.end(e.message);
            },
          );
        });
        return;
      }
      mdmListener(req, res);
    },
    { seeded: seed, imported, storage: env.BENCH_STORAGE ?? 'sqlite' },
  );
}
