import { createPrivateKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Certificate,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyProvider,
  type NameInput,
  openSecret,
  parseCertificate,
  sealSecret,
} from '@mdmkit/crypto';
import { caKeySealContext } from './ca';
import { SenderNonceBudget } from '@mdmkit/storage';
import { ScepError } from './errors';
import type { IssuedCertificateRecord, ScepStore } from './store';

/** Options of {@link openFileDepot}. */
export interface FileDepotOptions {
  /** The directory; created when missing. */
  dir: string;
  /**
   * Seals the CA key (`ca.key.sealed`) through `@mdmkit/crypto` sealed secrets. Keep what it holds apart
   * from the directory: a local key file elsewhere, an environment secret, or a KMS behind your own
   * `KeyProvider` — a key-encryption key beside the sealed key protects nothing.
   */
  keyProvider: KeyProvider;
  /** Only to migrate a passphrase-protected plain `ca.key` from an earlier version. */
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
  /** Whether this call sealed a plain `ca.key` it found and removed the plain file. */
  readonly migrated: boolean;
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

async function openSealedKey(
  blob: Uint8Array,
  certificate: Certificate,
  provider: KeyProvider,
  path: string,
): Promise<KeyObject> {
  let pkcs8: Uint8Array;
  try {
    pkcs8 = await openSecret(blob, { provider, ...caKeySealContext(certificate) });
  } catch (cause) {
    throw new ScepError(
      'DEPOT_ERROR',
      `cannot open ${path} with this key provider (wrong key-encryption key?)`,
      {
        cause,
      },
    );
  }
  try {
    return importPrivateKey(pkcs8);
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Opens (or, on first use, creates) a CA depot in a directory: `ca.pem`, `ca.key.sealed` (the CA key
 * sealed through `keyProvider`, mode 0600), `certs/<serial>.pem` with `certs/<serial>.json` metadata,
 * `challenges.json` (hashes of one-time challenges) and `nonces/` (one file per live sender nonce, at
 * most `maxNonces`). A plain `ca.key` from an earlier version is sealed on open and then deleted.
 * Several processes may share a depot.
 *
 * @example
 * ```ts
 * import { createScepPolicy, createScepServer, openFileDepot, staticChallenge } from '@mdmkit/scep';
 * import { createLocalKeyProvider } from '@mdmkit/crypto';
 * // The key-encryption key lives outside the CA directory.
 * const keyProvider = await createLocalKeyProvider({ path: '/etc/mdmkit/scep-kek' });
 * const depot = await openFileDepot({ dir: './ca', keyProvider });
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
  const sealedPath = join(dir, 'ca.key.sealed');
  const plainPath = join(dir, 'ca.key');
  let certificate: Certificate;
  let privateKey: KeyObject;
  let created = false;
  let migrated = false;
  const certPem = await readIfExists(certPath);
  const sealed = await readIfExists(sealedPath);
  const plain = await readIfExists(plainPath);
  const seal = async (key: KeyObject) => {
    const pkcs8 = exportPrivateKey(key, 'pkcs8-der') as Uint8Array;
    try {
      const blob = await sealSecret(pkcs8, {
        provider: options.keyProvider,
        ...caKeySealContext(certificate),
      });
      await writeAtomic(sealedPath, blob, 0o600);
    } finally {
      pkcs8.fill(0);
    }
  };
  if (certPem && (sealed || plain)) {
    try {
      certificate = parseCertificate(certPem.toString('utf8'));
    } catch (cause) {
      throw new ScepError('DEPOT_ERROR', `${certPath} is not a certificate`, { cause });
    }
    if (sealed) {
      privateKey = await openSealedKey(sealed, certificate, options.keyProvider, sealedPath);
    } else {
      try {
        privateKey = createPrivateKey({
          key: plain!,
          format: 'pem',
          ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
        });
      } catch (cause) {
        throw new ScepError('DEPOT_ERROR', `cannot read ${plainPath} (wrong or missing passphrase?)`, {
          cause,
        });
      }
      // Migrate: seal, prove the sealed copy opens to the same key, and only then drop the plain file.
      await seal(privateKey);
      const check = await openSealedKey(
        await readFile(sealedPath),
        certificate,
        options.keyProvider,
        sealedPath,
      );
      if (!check.equals(privateKey))
        throw new ScepError('DEPOT_ERROR', `sealing ${plainPath} did not round-trip`);
      migrated = true;
    }
    // A plain key left beside a sealed one (e.g. by a migration cut short) must not stay on disk.
    if (plain) await unlink(plainPath);
  } else if (certPem || sealed || plain) {
    throw new ScepError('DEPOT_ERROR', `${dir} has a CA key without ca.pem, or ca.pem without a key`);
  } else {
    const key = await generateKeyPair({ type: 'rsa', bits: options.caKeyBits ?? 2048 });
    const ca = await createSelfSignedCa({
      subject: options.caSubject ?? 'CN=mdmkit SCEP CA',
      key,
      validityDays: options.caValidityDays ?? 3650,
    });
    certificate = ca.certificate;
    privateKey = ca.privateKey;
    await seal(privateKey);
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
    migrated,
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
      const gate = await nonceBudget.gate({
        countLive: async () => (await readdir(nonceDir)).length,
        isLive: async () => {
          const seen = Number((await readIfExists(path))?.toString('utf8'));
          if (Number.isFinite(seen) && seen > t) return true;
          // Full of files, some perhaps expired: sweep now and then so that room comes back.
          if (t - lastSweep > 10_000) await sweepNonces(t);
          return false;
        },
      });
      if (gate === 'replay') return false;
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
