// Keeping ABM server tokens in storage, sealed: DEP OAuth secrets are credentials.
import { type KeyProvider, openSecret, sealSecret } from '@mdmkit/crypto';
import type { DepStore, DepTokenRecord } from '@mdmkit/storage';
import { DepError } from './errors';
import type { DepToken } from './token';

/** The `kind` the credentials are sealed under (the owner is the token's name). */
export const DEP_TOKEN_SECRET_KIND = 'dep-token';

/** Options of {@link connectDepToken}. */
export interface ConnectDepTokenOptions {
  /** Our name for the token (one per ABM "MDM server"). */
  name: string;
  token: DepToken;
  /** DEP API base URL; default Apple's. */
  baseUrl?: string;
  /** Profile given to newly added devices (the token's "default team"). */
  defaultProfileUuid?: string;
}

/**
 * Seals a decrypted server token with `provider` and stores it, ready for {@link DepSyncer}.
 * Replacing a token (a renewed download) keeps its cursor, devices and assignments.
 *
 * @example
 * ```ts
 * import { connectDepToken, decryptServerToken } from '@mdmkit/dep';
 * const token = await decryptServerToken(readFileSync('server_token.p7m'), tokenKeyPair);
 * await connectDepToken(store, keyProvider, { name: 'main', token, defaultProfileUuid });
 * ```
 */
export async function connectDepToken(
  store: DepStore,
  provider: KeyProvider,
  opts: ConnectDepTokenOptions,
): Promise<DepTokenRecord> {
  const { name, token } = opts;
  if (typeof name !== 'string' || name.length === 0) throw new DepError('INVALID_INPUT', 'name is required');
  const plain = new TextEncoder().encode(
    JSON.stringify({
      consumerKey: token.consumerKey,
      consumerSecret: token.consumerSecret,
      accessToken: token.accessToken,
      accessSecret: token.accessSecret,
    }),
  );
  const sealedCredentials = await sealSecret(plain, { provider, owner: name, kind: DEP_TOKEN_SECRET_KIND });
  plain.fill(0);
  const existing = await store.getDepToken(name);
  const record: DepTokenRecord = {
    ...existing,
    name,
    sealedCredentials,
    accessTokenExpiry: token.accessTokenExpiry,
    updatedAt: new Date(),
  };
  if (opts.baseUrl !== undefined) record.baseUrl = opts.baseUrl;
  if (opts.defaultProfileUuid !== undefined) record.defaultProfileUuid = opts.defaultProfileUuid;
  delete record.termsNotSigned;
  delete record.lastError;
  await store.putDepToken(record);
  return record;
}

/** Opens a stored token's credentials. */
export async function openDepToken(record: DepTokenRecord, provider: KeyProvider): Promise<DepToken> {
  let plain: Uint8Array;
  try {
    plain = await openSecret(record.sealedCredentials, {
      provider,
      owner: record.name,
      kind: DEP_TOKEN_SECRET_KIND,
    });
  } catch (e) {
    throw new DepError('INVALID_TOKEN', `the stored credentials of ${record.name} cannot be opened`, {
      cause: e,
    });
  }
  try {
    const c = JSON.parse(new TextDecoder().decode(plain)) as Record<string, unknown>;
    for (const k of ['consumerKey', 'consumerSecret', 'accessToken', 'accessSecret']) {
      if (typeof c[k] !== 'string') throw new Error(`missing ${k}`);
    }
    return {
      ...(c as unknown as Omit<DepToken, 'accessTokenExpiry'>),
      accessTokenExpiry: record.accessTokenExpiry,
    };
  } catch (e) {
    throw new DepError('INVALID_TOKEN', `the stored credentials of ${record.name} are not readable`, {
      cause: e,
    });
  } finally {
    plain.fill(0);
  }
}
