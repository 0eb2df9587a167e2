/**
 * Moving enrollments in from another MDM and out to one, in NanoMDM's two forms: raw Authenticate
 * and TokenUpdate check-in plists, one per request, as its `/migration` endpoint takes them; and its
 * file storage layout (a directory per enrollment id with `Authenticate.plist`, `TokenUpdate.plist`
 * and the identity's `CertAuth.sha256.txt`, or `Identity.pem` in older layouts).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Certificate, parseCertificate } from '@mdmkit/crypto';
import { type Handler, type HttpRequest, type HttpResponse, textResponse } from '@mdmkit/http';
import { buildXml, type PlistDict } from '@mdmkit/plist';
import { decodeCheckinDict } from '@mdmkit/protocol';
import { parseBody } from '@mdmkit/protocol/schema';
import type {
  AuditEventStore,
  CertificateAssociationStore,
  EnrollmentId,
  EnrollmentRecord,
  EnrollmentTransfer,
  IdentityCertificateStore,
} from '@mdmkit/storage';
import type { MdmService } from './chain';
import { asServerError, ServerError } from './errors';
import type { MdmEventListener } from './events';

/** The files of one enrollment in NanoMDM's file storage. */
export const NANOMDM_FILES = {
  authenticate: 'Authenticate.plist',
  tokenUpdate: 'TokenUpdate.plist',
  certHash: 'CertAuth.sha256.txt',
  identity: 'Identity.pem',
} as const;

/** Header with the migrated device's identity certificate (base64 DER) on a `/migration` request. */
export const MIGRATED_CERTIFICATE_HEADER = 'mdm-migrated-certificate';
/** Header with the SHA-256 (hex) of the migrated device's identity certificate, when only that is known. */
export const MIGRATED_CERTIFICATE_HASH_HEADER = 'mdm-migrated-certificate-sha256';
/** Largest migration request body. */
export const MAX_MIGRATION_BODY_BYTES = 256 * 1024;

/** The identity a migrated enrollment is pinned to: the certificate, or its SHA-256 when only that is known. */
export interface MigratedIdentity {
  certificate?: Certificate;
  /** Lowercase hex SHA-256 of the certificate's DER. */
  certificateHash?: string;
}

/** Options of {@link createMigrationImporter}. */
export interface MigrationImporterOptions {
  storage: Pick<CertificateAssociationStore, 'associateCertificate' | 'enrollmentForCertificate'> &
    Pick<IdentityCertificateStore, 'putIdentityCertificate' | 'getIdentityCertificate'> &
    Pick<AuditEventStore, 'appendAuditEvent'>;
  /** The server's core: a migrated check-in has the storage effect of the same check-in from the device. */
  core: MdmService;
  now?: () => Date;
  onEvent?: MdmEventListener;
}

/** Imports migrated check-ins one at a time. */
export interface MigrationImporter {
  /**
   * Applies one raw Authenticate or TokenUpdate. An Authenticate must name the identity to pin: the
   * enrollment is then trusted in the `migrated` mode for exactly that certificate, once its
   * TokenUpdate is imported too (the pin holds only while the enrollment is enabled).
   */
  importCheckin(
    body: Uint8Array,
    identity: MigratedIdentity | undefined,
    actor: string,
  ): Promise<{ enrollmentId: EnrollmentId; messageType: 'Authenticate' | 'TokenUpdate' }>;
}

const HASH = /^[0-9a-f]{64}$/;

function headersOf(contentType: string): HttpRequest['headers'] {
  return { get: (name) => (name.toLowerCase() === 'content-type' ? contentType : undefined) };
}

/**
 * The migration importer: each check-in goes through the server's core (so it has the same storage
 * effect as when the device sent it), and an Authenticate pins the given identity to its enrollment
 * as `migrated` trust, recorded in the audit log. A pinned certificate is accepted for that
 * enrollment only, whatever CA issued it; nothing else from that CA is.
 *
 * @example
 * ```ts
 * import { createMigrationImporter } from '@mdmkit/server';
 * const importer = createMigrationImporter({ storage, core: mdm.core });
 * await importer.importCheckin(authenticatePlist, { certificateHash }, 'migration');
 * await importer.importCheckin(tokenUpdatePlist, undefined, 'migration');
 * ```
 */
