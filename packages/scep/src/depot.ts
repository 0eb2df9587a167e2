import { createPrivateKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Certificate,
  createSelfSignedCa,
  generateKeyPair,
  type NameInput,
  parseCertificate,
} from '@mdmkit/crypto';
import { SenderNonceBudget, senderNoncesFull } from '@mdmkit/storage';
import { ScepError } from './errors';
import type { IssuedCertificateRecord, ScepStore } from './store';

/** Options of {@link openFileDepot}. */
export interface FileDepotOptions {
  /** The directory; created when missing. */
  dir: string;
  /** Encrypts the CA key file (PKCS#8, AES-256-CBC) with this passphrase. */
  passphrase?: string;
  /** For a new CA: its subject. Default `CN=mdmkit SCEP CA`. */
  caSubject?: NameInput;
  /** For a new CA: RSA modulus size. Default 2048. */
  caKeyBits?: 2048 | 3072 | 4096;
  /** For a new CA: validity in days. Default 3650. */
  caValidityDays?: number;
  /**
   * Most sender-nonce files kept at once (expired ones count until they are swept). Default 100 000.
   * When full, a new nonce is refused (the server answers 503) until old ones expire; a live nonce is
   * never deleted to make room.
   */
  maxNonces?: number;
}

/** A file-backed CA depot: the CA certificate and key, and a {@link ScepStore} whose certificates are kept by serial. */
export interface FileDepot extends ScepStore {
  readonly dir: string;
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
  /** Whether this call created the CA. */
  readonly created: boolean;
}

const SERIAL = /^[0-9a-f]{1,64}$/;

async function writeAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Opens (or, on first use, creates) a CA depot in a directory: `ca.pem`, `ca.key` (mode 0600, optionally
 * passphrase-protected), `certs/<serial>.pem` with `certs/<serial>.json` metadata, and `challenges.json`
 * (hashes of one-time challenges). Seen nonces are kept in memory. One process per depot.
 *
 * @example
 * ```ts
 * import { createScepPolicy, createScepServer, openFileDepot, staticChallenge } from '@mdmkit/scep';
 * const depot = await openFileDepot({ dir: './ca' });
 * const scep = createScepServer({
 *   ca: { certificate: depot.certificate, signer: depot.privateKey },
 *   store: depot,
 *   policy: createScepPolicy({ challenge: staticChallenge('secret') }),
 * });
 * ```
 */
