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
  sealSecret,
} from '@mdmkit/crypto';
import { isStorageError, type SecretRecord, type SecretStore } from '@mdmkit/storage';
import { EscrowError } from './errors';
import { type EscrowLogger, silentLogger } from './logger';

/** The owner under which escrow identities are kept in the secret store. */
export const ESCROW_IDENTITY_OWNER = 'mdmkit:filevault-escrow';
const KIND_PREFIX = 'identity:';

/** One escrow certificate and its private key. */
export interface EscrowIdentity {
  certificate: Certificate;
  privateKey: KeyObject;
}

/** Options of {@link createEscrowKeyring}. */
export interface EscrowKeyringOptions {
  /** Where identities are kept, sealed (private key and certificate together). */
  secrets: SecretStore;
  keyProvider: KeyProvider;
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
 */
export interface EscrowKeyring {
  /** The newest identity, created on first use. */
  current(): Promise<EscrowIdentity>;
  /** Adds a new identity and makes it current; the previous ones stay. */
  renew(): Promise<EscrowIdentity>;
  /** Every identity, newest first, as CMS recipients. */
  recipients(): Promise<RecipientKey<Certificate>[]>;
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

  const open = async (rec: SecretRecord): Promise<EscrowIdentity> => {
    const hit = cache.get(`${rec.kind}@${rec.version}`);
    if (hit) return hit;
    try {
      const plain = await openSecret(rec.sealed, { provider: keyProvider, owner: rec.owner, kind: rec.kind });
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

  return {
    async current() {
      const rows = await list();
      return rows[0] ? open(rows[0]) : create();
    },
    renew: create,
    async recipients() {
      const rows = await list();
      const out: RecipientKey<Certificate>[] = [];
      for (const r of rows) {
        const id = await open(r);
        out.push({ certificate: id.certificate, privateKey: id.privateKey });
      }
      return out;
    },
  };
}
