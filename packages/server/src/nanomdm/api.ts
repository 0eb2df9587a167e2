// Routes with NanoMDM's paths, authentication and JSON answers, so scripts written for NanoMDM
// (its tools/*.sh and their callers) work against this server unchanged.
import { installPushCertificate } from '@mdmkit/apns';
import type { KeyProvider } from '@mdmkit/crypto';
import { createRouter, type Handler, type HttpRequest, type HttpResponse, type Router } from '@mdmkit/http';
import { type Command, decodeCommand } from '@mdmkit/protocol';
import type { PushCertStore } from '@mdmkit/storage';
import { basicCredentials, crossSiteBrowserRequest, MIN_API_KEY_LENGTH, secretsEqual } from '../admin/auth';
import { jsonResponse } from '../admin/json';
import { ServerError } from '../errors';
import type { PushReport } from '../push';
import type { MdmServer } from '../server';

/** Per-enrollment part of a NanoMDM API answer. */
export interface NanoMdmEnrollmentResult {
  push_error?: string;
  /** The apns-id APNs answered with. */
  push_result?: string;
  command_error?: string;
}

/** The JSON answer of NanoMDM's enqueue and push routes. */
export interface NanoMdmApiResult {
  status?: Record<string, NanoMdmEnrollmentResult>;
  no_push?: boolean;
  push_error?: string;
  command_error?: string;
  command_uuid?: string;
  request_type?: string;
}

/** Options of {@link createNanoMdmApi}. */
export interface NanoMdmApiOptions {
  mdm: Pick<MdmServer, 'enqueue' | 'push'>;
  /** Where `PUT /v1/pushcert` stores the certificate. */
  storage: PushCertStore;
  /** Seals the uploaded private key. */
  keyProvider: KeyProvider;
  /** The password of HTTP basic auth; the user name is `nanomdm`, as in NanoMDM. */
  apiKey: string;
  /**
   * The handler of NanoMDM's `/migration` endpoint (enrollment check-ins replayed from another
   * server), mounted behind the same basic auth. Not mounted without it.
   */
  migration?: Handler;
  /** What `GET /version` answers. Default `mdmkit`. */
  version?: string;
}

/** The NanoMDM-compatible API. */
export interface NanoMdmApi {
  readonly handler: Handler;
  mount(router: Router): void;
}

/** The basic-auth user name NanoMDM's API uses. */
export const NANOMDM_API_USER = 'nanomdm';
/** Most ids one NanoMDM request may name. */
export const MAX_NANOMDM_IDS = 10_000;

const UNAUTHORIZED: HttpResponse = {
  status: 401,
  headers: { 'www-authenticate': 'Basic realm="nanomdm"', 'content-type': 'text/plain; charset=utf-8' },
  body: 'Unauthorized\n',
};

function authorized(req: HttpRequest, apiKey: string): boolean {
  const header = req.headers.get('authorization');
  if (!header || !/^basic /i.test(header)) return false;
  const creds = basicCredentials(header.slice(6).trim());
  if (!creds) return false;
  // Both compared in constant time, and both always compared.
  const user = secretsEqual(creds.user, NANOMDM_API_USER);
  const password = secretsEqual(creds.password, apiKey);
  return user && password;
}

/** `id1,id2` → unique non-empty ids, in order. */
function idsOf(raw: string | undefined): string[] {
  const ids = (raw ?? '').split(',').filter((s) => s.length > 0);
  return [...new Set(ids)];
}

/** NanoMDM's status rule: 200 when all went well, 207 when some failed, 500 when all did. */
function statusOf(total: number, failed: number): number {
  if (failed === 0) return 200;
  return failed >= total ? 500 : 207;
}

function pushStatus(
  ids: string[],
  report: PushReport,
): { status: Record<string, NanoMdmEnrollmentResult>; failed: number } {
  const status: Record<string, NanoMdmEnrollmentResult> = {};
  const failures = new Map(report.failed.map((f) => [f.id, f.reason]));
  const delivered = new Set(report.delivered);
  let failed = 0;
  for (const id of ids) {
    if (delivered.has(id)) status[id] = { push_result: report.apnsIds?.[id] ?? '' };
    else {
      failed += 1;
      status[id] = { push_error: failures.get(id) ?? 'no push token for this enrollment' };
    }
  }
  return { status, failed };
}

/** Splits a PEM bundle into its certificate and private-key blocks. */
function splitPem(text: string): { certificate?: string; privateKey?: string } {
  const blocks = text.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const out: { certificate?: string; privateKey?: string } = {};
  for (const b of blocks) {
    if (b.startsWith('-----BEGIN CERTIFICATE-----')) out.certificate ??= b;
    else if (/^-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(b)) out.privateKey ??= b;
  }
  return out;
}

/**
 * NanoMDM's API routes on this server: `PUT /v1/enqueue/{ids}` (a raw command plist; ids
 * comma-separated; `?nopush=1` to skip the push), `GET /v1/push/{ids}`, `PUT /v1/pushcert` (PEM
 * certificate and unencrypted key concatenated), `GET /version`, and `/migration` when a handler
 * is given. HTTP basic auth with user `nanomdm` and the API key as password, compared in constant
 * time; answers in NanoMDM's JSON shapes and status codes (200, 207 some failed, 500 all failed).
 *
 * @example
 * ```ts
 * import { createNanoMdmApi } from '@mdmkit/server';
 * const nano = createNanoMdmApi({ mdm, storage, keyProvider, apiKey: process.env.MDM_API_KEY! });
 * // curl -u nanomdm:$KEY -T cmd.plist 'https://mdm.example.com/v1/enqueue/UDID-1,UDID-2'
 * ```
 */
