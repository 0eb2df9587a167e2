import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  issueCertificate,
  type KeyProvider,
  type NameInput,
  openSecret,
  parseCertificate,
  type RecipientKey,
  sealedKeyId,
  sealSecret,
} from '@mdmkit/crypto';
import { isStorageError, type SecretRecord, type SecretStore } from '@mdmkit/storage';
import { EscrowError } from './errors';
import { type EscrowLogger, silentLogger } from './logger';

/** The owner under which escrow identities are kept in the secret store. */
export const ESCROW_IDENTITY_OWNER = 'mdmkit:filevault-escrow';
const KIND_PREFIX = 'identity:';

/** One escrow certificate and its private key; the key never leaves this module. */
interface EscrowIdentity {
  certificate: Certificate;
  privateKey: KeyObject;
}

/** What the keyring hands out about one escrow identity: the certificate only. */
export interface EscrowCertificate {
  certificate: Certificate;
}

/** Options of {@link createEscrowKeyring}. */
export interface EscrowKeyringOptions {
  /** Where identities are kept, sealed (private key and certificate together). */
  secrets: SecretStore;
  /** Seals new identities. */
  keyProvider: KeyProvider;
  /**
   * Providers that may still open identities during a move to `keyProvider` (matched by their `id`),
   * the same ones given to the vault whose `rewrapAll` moves these rows.
   */
  previousKeyProviders?: readonly KeyProvider[];
  /** Subject of new certificates. Default `CN=FileVault Recovery Key Escrow`. */
  subject?: NameInput;
  /** Validity of new certificates in days. Default 1825 (five years). */
  validityDays?: number;
  logger?: EscrowLogger;
}

/**
 * The server's FileVault escrow certificates. Macs encrypt their recovery key to the certificate in
 * the profile, and the CMS names its recipient by issuer and serial number; a renewed certificate has a
 * new serial, so every earlier identity is kept and tried, and keys escrowed under any of them still
 * decrypt.
 *
 * The private keys are never handed out: with one, the SecurityInfo reports a command queue keeps
 * would open without an audit event. Only this package's escrow functions decrypt with them.
 */
export interface EscrowKeyring {
  /** The newest certificate, created on first use. */
  current(): Promise<EscrowCertificate>;
  /** Adds a new identity and makes its certificate current; the previous ones stay. */
  renew(): Promise<EscrowCertificate>;
  /** Every escrow certificate, newest first. */
  certificates(): Promise<Certificate[]>;
}

/** The CMS recipients (certificate and private key) behind each keyring this module created. */
const recipientsOf = new WeakMap<EscrowKeyring, () => Promise<RecipientKey<Certificate>[]>>();

/**
 * Every identity of a keyring made by {@link createEscrowKeyring}, newest first, as CMS recipients.
 * Internal (not exported from the package): the escrow functions decrypt with it and store the result
 * at once through the vault.
 *
 * @example
 * ```ts
 * const { content } = await decryptCms(cms, { recipients: await escrowRecipients(keyring) });
 * ```
 */
export function escrowRecipients(keyring: EscrowKeyring): Promise<RecipientKey<Certificate>[]> {
  const recipients = recipientsOf.get(keyring);
  if (!recipients) {
    throw new EscrowError('INVALID_INPUT', 'the keyring was not made by createEscrowKeyring');
  }
  return recipients();
}

/** The stored form: certificate DER length (4 bytes), certificate DER, PKCS#8 DER of the key. */
function encodeIdentity(id: EscrowIdentity): Uint8Array {
  const key = exportPrivateKey(id.privateKey, 'pkcs8-der') as Uint8Array;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(id.certificate.der.length);
  return Buffer.concat([len, id.certificate.der, key]);
}

function decodeIdentity(b: Uint8Array): EscrowIdentity {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const n = buf.readUInt32BE(0);
  const certificate = parseCertificate(new Uint8Array(buf.subarray(4, 4 + n)));
  const privateKey = importPrivateKey(new Uint8Array(buf.subarray(4 + n)));
  return { certificate, privateKey };
}

