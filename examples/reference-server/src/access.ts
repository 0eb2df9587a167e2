import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type KeyProvider, openSecret, sealSecret } from '@mdmkit/crypto';
import type { HttpRequest } from '@mdmkit/http';
import { isStorageError, type SecretStore } from '@mdmkit/storage';
import { ReferenceServerError } from './errors';
import { isRole, type Role } from './roles';
import { SERVER_OWNER } from './stores';

const USERS = `${SERVER_OWNER}:users`;
const TOKENS = `${SERVER_OWNER}:tokens`;
const USER_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
/** Authenticated answers are reused this long, so a busy client does not open two sealed rows per request. */
const CACHE_MS = 5_000;
const MAX_CACHE = 1_000;

/** Who is calling: a user and the token they used. */
export interface Principal {
  user: string;
  role: Role;
  /** First 16 hex digits of the token's SHA-256: names the token in listings and the activity feed. */
  tokenId: string;
}

/** A user as the API lists it. */
export interface UserRecord {
  name: string;
  role: Role;
  createdAt: string;
}

/** A token as the API lists it (never the token itself). */
export interface TokenRecord {
  id: string;
  user: string;
  createdAt: string;
}

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest();
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const decode = <T>(b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as T;

/**
 * Reads the token a request carries: `Authorization: Bearer T`, or Basic with the token as password
 * (NanoMDM's clients send `nanomdm:T`).
 *
 * @example
 * ```ts
 * const token = tokenFrom(request); // undefined without an Authorization header
 * ```
 */
export function tokenFrom(request: HttpRequest): string | undefined {
  const header = request.headers.get('authorization');
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/**
 * Users and API tokens. Both are rows of the secret store, sealed like every other secret: a user row
 * holds the role; a token row, keyed by the token's SHA-256, holds the user it belongs to and the same
 * hash again, compared in constant time after opening. The token itself is never stored.
 *
 * @example
 * ```ts
 * const access = new AccessControl(storage, keyProvider);
 * const { token } = await access.createUser('alice', 'observer');
 * const who = await access.authenticate(token); // { user: 'alice', role: 'observer', tokenId }
 * ```
 */
export class AccessControl {
  readonly #secrets: SecretStore;
  readonly #provider: KeyProvider;
  readonly #cache = new Map<string, { principal: Principal; until: number }>();

  constructor(secrets: SecretStore, provider: KeyProvider) {
    this.#secrets = secrets;
    this.#provider = provider;
  }

  /** The caller of an API request, or `UNAUTHENTICATED`. */
  async authenticateRequest(request: HttpRequest): Promise<Principal> {
    const token = tokenFrom(request);
    if (token === undefined) throw new ReferenceServerError('UNAUTHENTICATED', 'an API token is required');
    return this.authenticate(token);
  }

  /** The user a token belongs to, or `UNAUTHENTICATED` for an unknown or revoked token. */
  async authenticate(token: string): Promise<Principal> {
    const refused = () => new ReferenceServerError('UNAUTHENTICATED', 'the API token is not valid');
    if (token.length === 0 || token.length > 512) throw refused();
    const hash = hashOf(token);
    const key = hash.toString('hex');
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.principal;
    const row = await this.#secrets.getSecret(TOKENS, `sha256:${key}`);
    if (!row) throw refused();
    const stored = decode<{ user: string; hash: string }>(
      await openSecret(row.sealed, { provider: this.#provider, owner: TOKENS, kind: `sha256:${key}` }),
    );
    if (!timingSafeEqual(Buffer.from(stored.hash, 'hex'), hash)) throw refused();
    const user = await this.getUser(stored.user);
    if (!user) throw refused();
    const principal: Principal = { user: user.name, role: user.role, tokenId: key.slice(0, 16) };
    if (this.#cache.size >= MAX_CACHE) this.#cache.clear();
    this.#cache.set(key, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = await this.#secrets.getSecret(USERS, name);
    if (!row) return undefined;
    const data = decode<{ role: unknown; createdAt: string }>(
      await openSecret(row.sealed, { provider: this.#provider, owner: USERS, kind: name }),
    );
    if (!isRole(data.role)) return undefined;
    return { name, role: data.role, createdAt: data.createdAt };
  }

  async listUsers(): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.#secrets.listSecrets({ owner: USERS, limit: 500, ...(after ? { after } : {}) });
      for (const row of page.items) {
        const u = await this.getUser(row.kind);
        if (u) out.push(u);
      }
      after = page.next;
    } while (after);
    return out;
  }

  /** Creates a user with a first token; `CONFLICT` when the name is taken. */
  async createUser(
    name: string,
    role: Role,
    token?: string,
  ): Promise<{ user: UserRecord; token: string; tokenId: string }> {
    if (!USER_NAME.test(name)) {
      throw new ReferenceServerError('BAD_REQUEST', 'a user name is 1 to 64 of a-z 0-9 . _ @ - (lower case)');
    }
    if (!isRole(role))
      throw new ReferenceServerError('BAD_REQUEST', 'role must be admin, maintainer or observer');
    const createdAt = new Date().toISOString();
    try {
      await this.#secrets.putSecret({
        owner: USERS,
        kind: name,
        sealed: await sealSecret(encode({ role, createdAt }), {
          provider: this.#provider,
          owner: USERS,
          kind: name,
        }),
        expectedVersion: 0,
      });
    } catch (e) {
      if (isStorageError(e) && e.code === 'CONFLICT') {
        throw new ReferenceServerError('CONFLICT', `user ${name} already exists`, { cause: e });
      }
      throw e;
    }
    const issued = await this.issueToken(name, token);
    return { user: { name, role, createdAt }, ...issued };
  }

  /** Removes a user and every token of theirs. */
  async deleteUser(name: string): Promise<boolean> {
    for (const t of await this.listTokens(name)) await this.revokeToken(t.id);
    return this.#secrets.deleteSecret(USERS, name);
  }

  /** A new token for an existing user (or stores `token` as given, for `--api-token`). */
  async issueToken(user: string, token?: string): Promise<{ token: string; tokenId: string }> {
    if (!(await this.getUser(user))) throw new ReferenceServerError('NOT_FOUND', `no user ${user}`);
    const value = token ?? `mdmk_${randomBytes(32).toString('base64url')}`;
    const hash = hashOf(value).toString('hex');
    const kind = `sha256:${hash}`;
    await this.#secrets.putSecret({
      owner: TOKENS,
      kind,
      sealed: await sealSecret(encode({ user, hash, createdAt: new Date().toISOString() }), {
        provider: this.#provider,
        owner: TOKENS,
        kind,
      }),
    });
    return { token: value, tokenId: hash.slice(0, 16) };
  }

  async listTokens(user?: string): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for await (const row of this.#tokenRows()) {
      const data = decode<{ user: string; createdAt: string }>(
        await openSecret(row.sealed, { provider: this.#provider, owner: TOKENS, kind: row.kind }),
      );
      if (user === undefined || data.user === user) {
        out.push({
          id: row.kind.slice('sha256:'.length, 'sha256:'.length + 16),
          user: data.user,
          createdAt: data.createdAt,
        });
      }
    }
    return out;
  }

  /** Every stored token row, page by page. */
  async *#tokenRows() {
    let after: string | undefined;
    do {
      const page = await this.#secrets.listSecrets({
        owner: TOKENS,
        limit: 500,
        ...(after ? { after } : {}),
      });
      yield* page.items;
      after = page.next;
    } while (after);
  }

  /** Revokes the token whose id (16 hex digits) is given; true when one went. */
  async revokeToken(id: string): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(id)) return false;
    let removed = false;
    for await (const row of this.#tokenRows()) {
      if (row.kind.startsWith(`sha256:${id}`))
        removed = (await this.#secrets.deleteSecret(TOKENS, row.kind)) || removed;
    }
    this.#cache.clear();
    return removed;
  }

  /**
   * Makes sure an admin can log in: with `token` (from `--api-token`), the user `admin` exists and
   * holds that token; without, a first `admin` user with a generated token is made when there are no
   * users at all. Returns the generated token (to print once), if one was made.
   */
  async bootstrap(token: string | undefined): Promise<string | undefined> {
    if (token !== undefined) {
      if (!(await this.getUser('admin'))) {
        try {
          await this.createUser('admin', 'admin', token);
          return undefined;
        } catch (e) {
          if (!(e instanceof ReferenceServerError && e.code === 'CONFLICT')) throw e;
        }
      }
      const known = await this.#secrets.getSecret(TOKENS, `sha256:${hashOf(token).toString('hex')}`);
      if (!known) await this.issueToken('admin', token);
      return undefined;
    }
    const page = await this.#secrets.listSecrets({ owner: USERS, limit: 1 });
    if (page.items.length > 0) return undefined;
    try {
      return (await this.createUser('admin', 'admin')).token;
    } catch (e) {
      // Another replica made the first admin at the same moment; its token is the one printed there.
      if (e instanceof ReferenceServerError && e.code === 'CONFLICT') return undefined;
      throw e;
    }
  }
}
