import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CryptoError } from './errors';
import { withFileLock } from './file-lock';

/**
 * Wraps and unwraps data keys with a key-encryption key (KEK) held elsewhere: a local file, a KMS,
 * an HSM. `context` is associated data that must be bound to the wrapped key (AEAD AAD or the KMS
 * "encryption context"): unwrapping with another context must fail.
 *
 * @example
 * ```ts
 * const kmsProvider: KeyProvider = {
 *   id: 'aws-kms',
 *   async wrapKey(dataKey, context) {
 *     const r = await kms.encrypt({ KeyId: arn, Plaintext: dataKey, EncryptionContext: { c: b64(context) } });
 *     return { keyId: arn, wrapped: r.CiphertextBlob };
 *   },
 *   async unwrapKey(keyId, wrapped, context) {
 *     return (await kms.decrypt({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: { c: b64(context) } })).Plaintext;
 *   },
 * };
 * ```
 */
export interface KeyProvider {
  readonly id: string;
  wrapKey(dataKey: Uint8Array, context: Uint8Array): Promise<{ keyId: string; wrapped: Uint8Array }>;
  unwrapKey(keyId: string, wrapped: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
}

/** Which secret a sealed blob belongs to; bound into its associated data. */
export interface SealOptions {
  provider: KeyProvider;
  /** Who owns the secret, e.g. a device UDID or `scep-ca`. */
  owner: string;
  /** What the secret is, e.g. `filevault-prk`, `push-key`. */
  kind: string;
}

const MAGIC = Uint8Array.of(0x4d, 0x4b, 0x53, 0x01); // "MKS" v1
const IV_LEN = 12;
const TAG_LEN = 16;
const enc = new TextEncoder();

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

function context(owner: string, kind: string): Uint8Array {
  if (typeof owner !== 'string' || typeof kind !== 'string') {
    throw new CryptoError('SEALED_SECRET_INVALID', 'owner and kind must be strings');
  }
  const o = enc.encode(owner);
  const k = enc.encode(kind);
  if (o.length > 0xffff || k.length > 0xffff)
    throw new CryptoError('LIMIT_EXCEEDED', 'owner or kind too long');
  return Buffer.concat([enc.encode('mdmkit.sealed.v1\0'), u16(o.length), o, u16(k.length), k]);
}

interface SealedParts {
  providerId: string;
  keyId: string;
  wrapped: Uint8Array;
  /** iv + ciphertext + tag, untouched by rewrapping. */
  payload: Uint8Array;
}

function encodeSealed(p: SealedParts): Uint8Array {
  const pid = enc.encode(p.providerId);
  const kid = enc.encode(p.keyId);
  if (pid.length > 0xff || kid.length > 0xffff || p.wrapped.length > 0xffff) {
    throw new CryptoError('KEY_PROVIDER_FAILED', 'provider id, key id or wrapped key too long');
  }
  return Buffer.concat([
    MAGIC,
    Uint8Array.of(pid.length),
    pid,
    u16(kid.length),
    kid,
    u16(p.wrapped.length),
    p.wrapped,
    p.payload,
  ]);
}

function decodeSealed(b: Uint8Array): SealedParts {
  const bad = () => new CryptoError('SEALED_SECRET_INVALID', 'not a sealed secret or truncated');
  if (!(b instanceof Uint8Array) || b.length < MAGIC.length + 1) throw bad();
  for (let i = 0; i < MAGIC.length; i++) if (b[i] !== MAGIC[i]) throw bad();
  let o = MAGIC.length;
  const take = (n: number) => {
    if (o + n > b.length) throw bad();
    const v = b.subarray(o, o + n);
    o += n;
    return v;
  };
  const dec = new TextDecoder();
  const providerId = dec.decode(take(take(1)[0]!));
  const kl = take(2);
  const keyId = dec.decode(take((kl[0]! << 8) | kl[1]!));
  const wl = take(2);
  const wrapped = take((wl[0]! << 8) | wl[1]!);
  const payload = b.subarray(o);
  if (payload.length < IV_LEN + TAG_LEN) throw bad();
  return { providerId, keyId, wrapped, payload };
}

/**
 * Encrypts a secret with a fresh AES-256-GCM data key, wraps the data key with `provider`, and binds
 * both to `owner` and `kind` (opening with another owner or kind fails). Returns one self-describing blob.
 *
 * @example
 * ```ts
 * const provider = await createLocalKeyProvider({ path: '/var/lib/mdm/master.key' });
 * const sealed = await sealSecret(prk, { provider, owner: udid, kind: 'filevault-prk' });
 * const prkAgain = await openSecret(sealed, { provider, owner: udid, kind: 'filevault-prk' });
 * ```
 */
export async function sealSecret(plaintext: Uint8Array, opts: SealOptions): Promise<Uint8Array> {
  if (!(plaintext instanceof Uint8Array))
    throw new CryptoError('SEALED_SECRET_INVALID', 'plaintext must be bytes');
  const ctx = context(opts.owner, opts.kind);
  const dataKey = randomBytes(32);
  try {
    const iv = randomBytes(IV_LEN);
    const c = createCipheriv('aes-256-gcm', dataKey, iv);
    c.setAAD(ctx);
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const payload = Buffer.concat([iv, ct, c.getAuthTag()]);
    let w: { keyId: string; wrapped: Uint8Array };
    try {
      w = await opts.provider.wrapKey(dataKey, ctx);
    } catch (e) {
      throw e instanceof CryptoError
        ? e
        : new CryptoError('KEY_PROVIDER_FAILED', 'wrapKey failed', { cause: e });
    }
    return encodeSealed({ providerId: opts.provider.id, keyId: w.keyId, wrapped: w.wrapped, payload });
  } finally {
    dataKey.fill(0);
  }
}

async function unwrap(parts: SealedParts, provider: KeyProvider, ctx: Uint8Array): Promise<Uint8Array> {
  if (parts.providerId !== provider.id) {
    throw new CryptoError('SEALED_SECRET_INVALID', `sealed with key provider "${parts.providerId}"`);
  }
  try {
    const k = await provider.unwrapKey(parts.keyId, parts.wrapped, ctx);
    if (!(k instanceof Uint8Array) || k.length !== 32) throw new Error('unwrapped key has the wrong length');
    return k;
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError('KEY_PROVIDER_FAILED', 'unwrapKey failed', { cause: e });
  }
}

/**
 * Decrypts a blob made by {@link sealSecret}. Throws `CryptoError` `SEALED_SECRET_INVALID` when the
 * blob, owner, kind or key does not match (without saying which), `KEY_PROVIDER_FAILED` when the
 * provider itself fails.
 *
 * @example
 * ```ts
 * const key = await openSecret(row.sealedKey, { provider, owner: 'apns', kind: 'push-key' });
 * ```
 */
export async function openSecret(sealed: Uint8Array, opts: SealOptions): Promise<Uint8Array> {
  const parts = decodeSealed(sealed);
  const ctx = context(opts.owner, opts.kind);
  const dataKey = await unwrap(parts, opts.provider, ctx);
  try {
    const iv = parts.payload.subarray(0, IV_LEN);
    const tag = parts.payload.subarray(parts.payload.length - TAG_LEN);
    const ct = parts.payload.subarray(IV_LEN, parts.payload.length - TAG_LEN);
    const d = createDecipheriv('aes-256-gcm', dataKey, iv);
    d.setAAD(ctx);
    d.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([d.update(ct), d.final()]));
  } catch (e) {
    throw new CryptoError('SEALED_SECRET_INVALID', 'sealed secret does not open', { cause: e });
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Re-wraps the data key of a sealed blob under another provider or KEK (key rotation) without
 * touching the encrypted payload. With a local provider, call `rotate()` first and pass it as both
 * `from` and `to`.
 *
 * @example
 * ```ts
 * await provider.rotate();
 * const rewrapped = await rewrapSecret(sealed, { from: provider, to: provider, owner, kind });
 * ```
 */
export async function rewrapSecret(
  sealed: Uint8Array,
  opts: { from: KeyProvider; to: KeyProvider; owner: string; kind: string },
): Promise<Uint8Array> {
  const parts = decodeSealed(sealed);
  const ctx = context(opts.owner, opts.kind);
  const dataKey = await unwrap(parts, opts.from, ctx);
  try {
    // Prove the data key opens the payload before committing to the new wrapping.
    const iv = parts.payload.subarray(0, IV_LEN);
    const d = createDecipheriv('aes-256-gcm', dataKey, iv);
    d.setAAD(ctx);
    d.setAuthTag(parts.payload.subarray(parts.payload.length - TAG_LEN));
    d.update(parts.payload.subarray(IV_LEN, parts.payload.length - TAG_LEN));
    try {
      d.final();
    } catch (e) {
      throw new CryptoError('SEALED_SECRET_INVALID', 'sealed secret does not open', { cause: e });
    }
    let w: { keyId: string; wrapped: Uint8Array };
    try {
      w = await opts.to.wrapKey(dataKey, ctx);
    } catch (e) {
      throw e instanceof CryptoError
        ? e
        : new CryptoError('KEY_PROVIDER_FAILED', 'wrapKey failed', { cause: e });
    }
    return encodeSealed({
      providerId: opts.to.id,
      keyId: w.keyId,
      wrapped: w.wrapped,
      payload: parts.payload,
    });
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The key id a sealed blob was wrapped with (to find blobs still under an old KEK).
 *
 * @example
 * ```ts
 * if (sealedKeyId(row.sealed).keyId !== provider.currentKeyId) row.sealed = await rewrapSecret(row.sealed, { from: provider, to: provider, owner, kind });
 * ```
 */
export function sealedKeyId(sealed: Uint8Array): { providerId: string; keyId: string } {
  const p = decodeSealed(sealed);
  return { providerId: p.providerId, keyId: p.keyId };
}

function aesWrap(kek: Uint8Array, dataKey: Uint8Array, ctx: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(ctx);
  return Buffer.concat([iv, c.update(dataKey), c.final(), c.getAuthTag()]);
}

function aesUnwrap(kek: Uint8Array, wrapped: Uint8Array, ctx: Uint8Array): Uint8Array {
  if (wrapped.length !== IV_LEN + 32 + TAG_LEN)
    throw new CryptoError('SEALED_SECRET_INVALID', 'sealed secret does not open');
  try {
    const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, IV_LEN));
    d.setAAD(ctx);
    d.setAuthTag(wrapped.subarray(IV_LEN + 32));
    return new Uint8Array(Buffer.concat([d.update(wrapped.subarray(IV_LEN, IV_LEN + 32)), d.final()]));
  } catch (e) {
    throw new CryptoError('SEALED_SECRET_INVALID', 'sealed secret does not open', { cause: e });
  }
}

function staticKeyId(key: Uint8Array): string {
  return createHash('sha256').update('mdmkit.kek.id').update(key).digest('hex').slice(0, 16);
}

/**
 * A provider with one fixed 32-byte KEK held in memory, for tests or when the KEK comes from an
 * environment secret.
 *
 * @example
 * ```ts
 * const provider = createStaticKeyProvider(Buffer.from(process.env.MDM_KEK!, 'base64'));
 * ```
 */
export function createStaticKeyProvider(key: Uint8Array, opts: { id?: string } = {}): KeyProvider {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new CryptoError('KEY_PROVIDER_FAILED', 'a static KEK must be 32 bytes');
  }
  const kek = Uint8Array.from(key);
  const keyId = staticKeyId(kek);
  return {
    id: opts.id ?? 'static',
    async wrapKey(dataKey, ctx) {
      return { keyId, wrapped: aesWrap(kek, dataKey, ctx) };
    },
    async unwrapKey(id, wrapped, ctx) {
      if (id !== keyId) throw new CryptoError('SEALED_SECRET_INVALID', 'sealed under another key');
      return aesUnwrap(kek, wrapped, ctx);
    },
  };
}

/** A {@link KeyProvider} backed by a local key file, with KEK rotation. */
export interface LocalKeyProvider extends KeyProvider {
  /** The key id new secrets are wrapped with. */
  readonly currentKeyId: string;
  /** Every key id in the file (current and retired-but-kept). */
  keyIds(): string[];
  /** Adds a new KEK, makes it current, persists the file; returns its id. Old KEKs still unwrap. */
  rotate(): Promise<string>;
  /** Removes an old KEK once nothing is wrapped with it any more (never the current one). */
  retire(keyId: string): Promise<void>;
}

interface KeyFile {
  version: 1;
  current: string;
  keys: Record<string, { key: string; created: string }>;
}

/** A key file bigger than this is refused (about ten thousand keys). */
const KEY_FILE_MAX_BYTES = 1024 * 1024;
/** How often a provider looks at the file for another process's rotation before wrapping. */
const FOLLOW_INTERVAL_MS = 1000;

/** Writes the file's full text to a new temporary file beside `path`, synced; returns its name. */
async function writeTemp(path: string, data: KeyFile): Promise<string> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(data, null, 2)}\n`);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Makes a rename or link in `path`'s directory durable (where the platform allows it). */
async function syncDirectory(path: string): Promise<void> {
  try {
    const dh = await open(dirname(path), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // not supported for directories on every platform
  }
}

/**
 * Replaces the key file in one step: readers see the old file or the new one, never a part. Call it
 * only while holding the file's lock, so that no other process's change is overwritten.
 */
async function replaceKeyFile(path: string, data: KeyFile): Promise<void> {
  const tmp = await writeTemp(path, data);
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(path);
}

/**
 * Publishes a first key file only if none exists, complete or not at all (a hard link fails when the
 * name is taken), so that a process starting at the same moment never reads a half-written file.
 * Returns false when another process created it first.
 */
async function createKeyFile(path: string, data: KeyFile): Promise<boolean> {
  const tmp = await writeTemp(path, data);
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await syncDirectory(path);
  return true;
}

function newKey(): { id: string; key: string; created: string } {
  return {
    id: randomBytes(8).toString('hex'),
    key: randomBytes(32).toString('base64'),
    created: new Date().toISOString(),
  };
}

function parseKeyFile(text: string): KeyFile {
  const bad = () => new CryptoError('KEY_PROVIDER_FAILED', 'the key file is not valid');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new CryptoError('KEY_PROVIDER_FAILED', 'the key file is not valid JSON', { cause: e });
  }
  const f = data as KeyFile;
  if (f?.version !== 1 || typeof f.current !== 'string' || typeof f.keys !== 'object' || !f.keys) throw bad();
  for (const [id, k] of Object.entries(f.keys)) {
    if (
      !/^[0-9a-f]{16}$/.test(id) ||
      typeof k?.key !== 'string' ||
      Buffer.from(k.key, 'base64').length !== 32
    ) {
      throw bad();
    }
  }
  if (!Object.hasOwn(f.keys, f.current)) throw bad();
  return f;
}

/** One version of the key file as read, with what identifies that version on disk. */
interface KeyFileVersion {
  file: KeyFile;
  /** Inode, size and modification time: a replaced file has another inode. */
  stamp: string;
}

function stampOf(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}

/**
 * Reads and checks the key file through one handle, so that the stamp belongs to the text read.
 * Refuses a file readable by group or others, and one over {@link KEY_FILE_MAX_BYTES}.
 */
async function readKeyFile(path: string): Promise<KeyFileVersion> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat({ bigint: true });
    if (process.platform !== 'win32' && (st.mode & 0o077n) !== 0n) {
      throw new CryptoError(
        'KEY_PROVIDER_FAILED',
        `key file ${path} is accessible by group or others (mode ${(st.mode & 0o777n).toString(8)}); chmod 600 it`,
      );
    }
    if (st.size > KEY_FILE_MAX_BYTES) {
      throw new CryptoError('LIMIT_EXCEEDED', `key file ${path} is larger than ${KEY_FILE_MAX_BYTES} bytes`);
    }
    return { file: parseKeyFile(await fh.readFile('utf8')), stamp: stampOf(st) };
  } finally {
    await fh.close();
  }
}

async function statStamp(path: string): Promise<string> {
  return stampOf(await stat(path, { bigint: true }));
}

function providerFailure(message: string, e: unknown): CryptoError {
  return e instanceof CryptoError ? e : new CryptoError('KEY_PROVIDER_FAILED', message, { cause: e });
}

/**
 * A provider whose KEKs live in a JSON file at `path`, created with mode 0600 on first use (the
 * directory is created 0700 if missing). Refuses a file readable by group or others, or larger than
 * 1 MiB. Supports rotation: `rotate()` adds a KEK, `rewrapSecret` moves blobs to it, `retire()`
 * drops the old one.
 *
 * Several processes may share the file. `rotate()` and `retire()` take a lock (`<path>.lock`),
 * re-read the file, change it and replace it atomically, so that no process's key is lost. A
 * process that meets a key id it does not know re-reads the file (when it changed) before failing,
 * and before wrapping it looks for another process's rotation at most once a second, so that new
 * secrets follow the current key.
 *
 * @example
 * ```ts
 * const provider = await createLocalKeyProvider({ path: '/var/lib/mdm/master.key' });
 * const oldId = provider.currentKeyId;
 * await provider.rotate();
 * for (const row of rows) row.sealed = await rewrapSecret(row.sealed, { from: provider, to: provider, owner: row.owner, kind: row.kind });
 * await provider.retire(oldId);
 * ```
 */
export async function createLocalKeyProvider(opts: { path: string; id?: string }): Promise<LocalKeyProvider> {
  const { path } = opts;
  let loaded: KeyFileVersion;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    loaded = await readKeyFile(path).catch(async (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const k = newKey();
      // Whether ours or another process's first file won, read back the one that is there.
      await createKeyFile(path, {
        version: 1,
        current: k.id,
        keys: { [k.id]: { key: k.key, created: k.created } },
      });
      return readKeyFile(path);
    });
  } catch (e) {
    throw providerFailure(`cannot use key file ${path}`, e);
  }

  let file = loaded.file;
  let stamp = loaded.stamp;
  let keys = new Map<string, Uint8Array>();
  let current = file.current;
  let checkedAt = Date.now();
  let reloading: Promise<void> | undefined;
  /** Rotations and retirements of this provider, one at a time (the file lock covers other processes). */
  let changes: Promise<unknown> = Promise.resolve();

  const install = (v: KeyFileVersion): void => {
    file = v.file;
    stamp = v.stamp;
    keys = new Map(
      Object.entries(v.file.keys).map(([id, k]) => [id, new Uint8Array(Buffer.from(k.key, 'base64'))]),
    );
    current = v.file.current;
  };
  install(loaded);

  /** Re-reads the file if another process replaced it; concurrent callers share one read. */
  const refresh = (): Promise<void> => {
    reloading ??= (async () => {
      try {
        checkedAt = Date.now();
        if ((await statStamp(path)) === stamp) return;
        install(await readKeyFile(path));
      } catch (e) {
        throw providerFailure(`cannot read key file ${path}`, e);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  /** Runs `change` on the freshest file under the lock and installs what it wrote. */
  const modify = <T>(change: (fresh: KeyFile) => { next?: KeyFile; result: T }): Promise<T> => {
    const run = changes.then(() =>
      withFileLock(path, async () => {
        let fresh: KeyFileVersion;
        try {
          fresh = await readKeyFile(path);
        } catch (e) {
          throw providerFailure(`cannot read key file ${path}`, e);
        }
        const { next, result } = change(fresh.file);
        if (!next) {
          install(fresh);
          return result;
        }
        try {
          await replaceKeyFile(path, next);
          install({ file: next, stamp: await statStamp(path) });
        } catch (e) {
          throw providerFailure(`cannot write key file ${path}`, e);
        }
        return result;
      }),
    );
    changes = run.catch(() => undefined);
    return run;
  };

  return {
    id: opts.id ?? 'local',
    get currentKeyId() {
      return current;
    },
    keyIds: () => [...keys.keys()],
    async wrapKey(dataKey, ctx) {
      if (Date.now() - checkedAt >= FOLLOW_INTERVAL_MS) {
        // Following another process's rotation is best effort: the key already loaded still seals
        // secrets that open, so a file that cannot be read right now must not stop sealing.
        await refresh().catch(() => undefined);
      }
      return { keyId: current, wrapped: aesWrap(keys.get(current)!, dataKey, ctx) };
    },
    async unwrapKey(keyId, wrapped, ctx) {
      // Another process may have rotated since this one read the file.
      if (!keys.has(keyId)) await refresh();
      const kek = keys.get(keyId);
      if (!kek) throw new CryptoError('SEALED_SECRET_INVALID', 'sealed under an unknown or retired key');
      return aesUnwrap(kek, wrapped, ctx);
    },
    rotate() {
      return modify((fresh) => {
        const k = newKey();
        return {
          next: {
            ...fresh,
            current: k.id,
            keys: { ...fresh.keys, [k.id]: { key: k.key, created: k.created } },
          },
          result: k.id,
        };
      });
    },
    retire(keyId) {
      return modify((fresh) => {
        if (keyId === fresh.current) {
          throw new CryptoError('KEY_PROVIDER_FAILED', 'cannot retire the current key');
        }
        if (!Object.hasOwn(fresh.keys, keyId)) return { result: undefined };
        const { [keyId]: _removed, ...rest } = fresh.keys;
        return { next: { ...fresh, keys: rest }, result: undefined };
      });
    },
  };
}