export function createMigrationImporter(options: MigrationImporterOptions): MigrationImporter {
  const now = options.now ?? (() => new Date());
  const { storage } = options;
  return {
    async importCheckin(body, identity, actor) {
      let decoded: ReturnType<typeof decodeCheckinDict>;
      try {
        decoded = decodeCheckinDict(parseBody(body, 'check-in'));
      } catch (e) {
        throw new ServerError('BAD_MESSAGE', 'the body is not a check-in message', { cause: e });
      }
      const type = decoded.messageType;
      if (type !== 'Authenticate' && type !== 'TokenUpdate') {
        throw new ServerError('BAD_MESSAGE', 'only Authenticate and TokenUpdate can be migrated');
      }
      const enrollment = decoded.enrollment;
      let hash: string | undefined;
      if (type === 'Authenticate') {
        hash = identity?.certificate?.fingerprintSha256 ?? identity?.certificateHash?.toLowerCase();
        if (hash === undefined || !HASH.test(hash)) {
          throw new ServerError(
            'BAD_MESSAGE',
            'a migrated Authenticate needs the identity certificate or its SHA-256',
          );
        }
        if (
          identity?.certificate &&
          identity.certificateHash &&
          identity.certificateHash.toLowerCase() !== hash
        ) {
          throw new ServerError('BAD_MESSAGE', 'the certificate and its SHA-256 disagree');
        }
        const owner = await storage.enrollmentForCertificate(hash);
        if (owner !== undefined && owner !== enrollment.deviceId) {
          throw new ServerError('NOT_ASSOCIATED', 'the certificate belongs to another enrollment');
        }
      }
      const http: HttpRequest = {
        method: 'PUT',
        path: '/migration',
        rawQuery: '',
        query: new URLSearchParams(),
        headers: headersOf('application/x-apple-aspen-mdm-checkin'),
        body,
        remoteAddress: undefined,
        clientCertificate: undefined,
      };
      const answer = await options.core({
        http,
        endpoint: 'checkin',
        message: { kind: 'checkin', checkin: decoded },
        enrollment,
      });
      if (answer.status !== 200)
        throw new ServerError('BAD_MESSAGE', `the check-in was answered ${answer.status}`);
      if (hash !== undefined) {
        await storage.associateCertificate(enrollment.deviceId, hash);
        const known = await storage.getIdentityCertificate(hash);
        await storage.putIdentityCertificate({
          hash,
          enrollmentId: enrollment.deviceId,
          // Without the certificate its expiry is unknown: it counts as due, so the renewal job moves
          // the device onto this server's CA at the first chance. The trust link refreshes nothing:
          // the pin stays what was imported.
          notAfter: identity?.certificate?.notAfter ?? known?.notAfter ?? now(),
          trust: 'migrated',
        });
        await storage.appendAuditEvent({
          actor,
          action: 'enrollment.migrated',
          owner: enrollment.deviceId,
          kind: 'enrollment',
          reason: `imported from another MDM; identity ${hash} trusted as migrated`,
          at: now(),
        });
      }
      options.onEvent?.({
        type: 'enrollment-migrated',
        enrollmentId: enrollment.id,
        messageType: type,
        pinned: hash !== undefined,
      });
      return { enrollmentId: enrollment.id, messageType: type };
    },
  };
}

/** Options of {@link createMigrationHandler}. */
export interface MigrationHandlerOptions {
  importer: MigrationImporter;
  /**
   * Decides who may import (basic auth, an API key, …): return the actor's name to allow (it goes
   * into the audit log), or false to refuse with 403. Required: migration is an admin operation.
   */
  authorize: (request: HttpRequest) => string | false | Promise<string | false>;
  onEvent?: MdmEventListener;
}

function identityFromHeaders(req: HttpRequest): MigratedIdentity | undefined {
  const certHeader = req.headers.get(MIGRATED_CERTIFICATE_HEADER);
  const hashHeader = req.headers.get(MIGRATED_CERTIFICATE_HASH_HEADER);
  const out: MigratedIdentity = {};
  if (certHeader) {
    try {
      out.certificate = parseCertificate(new Uint8Array(Buffer.from(certHeader, 'base64')));
    } catch (e) {
      throw new ServerError('BAD_MESSAGE', `${MIGRATED_CERTIFICATE_HEADER} is not a base64 DER certificate`, {
        cause: e,
      });
    }
  }
  if (hashHeader) out.certificateHash = hashHeader.trim().toLowerCase();
  return out.certificate || out.certificateHash ? out : undefined;
}