export async function openFileDepot(options: FileDepotOptions): Promise<FileDepot> {
  const dir = options.dir;
  try {
    await mkdir(join(dir, 'certs'), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new ScepError('DEPOT_ERROR', `cannot create the CA directory ${dir}`, { cause });
  }
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  let certificate: Certificate;
  let privateKey: KeyObject;
  let created = false;
  const certPem = await readIfExists(certPath);
  const keyPem = await readIfExists(keyPath);
  if (certPem && keyPem) {
    try {
      certificate = parseCertificate(certPem.toString('utf8'));
    } catch (cause) {
      throw new ScepError('DEPOT_ERROR', `${certPath} is not a certificate`, { cause });
    }
    try {
      privateKey = createPrivateKey({
        key: keyPem,
        format: 'pem',
        ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
      });
    } catch (cause) {
      throw new ScepError('DEPOT_ERROR', `cannot read ${keyPath} (wrong or missing passphrase?)`, { cause });
    }
  } else if (certPem || keyPem) {
    throw new ScepError('DEPOT_ERROR', `${dir} has only one of ca.pem and ca.key`);
  } else {
    const key = await generateKeyPair({ type: 'rsa', bits: options.caKeyBits ?? 2048 });
    const ca = await createSelfSignedCa({
      subject: options.caSubject ?? 'CN=mdmkit SCEP CA',
      key,
      validityDays: options.caValidityDays ?? 3650,
    });
    certificate = ca.certificate;
    privateKey = ca.privateKey;
    const pem = privateKey.export(
      options.passphrase !== undefined
        ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase }
        : { type: 'pkcs8', format: 'pem' },
    );
    await writeAtomic(keyPath, pem, 0o600);
    await writeAtomic(certPath, certificate.pem, 0o644);
    created = true;
  }

  const bySubject = new Map<string, string[]>();
  const indexed = new Set<string>();
  const indexCertificates = async () => {
    for (const name of await readdir(join(dir, 'certs'))) {
      if (!name.endsWith('.json') || indexed.has(name)) continue;
      try {
        const meta = JSON.parse(await readFile(join(dir, 'certs', name), 'utf8')) as {
          serial: string;
          subject: string;
        };
        const list = bySubject.get(meta.subject) ?? [];
        if (!list.includes(meta.serial)) list.push(meta.serial);
        bySubject.set(meta.subject, list);
        indexed.add(name);
      } catch {
        // A damaged (or half-written) metadata file hides one record; it must not stop the server.
      }
    }
  };
  await indexCertificates();

  const challengesPath = join(dir, 'challenges.json');
  const challenges = new Map<string, number>();
  const stored = await readIfExists(challengesPath);
  if (stored) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(stored.toString('utf8')) as Record<string, number>)) {
        if (typeof v === 'number') challenges.set(k, v);
      }
    } catch {
      // Unreadable challenge file: start with none (fails closed).
    }
  }
  let challengeWrite: Promise<void> = Promise.resolve();
  const saveChallenges = () => {
    const t = Date.now();
    for (const [k, v] of challenges) if (v <= t) challenges.delete(k);
    const body = JSON.stringify(Object.fromEntries(challenges));
    challengeWrite = challengeWrite.then(() => writeAtomic(challengesPath, body, 0o600));
    return challengeWrite;
  };

  // Nonces are files created exclusively, so that several processes sharing the depot (cluster workers,
  // restarts) see each other's nonces: the first creation wins, every later one is a replay.
  const nonceDir = join(dir, 'nonces');
  await mkdir(nonceDir, { recursive: true, mode: 0o700 });
  let lastSweep = 0;
  const maxNonces = options.maxNonces ?? 100_000;
  // Shared with other processes on the same directory through the count of files it takes now and then.
  const nonceBudget = new SenderNonceBudget(maxNonces);
  const sweepNonces = async (t: number) => {
    lastSweep = t;
    for (const name of await readdir(nonceDir).catch(() => [] as string[])) {
      const body = await readIfExists(join(nonceDir, name)).catch(() => undefined);
      if (body && Number(body.toString('utf8')) <= t) await unlink(join(nonceDir, name)).catch(() => {});
    }
  };

  const getIssuedCertificate = async (serialHex: string): Promise<IssuedCertificateRecord | undefined> => {
    const serial = serialHex.toLowerCase().replace(/^(00)+/, '');
    if (!SERIAL.test(serial)) return undefined;
    const meta = await readIfExists(join(dir, 'certs', `${serial}.json`));
    const pem = await readIfExists(join(dir, 'certs', `${serial}.pem`));
    if (!meta || !pem) return undefined;
    const m = JSON.parse(meta.toString('utf8')) as {
      serial: string;
      subject: string;
      notBefore: string;
      notAfter: string;
      requester?: string;
      issuedAt: string;
    };
    return {
      serial: m.serial,
      subject: m.subject,
      notBefore: new Date(m.notBefore),
      notAfter: new Date(m.notAfter),
      ...(m.requester !== undefined ? { requester: m.requester } : {}),
      certificateDer: parseCertificate(pem.toString('utf8')).der,
      issuedAt: new Date(m.issuedAt),
    };
  };

  return {
    dir,
    certificate,
    privateKey,
    created,
    async putChallenge(hash, expiresAt) {
      challenges.set(hash, expiresAt.getTime());
      await saveChallenges();
    },
    async consumeChallenge(hash, now = new Date()) {
      const exp = challenges.get(hash);
      if (exp === undefined) return false;
      challenges.delete(hash);
      await saveChallenges();
      return exp > now.getTime();
    },
    async recordSenderNonce(nonceHex, expiresAt) {
      if (!/^[0-9a-f]{2,128}$/.test(nonceHex)) return false;
      const t = Date.now();
      if (t - lastSweep > 600_000) void sweepNonces(t);
      const path = join(nonceDir, nonceHex);
      const admitted = await nonceBudget.admit(async () => (await readdir(nonceDir)).length);
      if (!admitted) {
        // Full: a live nonce is still a replay; for anything else, sweep (now and then) and refuse.
        const seen = Number((await readIfExists(path))?.toString('utf8'));
        if (Number.isFinite(seen) && seen > t) return false;
        if (t - lastSweep > 10_000) await sweepNonces(t);
        throw senderNoncesFull(maxNonces);
      }
      try {
        // One synchronous call for a tiny file costs less than three round trips through the libuv pool
        // (open, write, close), where it would also queue behind the RSA work of concurrent requests.
        writeFileSync(path, String(expiresAt.getTime()), { flag: 'wx', mode: 0o600 });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const seen = Number((await readIfExists(path))?.toString('utf8'));
      if (Number.isFinite(seen) && seen > t) return false;
      // Expired record (or one cut short by a crash): this use is the new first one.
      await writeAtomic(path, String(expiresAt.getTime()), 0o600);
      return true;
    },
    async putIssuedCertificate(rec) {
      if (!SERIAL.test(rec.serial)) throw new ScepError('DEPOT_ERROR', 'invalid serial number');
      const cert = parseCertificate(rec.certificateDer);
      // Small files written synchronously: see recordSenderNonce.
      writeFileSync(join(dir, 'certs', `${rec.serial}.pem`), cert.pem, { mode: 0o644 });
      const meta = {
        serial: rec.serial,
        subject: rec.subject,
        notBefore: rec.notBefore.toISOString(),
        notAfter: rec.notAfter.toISOString(),
        ...(rec.requester !== undefined ? { requester: rec.requester } : {}),
        issuedAt: rec.issuedAt.toISOString(),
      };
      writeFileSync(join(dir, 'certs', `${rec.serial}.json`), `${JSON.stringify(meta)}\n`, { mode: 0o644 });
      const list = bySubject.get(rec.subject) ?? [];
      if (!list.includes(rec.serial)) list.push(rec.serial);
      bySubject.set(rec.subject, list);
    },
    getIssuedCertificate,
    async findIssuedCertificatesBySubject(subject) {
      // Rescan: another process sharing the depot may have issued since this one started.
      await indexCertificates();
      const out: IssuedCertificateRecord[] = [];
      for (const serial of bySubject.get(subject) ?? []) {
        const rec = await getIssuedCertificate(serial);
        if (rec) out.push(rec);
      }
      return out;
    },
  };
}
