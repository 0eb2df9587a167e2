import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  createSelfSignedCa,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  issueCertificate,
  type KeyProvider,
  openSecret,
  parseCertificate,
  sealSecret,
} from '@mdmkit/crypto';
import { createLocalCa, openLocalCa, type ScepCa } from '@mdmkit/scep';
import { isStorageError, type SecretStore } from '@mdmkit/storage';
import { SERVER_OWNER } from './stores';

/** A certificate with its private key, opened from the secret store. */
export interface Identity {
  certificate: Certificate;
  privateKey: KeyObject;
}

/**
 * Reads the sealed row `kind` of the server, or creates it with `create` on first use. Two processes
 * starting at once both create one; the create-only write lets exactly one win and the other reads it.
 */
async function sealedRow(
  secrets: SecretStore,
  provider: KeyProvider,
  kind: string,
  create: () => Promise<Uint8Array>,
): Promise<{ plain: Uint8Array; created: boolean }> {
  const context = { provider, owner: SERVER_OWNER, kind };
  const existing = await secrets.getSecret(SERVER_OWNER, kind);
  if (existing) return { plain: await openSecret(existing.sealed, context), created: false };
  const plain = await create();
  try {
    await secrets.putSecret({
      owner: SERVER_OWNER,
      kind,
      sealed: await sealSecret(plain, context),
      expectedVersion: 0,
    });
    return { plain, created: true };
  } catch (e) {
    if (!isStorageError(e) || e.code !== 'CONFLICT') throw e;
    const winner = await secrets.getSecret(SERVER_OWNER, kind);
    if (!winner) throw e;
    return { plain: await openSecret(winner.sealed, context), created: false };
  }
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

async function identityRow(
  secrets: SecretStore,
  provider: KeyProvider,
  kind: string,
  create: () => Promise<Identity>,
): Promise<Identity & { created: boolean }> {
  const { plain, created } = await sealedRow(secrets, provider, kind, async () => {
    const id = await create();
    return encode({ certificate: id.certificate.pem, key: exportPrivateKey(id.privateKey, 'pkcs8-pem') });
  });
  const row = decode<{ certificate: string; key: string }>(plain);
  plain.fill(0);
  return { certificate: parseCertificate(row.certificate), privateKey: importPrivateKey(row.key), created };
}

/**
 * The SCEP CA that issues device identities: made by `@mdmkit/scep`'s `createLocalCa` on first start,
 * its key sealed by the key provider, and kept (sealed once more as a whole) in the secret store, so
 * that every replica on one database issues from the same CA.
 *
 * @example
 * ```ts
 * const { ca, created } = await loadScepCa(storage, keyProvider);
 * ```
 */
export async function loadScepCa(
  secrets: SecretStore,
  provider: KeyProvider,
): Promise<{ ca: ScepCa; created: boolean }> {
  const { plain, created } = await sealedRow(secrets, provider, 'scep-ca', async () => {
    const local = await createLocalCa({ provider, subject: 'CN=mdmkit-server device CA' });
    return encode({
      certificate: local.certificate.pem,
      sealedKey: Buffer.from(local.sealedKey).toString('base64'),
    });
  });
  const row = decode<{ certificate: string; sealedKey: string }>(plain);
  const certificate = parseCertificate(row.certificate);
  const ca = await openLocalCa({
    certificate,
    sealedKey: new Uint8Array(Buffer.from(row.sealedKey, 'base64')),
    provider,
  });
  return { ca, created };
}

/**
 * The identity that signs enrollment profiles (a self-signed certificate; devices show the profile as
 * signed, and as verified once you replace it with one from a public CA).
 *
 * @example
 * ```ts
 * const signer = await loadProfileSigner(storage, keyProvider);
 * ```
 */
export function loadProfileSigner(
  secrets: SecretStore,
  provider: KeyProvider,
): Promise<Identity & { created: boolean }> {
  return identityRow(secrets, provider, 'profile-signer', () =>
    createSelfSignedCa({ subject: 'CN=mdmkit-server profile signing' }),
  );
}

const LOCAL_NAMES = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

function covers(certificate: Certificate, host: string): boolean {
  const san = certificate.subjectAltNames;
  return Boolean(san?.dns?.includes(host) || san?.ip?.includes(host));
}

/**
 * A self-signed TLS certificate for local use, valid for localhost, 127.0.0.1, ::1 and `host`; made
 * again when `host` is not among its names or it expires within a week.
 *
 * @example
 * ```ts
 * const tls = await loadSelfSignedTls(storage, keyProvider, 'localhost');
 * ```
 */
export async function loadSelfSignedTls(
  secrets: SecretStore,
  provider: KeyProvider,
  host: string,
  now = new Date(),
): Promise<Identity & { created: boolean }> {
  const kind = `tls-self-signed:${host.toLowerCase()}`;
  const make = async (): Promise<Identity> => {
    const key = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const isIp = /^[0-9.]+$|:/.test(host);
    const certificate = await issueCertificate({
      subject: `CN=${host}`,
      publicKey: key.publicKey,
      issuerKey: key.privateKey,
      validityDays: 397,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['serverAuth'],
      subjectAltNames: {
        dns: [...new Set([...LOCAL_NAMES.dns, ...(isIp ? [] : [host])])],
        ip: [...new Set([...LOCAL_NAMES.ip, ...(isIp ? [host] : [])])],
      },
    });
    return { certificate, privateKey: key.privateKey };
  };
  const found = await identityRow(secrets, provider, kind, make);
  const fresh = found.certificate.notAfter.getTime() - now.getTime() > 7 * 86_400_000;
  if (fresh && covers(found.certificate, host)) return found;
  const made = await make();
  const sealed = await sealSecret(
    encode({ certificate: made.certificate.pem, key: exportPrivateKey(made.privateKey, 'pkcs8-pem') }),
    { provider, owner: SERVER_OWNER, kind },
  );
  await secrets.putSecret({ owner: SERVER_OWNER, kind, sealed });
  return { ...made, created: true };
}