/**
 * The `/migration` endpoint (PUT, raw Authenticate or TokenUpdate plist as body, as NanoMDM's
 * migration tools send them). The identity to pin comes in the `mdm-migrated-certificate` (base64
 * DER) or `mdm-migrated-certificate-sha256` header of the Authenticate. Answers 200, 400 for a body
 * or identity that cannot be used, 403 when `authorize` refuses or the certificate belongs to
 * another enrollment, 500 when storage fails.
 *
 * @example
 * ```ts
 * import { createMigrationHandler, createMigrationImporter } from '@mdmkit/server';
 * const migration = createMigrationHandler({
 *   importer: createMigrationImporter({ storage, core: mdm.core }),
 *   authorize: (req) => (req.headers.get('authorization') === expected ? 'migration-tool' : false),
 * });
 * router.put('/migration', migration);
 * ```
 */
export function createMigrationHandler(options: MigrationHandlerOptions): Handler {
  return async (req): Promise<HttpResponse> => {
    try {
      if (req.method !== 'PUT') return { status: 405, headers: { allow: 'PUT' } };
      const actor = await options.authorize(req);
      if (actor === false || actor === '')
        throw new ServerError('MIGRATION_REFUSED', 'not authorized to migrate');
      if (req.body.byteLength > MAX_MIGRATION_BODY_BYTES) {
        throw new ServerError('BAD_MESSAGE', `the body is over ${MAX_MIGRATION_BODY_BYTES} bytes`);
      }
      await options.importer.importCheckin(req.body, identityFromHeaders(req), actor);
      return { status: 200 };
    } catch (e) {
      const error = asServerError(e);
      options.onEvent?.(
        error.code === 'INTERNAL' ? { type: 'error', error: e } : { type: 'rejected', error },
      );
      return textResponse(error.status, error.code === 'INTERNAL' ? 'internal error' : error.message);
    }
  };
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** What {@link importNanomdmFileStorage} did. */
export interface FileImportReport {
  imported: EnrollmentId[];
  /** Enrollment directories that could not be imported, with why. */
  failed: { enrollmentId: string; error: ServerError }[];
}

/**
 * Imports a NanoMDM file-storage directory: device channels first (Authenticate, pinned to the
 * identity in `Identity.pem` or `CertAuth.sha256.txt`, then TokenUpdate), then user channels
 * (TokenUpdate). One enrollment's failure is reported and the others go on.
 *
 * @example
 * ```ts
 * import { createMigrationImporter, importNanomdmFileStorage } from '@mdmkit/server';
 * const report = await importNanomdmFileStorage('/var/db/nanomdm', createMigrationImporter({ storage, core: mdm.core }), 'ops');
 * ```
 */
export async function importNanomdmFileStorage(
  dir: string,
  importer: MigrationImporter,
  actor: string,
): Promise<FileImportReport> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory());
  const report: FileImportReport = { imported: [], failed: [] };
  for (const userLoop of [false, true]) {
    for (const entry of entries) {
      const base = join(dir, entry.name);
      const authenticate = await readOptional(join(base, NANOMDM_FILES.authenticate));
      if (userLoop === (authenticate !== undefined)) continue;
      const tokenUpdate = await readOptional(join(base, NANOMDM_FILES.tokenUpdate));
      try {
        if (authenticate) {
          const pem = await readOptional(join(base, NANOMDM_FILES.identity));
          const hashFile = await readOptional(join(base, NANOMDM_FILES.certHash));
          const identity: MigratedIdentity = {};
          if (pem) identity.certificate = parseCertificate(new TextDecoder().decode(pem));
          if (hashFile) identity.certificateHash = new TextDecoder().decode(hashFile).trim().toLowerCase();
          await importer.importCheckin(authenticate, identity, actor);
        }
        if (tokenUpdate) await importer.importCheckin(tokenUpdate, undefined, actor);
        if (authenticate || tokenUpdate) report.imported.push(entry.name);
      } catch (e) {
        report.failed.push({ enrollmentId: entry.name, error: asServerError(e) });
      }
    }
  }
  return report;
}

