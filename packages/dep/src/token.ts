// The ABM server token: the certificate an admin uploads, and the `.p7m` Apple sends back.
import type { KeyObject } from 'node:crypto';
import {
  type Certificate,
  decryptCms,
  exportPrivateKey,
  generateKeyPair,
  issueCertificate,
  parseMimeEntity,
  unwrapSmime,
} from '@mdmkit/crypto';
import { z } from 'zod';
import { DepError } from './errors';
import type { OAuth1Credentials } from '@mdmkit/crypto';

/** The decrypted server token: OAuth credentials for the DEP API and their expiry. */
export interface DepToken extends OAuth1Credentials {
  /** When Apple stops accepting these credentials; a new token must be downloaded before. */
  accessTokenExpiry: Date;
}

/** Options of {@link createTokenKeyPair}. */
export interface TokenKeyPairOptions {
  /** Subject common name of the certificate shown in ABM. Default `mdmkit DEP`. */
  commonName?: string;
  /** Validity in days. Default 365. */
  validityDays?: number;
}

/** A key pair and the self-signed certificate to upload to Apple Business Manager. */
export interface TokenKeyPair {
  certificate: Certificate;
  privateKey: KeyObject;
  /** The certificate in PEM, the file an admin uploads. */
  certificatePem: string;
  /** The private key, PKCS#8 PEM. Keep it sealed at rest: it opens every token encrypted to it. */
  privateKeyPem: string;
}

/**
 * Creates the RSA key pair and self-signed certificate an admin uploads to ABM when adding an MDM
 * server. ABM encrypts the server token to this certificate.
 *
 * @example
 * ```ts
 * import { createTokenKeyPair } from '@mdmkit/dep';
 * const { certificatePem } = await createTokenKeyPair({ commonName: 'Example MDM', validityDays: 30 });
 * console.log(certificatePem.startsWith('-----BEGIN CERTIFICATE-----')); // true
 * ```
 */
export async function createTokenKeyPair(opts: TokenKeyPairOptions = {}): Promise<TokenKeyPair> {
  const commonName = opts.commonName ?? 'mdmkit DEP';
  const validityDays = opts.validityDays ?? 365;
  if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > 64) {
    throw new DepError('INVALID_INPUT', 'commonName must be 1 to 64 characters');
  }
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 3650) {
    throw new DepError('INVALID_INPUT', 'validityDays must be an integer from 1 to 3650');
  }
  const key = await generateKeyPair({ type: 'rsa', bits: 2048 });
  const certificate = await issueCertificate({
    subject: { CN: commonName },
    publicKey: key.publicKey,
    issuerKey: key.privateKey,
    validityDays,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
  });
  return {
    certificate,
    privateKey: key.privateKey,
    certificatePem: certificate.pem,
    privateKeyPem: exportPrivateKey(key.privateKey, 'pkcs8-pem') as string,
  };
}

const tokenJson = z.object({
  consumer_key: z.string().min(1),
  consumer_secret: z.string().min(1),
  access_token: z.string().min(1),
  access_secret: z.string().min(1),
  access_token_expiry: z.string().min(1),
});

const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * Opens the server token file ABM offers for download (`.p7m`: S/MIME → CMS EnvelopedData → text
 * between `-----BEGIN MESSAGE-----` and `-----END MESSAGE-----` → JSON). Any failure, including a
 * token encrypted to another key, is one `INVALID_TOKEN` error.
 *
 * @example
 * ```ts
 * const token = await decryptServerToken(readFileSync('server_token.p7m'), { certificate, privateKey });
 * token.accessTokenExpiry; // Date
 * ```
 */
export async function decryptServerToken(
  p7m: string | Uint8Array,
  key: { certificate: Certificate; privateKey: KeyObject },
): Promise<DepToken> {
  if (p7m.length > MAX_TOKEN_FILE_BYTES) throw new DepError('INVALID_TOKEN', 'token file is too large');
  let content: Uint8Array;
  try {
    const der = unwrapSmime(p7m);
    ({ content } = await decryptCms(der, { recipients: [key] }));
  } catch (e) {
    throw new DepError('INVALID_TOKEN', 'the token file cannot be opened with this key', { cause: e });
  }
  return parseTokenMessage(content);
}

/** Reads the decrypted token text (with or without its text/plain MIME header). */
export function parseTokenMessage(content: Uint8Array | string): DepToken {
  let text =
    typeof content === 'string' ? content : new TextDecoder('utf-8', { fatal: false }).decode(content);
  if (!/^\s*-----BEGIN MESSAGE-----/.test(text)) {
    try {
      text = new TextDecoder().decode(parseMimeEntity(text).body);
    } catch (e) {
      throw new DepError('INVALID_TOKEN', 'the decrypted token is not a MIME entity', { cause: e });
    }
  }
  const m = /-----BEGIN MESSAGE-----\r?\n?([\s\S]*?)\r?\n?-----END MESSAGE-----/.exec(text);
  if (!m) throw new DepError('INVALID_TOKEN', 'the decrypted token has no BEGIN/END MESSAGE block');
  let json: unknown;
  try {
    json = JSON.parse(m[1]!);
  } catch (e) {
    throw new DepError('INVALID_TOKEN', 'the token message is not JSON', { cause: e });
  }
  const parsed = tokenJson.safeParse(json);
  if (!parsed.success) {
    const keys = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new DepError('INVALID_TOKEN', `the token JSON lacks or has wrong ${keys}`);
  }
  const expiry = new Date(parsed.data.access_token_expiry);
  if (Number.isNaN(expiry.getTime())) {
    throw new DepError('INVALID_TOKEN', 'access_token_expiry is not a date');
  }
  return {
    consumerKey: parsed.data.consumer_key,
    consumerSecret: parsed.data.consumer_secret,
    accessToken: parsed.data.access_token,
    accessSecret: parsed.data.access_secret,
    accessTokenExpiry: expiry,
  };
}

/** Where a token stands against its expiry. */
export interface TokenExpiryReport {
  expiresAt: Date;
  expired: boolean;
  /** Whole days left (0 when expired). */
  daysLeft: number;
  /** True within `warnDays` of expiry, or after it: time to download a new token from ABM. */
  renewalDue: boolean;
}

/**
 * Says when a token expires and whether an admin should renew it now.
 *
 * @example
 * ```ts
 * import { tokenExpiry } from '@mdmkit/dep';
 * const report = tokenExpiry({ accessTokenExpiry: new Date('2030-01-31T00:00:00Z') }, { now: new Date('2030-01-10T00:00:00Z') });
 * console.log(report.daysLeft, report.renewalDue); // 21 true
 * ```
 */
export function tokenExpiry(
  token: Pick<DepToken, 'accessTokenExpiry'>,
  opts: { now?: Date; warnDays?: number } = {},
): TokenExpiryReport {
  const now = (opts.now ?? new Date()).getTime();
  const at = token.accessTokenExpiry.getTime();
  const daysLeft = Math.max(0, Math.floor((at - now) / 86_400_000));
  return {
    expiresAt: new Date(at),
    expired: at <= now,
    daysLeft,
    renewalDue: at - now <= (opts.warnDays ?? 30) * 86_400_000,
  };
}