/**
 * Creates the keyring over a secret store. Identities are sealed with the key provider, bound to
 * their own row.
 *
 * @example
 * ```ts
 * const keyring = createEscrowKeyring({ secrets: storage, keyProvider });
 * const { certificate } = await keyring.current(); // goes into the FileVault profile
 * ```
 */
export function createEscrowKeyring(options: EscrowKeyringOptions): EscrowKeyring {
  const { secrets, keyProvider } = options;
  const logger = options.logger ?? silentLogger;
  const cache = new Map<string, EscrowIdentity>();
  const providers = new Map<string, KeyProvider>();
  for (const p of options.previousKeyProviders ?? []) providers.set(p.id, p);
  providers.set(keyProvider.id, keyProvider);

  const open = async (rec: SecretRecord): Promise<EscrowIdentity> => {
    const hit = cache.get(`${rec.kind}@${rec.version}`);
    if (hit) return hit;
    try {
      const provider = providers.get(sealedKeyId(rec.sealed).providerId) ?? keyProvider;
      const plain = await openSecret(rec.sealed, { provider, owner: rec.owner, kind: rec.kind });
      const id = decodeIdentity(plain);
      plain.fill(0);
      cache.set(`${rec.kind}@${rec.version}`, id);
      return id;
    } catch (e) {
      throw new EscrowError('SECRET_UNREADABLE', `escrow identity ${rec.kind} does not open`, { cause: e });
    }
  };

  const list = async (): Promise<SecretRecord[]> => {
    const rows: SecretRecord[] = [];
    let after: string | undefined;
    do {
      const page = await secrets.listSecrets({
        owner: ESCROW_IDENTITY_OWNER,
        ...(after !== undefined && { after }),
      });
      rows.push(...page.items.filter((r) => r.kind.startsWith(KIND_PREFIX)));
      after = page.next;
    } while (after !== undefined);
    // Kinds start with a fixed-width creation time, so reverse order is newest first.
    return rows.sort((a, b) => (a.kind < b.kind ? 1 : a.kind > b.kind ? -1 : 0));
  };

  const create = async (): Promise<EscrowIdentity> => {
    const keys = await generateKeyPair({ type: 'rsa', bits: 2048 });
    const certificate = await issueCertificate({
      subject: options.subject ?? 'CN=FileVault Recovery Key Escrow',
      publicKey: keys.publicKey,
      issuerKey: keys.privateKey,
      validityDays: options.validityDays ?? 1825,
      keyUsage: ['keyEncipherment', 'dataEncipherment'],
    });
    const identity = { certificate, privateKey: keys.privateKey };
    const kind = `${KIND_PREFIX}${String(Date.now()).padStart(15, '0')}:${certificate.serialNumber}`;
    const sealed = await sealSecret(encodeIdentity(identity), {
      provider: keyProvider,
      owner: ESCROW_IDENTITY_OWNER,
      kind,
    });
    try {
      await secrets.putSecret({ owner: ESCROW_IDENTITY_OWNER, kind, sealed, expectedVersion: 0 });
    } catch (e) {
      if (isStorageError(e, 'CONFLICT'))
        throw new EscrowError('CONFLICT', 'escrow identity already exists', { cause: e });
      throw e;
    }
    logger.info('escrow certificate created', { serial: certificate.serialNumber });
    return identity;
  };

  const identities = async (): Promise<EscrowIdentity[]> => {
    const out: EscrowIdentity[] = [];
    for (const r of await list()) out.push(await open(r));
    return out;
  };

  const keyring: EscrowKeyring = {
    async current() {
      const rows = await list();
      const { certificate } = rows[0] ? await open(rows[0]) : await create();
      return { certificate };
    },
    async renew() {
      const { certificate } = await create();
      return { certificate };
    },
    async certificates() {
      return (await identities()).map((id) => id.certificate);
    },
  };
  recipientsOf.set(keyring, async () =>
    (await identities()).map(({ certificate, privateKey }) => ({ certificate, privateKey })),
  );
  return keyring;
}