/** One enrollment as migration check-ins: what another server's `/migration` takes. */
export interface MigrationCheckins {
  enrollmentId: EnrollmentId;
  /** Device channels only. */
  authenticate?: Uint8Array;
  /** Absent for a channel that never sent a TokenUpdate. */
  tokenUpdate?: Uint8Array;
  /** The identity-certificate hashes associated with the enrollment. */
  certificateHashes: string[];
}

function enc(dict: PlistDict): Uint8Array {
  return new TextEncoder().encode(buildXml(dict));
}

function checkinsOf(e: EnrollmentRecord, certificateHashes: string[]): MigrationCheckins {
  const ids: PlistDict =
    e.channel === 'device'
      ? { UDID: e.id }
      : {
          UDID: e.deviceId,
          ...(e.userId !== undefined ? { UserID: e.userId } : {}),
          ...(e.userShortName !== undefined ? { UserShortName: e.userShortName } : {}),
          ...(e.userLongName !== undefined ? { UserLongName: e.userLongName } : {}),
        };
  const out: MigrationCheckins = { enrollmentId: e.id, certificateHashes };
  if (e.channel === 'device') {
    out.authenticate = enc({
      MessageType: 'Authenticate',
      ...ids,
      ...(e.topic !== undefined ? { Topic: e.topic } : {}),
      ...(e.serialNumber !== undefined ? { SerialNumber: e.serialNumber } : {}),
    });
  }
  if (e.pushToken !== undefined && e.pushMagic !== undefined && e.topic !== undefined) {
    out.tokenUpdate = enc({
      MessageType: 'TokenUpdate',
      ...ids,
      Topic: e.topic,
      Token: new Uint8Array(Buffer.from(e.pushToken, 'hex')),
      PushMagic: e.pushMagic,
      ...(e.unlockToken ? { UnlockToken: e.unlockToken } : {}),
    });
  }
  return out;
}

/**
 * This server's enrollments as migration check-ins (device channels before user channels, as a
 * receiving server needs them), for another server's `/migration` endpoint.
 *
 * @example
 * ```ts
 * import { exportMigrationCheckins } from '@mdmkit/server';
 * for await (const e of exportMigrationCheckins(storage)) {
 *   if (e.authenticate) await put(e.authenticate, e.certificateHashes[0]);
 *   if (e.tokenUpdate) await put(e.tokenUpdate);
 * }
 * ```
 */
export async function* exportMigrationCheckins(
  storage: Pick<EnrollmentTransfer, 'exportEnrollments'>,
): AsyncGenerator<MigrationCheckins> {
  const users: MigrationCheckins[] = [];
  let after: string | undefined;
  do {
    const page = await storage.exportEnrollments({ limit: 500, ...(after ? { after } : {}) });
    for (const item of page.items) {
      if (item.enrollment.channel === 'user') users.push(checkinsOf(item.enrollment, item.certificateHashes));
      else yield checkinsOf(item.enrollment, item.certificateHashes);
    }
    after = page.next;
  } while (after);
  yield* users;
}

/**
 * Writes this server's enrollments in NanoMDM's file-storage layout (what
 * {@link importNanomdmFileStorage} and NanoMDM's own migration tools read).
 *
 * @example
 * ```ts
 * import { exportNanomdmFileStorage } from '@mdmkit/server';
 * const count = await exportNanomdmFileStorage(storage, '/tmp/export');
 * ```
 */
export async function exportNanomdmFileStorage(
  storage: Pick<EnrollmentTransfer, 'exportEnrollments'>,
  dir: string,
): Promise<number> {
  let n = 0;
  for await (const e of exportMigrationCheckins(storage)) {
    if (e.enrollmentId.includes('/') || e.enrollmentId.startsWith('.')) continue;
    const base = join(dir, e.enrollmentId);
    await mkdir(base, { recursive: true });
    if (e.authenticate) await writeFile(join(base, NANOMDM_FILES.authenticate), e.authenticate);
    if (e.tokenUpdate) await writeFile(join(base, NANOMDM_FILES.tokenUpdate), e.tokenUpdate);
    const hash = e.certificateHashes[0];
    if (hash !== undefined) await writeFile(join(base, NANOMDM_FILES.certHash), hash);
    n++;
  }
  return n;
}