export function createNanoMdmApi(options: NanoMdmApiOptions): NanoMdmApi {
  const { mdm, storage, keyProvider, apiKey } = options;
  if (typeof apiKey !== 'string' || apiKey.length < MIN_API_KEY_LENGTH) {
    throw new ServerError('INVALID_OPTIONS', `the API key must be at least ${MIN_API_KEY_LENGTH} characters`);
  }
  const guarded =
    (fn: (req: HttpRequest, params: Readonly<Record<string, string>>) => Promise<HttpResponse>) =>
    async (req: HttpRequest, params: Readonly<Record<string, string>>): Promise<HttpResponse> => {
      if (crossSiteBrowserRequest(req)) {
        return jsonResponse(403, { error: 'requests made by a page of another site are refused' });
      }
      if (!authorized(req, apiKey)) return UNAUTHORIZED;
      try {
        return await fn(req, params);
      } catch {
        return jsonResponse(500, { command_error: 'internal error' });
      }
    };

  const enqueue = guarded(async (req, params) => {
    const ids = idsOf(params.ids);
    if (ids.length === 0 || ids.length > MAX_NANOMDM_IDS) {
      return jsonResponse(400, { command_error: `between 1 and ${MAX_NANOMDM_IDS} ids are required` });
    }
    const nopushValue = req.query.get('nopush');
    const noPush =
      nopushValue !== null && nopushValue !== '' && nopushValue !== '0' && nopushValue !== 'false';
    let command: Command;
    try {
      command = decodeCommand(req.body);
    } catch (e) {
      const message = e instanceof Error ? e.message : 'not a command plist';
      return jsonResponse(400, { command_error: message });
    }
    const result: NanoMdmApiResult = {
      ...(noPush ? { no_push: true } : {}),
      command_uuid: command.CommandUUID,
      request_type: command.Command.RequestType,
    };
    try {
      await mdm.enqueue(command, ids, { push: false });
    } catch (e) {
      result.command_error =
        e instanceof Error && 'code' in e && e.code === 'CONFLICT'
          ? `command UUID ${command.CommandUUID} is already used`
          : e instanceof Error &&
              'code' in e &&
              (e.code === 'INVALID_INPUT' || e.code === 'PAYLOAD_TOO_LARGE')
            ? e.message
            : 'enqueue failed';
      return jsonResponse(500, result);
    }
    if (noPush) return jsonResponse(200, result);
    try {
      const { status, failed } = pushStatus(ids, await mdm.push(ids));
      result.status = status;
      return jsonResponse(statusOf(ids.length, failed), result);
    } catch {
      result.push_error = 'push failed';
      return jsonResponse(207, result);
    }
  });

  const push = guarded(async (_req, params) => {
    const ids = idsOf(params.ids);
    if (ids.length === 0 || ids.length > MAX_NANOMDM_IDS) {
      return jsonResponse(400, { push_error: `between 1 and ${MAX_NANOMDM_IDS} ids are required` });
    }
    try {
      const { status, failed } = pushStatus(ids, await mdm.push(ids));
      return jsonResponse(statusOf(ids.length, failed), { status });
    } catch {
      return jsonResponse(500, { push_error: 'push failed' });
    }
  });

  const pushcert = guarded(async (req) => {
    const { certificate, privateKey } = splitPem(Buffer.from(req.body).toString('utf8'));
    if (!certificate || !privateKey) {
      return jsonResponse(400, {
        error: 'the body must hold a PEM certificate and its unencrypted PEM private key',
      });
    }
    try {
      const installed = await installPushCertificate({
        store: storage,
        keyProvider,
        certificate,
        privateKey,
        force: true,
      });
      return jsonResponse(200, {
        topic: installed.info.topic,
        not_after: installed.info.notAfter.toISOString(),
      });
    } catch (e) {
      const known = e instanceof Error && 'code' in e && typeof e.code === 'string';
      return jsonResponse(known ? 400 : 500, {
        error: known ? (e as Error).message : 'storing the certificate failed',
      });
    }
  });

  function mount(router: Router): void {
    // NanoMDM's routes answer any method; scripts use PUT (curl -T) or POST (curl -d) to send a
    // body, and GET or POST to push.
    router.put('/v1/enqueue/:ids', enqueue);
    router.post('/v1/enqueue/:ids', enqueue);
    router.get('/v1/push/:ids', push);
    router.post('/v1/push/:ids', push);
    router.put('/v1/pushcert', pushcert);
    router.post('/v1/pushcert', pushcert);
    router.get('/version', () => jsonResponse(200, { version: options.version ?? 'mdmkit' }));
    const migration = options.migration;
    if (migration)
      router.put(
        '/migration',
        guarded(async (req) => migration(req)),
      );
  }
  const router = createRouter();
  mount(router);
  return { handler: router.handle, mount };
}
