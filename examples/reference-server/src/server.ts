import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CryptoError, createLocalKeyProvider, exportPrivateKey, type KeyProvider } from '@mdmkit/crypto';
import { createEscrowKeyring, createSecretVault } from '@mdmkit/escrow';
import { type Handler, type HttpRequest, type HttpResponse, serve } from '@mdmkit/http';
import {
  type AdminAuthorizer,
  createAdminApi,
  createMdmServer,
  createMigrationHandler,
  createNanoMdmApi,
  createWebhookWorker,
  type MdmServer,
  type WebhookWorker,
} from '@mdmkit/server';
import { isOutboxStore } from '@mdmkit/storage';
import { AccessControl } from './access';
import { allows } from './roles';
import { operationsHandlers } from './operations-api';
import { adminApiHandlers } from './admin-api';
import { json } from './api-io';
import { createApp, type MountedRoute } from './app';
import type { ServerConfig } from './config';
import { ReferenceServerError } from './errors';
import { loadProfileSigner, loadScepCa, loadSelfSignedTls } from './identities';
import { type JobRunner, startLeasedJobs } from './jobs';
import type { Logger } from './logger';
import { createServerMetrics, observeMdmEvents, type ServerMetrics } from './observe';
import { openStorage } from './open-storage';
import { pushRetryJob } from './push-retry';
import { ADMIN_API_ROUTES, permissionOf, ROUTE_TABLE, type RouteSpec } from './routes';
import type { ServerStorage } from './stores';
import { withoutSecretPayloads } from './secret-results';
import { TopicSource } from './topic';

/** A started server. */
export interface RunningReferenceServer {
  /** Where it listens, e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  /** Where devices reach it (the origin in enrollment profiles). */
  readonly publicUrl: string;
  readonly storage: ServerStorage;
  readonly mdm: MdmServer;
  readonly metrics: ServerMetrics;
  /** The admin token generated at this start, when one was (shown once, stored hashed). */
  readonly generatedToken: string | undefined;
  /** Stops taking connections, lets requests in flight finish (up to the shutdown timeout), then closes. */
  close(): Promise<void>;
}

/** Options of {@link startReferenceServer} besides the configuration. */
export interface StartOptions {
  log: Logger;
  /** Name of this replica in job leases. Default: host name, process id and a random suffix. */
  holder?: string;
}

async function openKeyProvider(file: string): Promise<KeyProvider> {
  try {
    return await createLocalKeyProvider({ path: file });
  } catch (e) {
    throw new ReferenceServerError(
      'STARTUP_FAILED',
      `cannot open the key-encryption key ${file}: ${(e as Error).message}`,
      {
        cause: e,
        setting: 'kek-file',
      },
    );
  }
}

function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ReferenceServerError(
      'STARTUP_FAILED',
      `cannot create the data directory ${dir}: ${(e as Error).message}`,
      {
        cause: e,
        setting: 'data-dir',
      },
    );
  }
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Starts the reference server: storage, keys, the SCEP CA, the MDM service, the admin API, health
 * and metrics behind one route table, background jobs under storage leases.
 *
 * @example
 * ```ts
 * import { createJsonLogger, loadConfig, startReferenceServer } from '@mdmkit/reference-server';
 * const result = loadConfig(process.argv.slice(2), process.env, process.cwd());
 * if (result.kind === 'run') {
 *   const server = await startReferenceServer(result.config, { log: createJsonLogger('info', (l) => process.stderr.write(l)) });
 *   process.once('SIGTERM', () => void server.close());
 * }
 * ```
 */
export async function startReferenceServer(
  config: ServerConfig,
  options: StartOptions,
): Promise<RunningReferenceServer> {
  if (!config.publicUrl && UNSPECIFIED.has(config.listen.host)) {
    throw new ReferenceServerError(
      'INVALID_CONFIG',
      'invalid setting public-url: required when listening on every interface',
      {
        setting: 'public-url',
      },
    );
  }
  prepareDataDir(config.dataDir);
  const keyProvider = await openKeyProvider(config.kekFile);
  const storage = await openStorage(config.storage);
  const cleanups: (() => Promise<void>)[] = [() => storage.close()];
  try {
    return await startOn(storage, keyProvider, config, options, cleanups);
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    // The stored keys were sealed under another key-encryption key: name the setting to look at.
    if (e instanceof CryptoError && e.code === 'SEALED_SECRET_INVALID') {
      const where =
        config.storage.kind === 'sqlite' ? config.storage.path : `the ${config.storage.kind} storage`;
      throw new ReferenceServerError(
        'STARTUP_FAILED',
        `invalid setting kek-file: ${config.kekFile} does not open the secrets sealed in ${where} ` +
          '(start with the key-encryption key it was created with)',
        { cause: e, setting: 'kek-file' },
      );
    }
    throw e;
  }
}

async function startOn(
  storage: ServerStorage,
  keyProvider: KeyProvider,
  config: ServerConfig,
  options: StartOptions,
  cleanups: (() => Promise<void>)[],
): Promise<RunningReferenceServer> {
  const { log } = options;
  const metrics = createServerMetrics();
  const scep = await loadScepCa(storage, keyProvider);
  if (scep.created)
    log.info('created the SCEP CA', { fingerprintSha256: scep.ca.certificate.fingerprintSha256 });
  const signer = await loadProfileSigner(storage, keyProvider);
  const escrow = createEscrowKeyring({ secrets: storage, keyProvider });
  const escrowCertificate = (await escrow.current()).certificate;
  const access = new AccessControl(storage, keyProvider);
  const generatedToken = await access.bootstrap(config.apiToken);

  const publicHost = config.publicUrl
    ? new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, '')
    : config.listen.host;
  let tls: { key: string; cert: string } | undefined;
  let anchor: Uint8Array | undefined;
  if (config.tls.kind === 'files') {
    tls = { cert: readFileSync(config.tls.certFile, 'utf8'), key: readFileSync(config.tls.keyFile, 'utf8') };
  } else if (config.tls.kind === 'self-signed') {
    const local = await loadSelfSignedTls(storage, keyProvider, publicHost);
    tls = { cert: local.certificate.pem, key: exportPrivateKey(local.privateKey, 'pkcs8-pem') as string };
    anchor = local.certificate.der;
    // Public: clients that should trust this server point NODE_EXTRA_CA_CERTS (or curl --cacert) here.
    writeFileSync(join(config.dataDir, 'tls-cert.pem'), local.certificate.pem, { mode: 0o644 });
  }

  const topics = new TopicSource(storage, scep.ca.certificate);
  await topics.refresh();
  if (topics.placeholder) {
    log.warn(
      'no APNs push certificate stored: devices enroll but are not woken by pushes until one is uploaded',
      {
        topic: topics.current,
      },
    );
  }
  cleanups.push(async () => topics.stop());

  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  // The handler is bound once the listening port (and so the public URL) is known.
  let inner: Handler = () => json(503, { error: { code: 'STARTING', message: 'starting' } });
  const running = await serve((request) => inner(request), {
    host: config.listen.host,
    port: config.listen.port,
    ...(tls ? { tls } : {}),
    trustedProxies: config.trustedProxies,
    onError: (e) => log.debug('http error', { error: e }),
  }).catch((e: unknown) => {
    throw new ReferenceServerError(
      'STARTUP_FAILED',
      `cannot listen on ${config.listen.host}:${config.listen.port}: ${(e as Error).message}`,
      {
        cause: e,
        setting: 'listen',
      },
    );
  });
  cleanups.push(() => running.close());
  const publicUrl =
    config.publicUrl ??
    `${tls ? 'https' : 'http'}://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${running.port}`;

  const mdm = createMdmServer({
    storage,
    keyProvider,
    serverUrl: `${publicUrl}/mdm/connect`,
    checkInUrl: `${publicUrl}/mdm/checkin`,
    get topic() {
      return topics.current;
    },
    scep: { ca: scep.ca, path: '/scep', url: `${publicUrl}/scep` },
    enrollment: {
      signer: { certificate: signer.certificate, privateKey: signer.privateKey },
      path: '/mdm/enroll',
      ...(config.enrollToken !== undefined ? { authorize: enrollTokenCheck(config.enrollToken) } : {}),
      profile: {
        displayName: 'mdmkit-server enrollment',
        organization: publicHost,
        ...(anchor ? { anchorCertificates: [anchor] } : {}),
      },
    },
    ...(config.apns
      ? {
          apns: {
            origin: config.apns.origin,
            ...(config.apns.caFile ? { ca: readFileSync(config.apns.caFile, 'utf8') } : {}),
          },
        }
      : {}),
    onEvent: observeMdmEvents(metrics, log),
    outbox: config.webhook !== undefined,
    lifecycle: { renewal: { holder } },
  });
  cleanups.push(() => mdm.close());

  let webhooks: WebhookWorker | undefined;
  if (config.webhook) {
    if (!isOutboxStore(storage)) {
      throw new ReferenceServerError('STARTUP_FAILED', 'this storage keeps no event outbox for webhooks', {
        setting: 'webhook-url',
      });
    }
    webhooks = createWebhookWorker({
      store: storage,
      url: config.webhook.url,
      ...(config.webhook.secret !== undefined ? { secret: config.webhook.secret } : {}),
      onDelivery: (d) => {
        metrics.webhooks.inc({ outcome: d.ok ? 'delivered' : 'failed' });
        if (!d.ok)
          log.warn('webhook delivery failed', {
            eventId: d.eventId,
            attempt: d.attempt,
            status: d.status,
            error: d.error,
          });
      },
    });
    webhooks.start();
  }

  // The admin API asks this server who may do what: the caller's token, its role, the route's permission.
  const authorize: AdminAuthorizer = async (request, route) => {
    let principal: Awaited<ReturnType<AccessControl['authenticateRequest']>>;
    try {
      principal = await access.authenticateRequest(request);
    } catch {
      return { allow: false, status: 401, reason: 'an API token is required' };
    }
    if (!allows(principal.role, permissionOf(route.permission))) {
      return { allow: false, status: 403, reason: `role ${principal.role} may not use ${route.id}` };
    }
    return { allow: true, principal: { id: principal.user } };
  };
  const adminApi = createAdminApi({ mdm, storage, keyProvider, authorize, servers: [publicUrl] });
  // NanoMDM's API knows one password: a random one of this process, handed on only after the caller's
  // own token and role were checked.
  const internalKey = randomBytes(32).toString('base64url');
  const actors = new WeakMap<HttpRequest, string>();
  const migration: Handler = mdm.lifecycle
    ? createMigrationHandler({
        importer: mdm.lifecycle.migration,
        authorize: (request) => actors.get(request) ?? false,
      })
    : () => json(404, { error: { code: 'NOT_FOUND', message: 'migration needs lifecycle storage' } });
  const nanomdm = createNanoMdmApi({
    mdm,
    storage,
    keyProvider,
    apiKey: internalKey,
    migration,
    version: 'mdmkit-server',
  });

  const admin = adminApiHandlers({
    access,
    activity: storage,
    certificates: async () => ({
      scepCa: scep.ca.certificate,
      profileSigner: signer.certificate,
      escrow: escrowCertificate,
    }),
  });
  const device = (handler: Handler) => (request: HttpRequest) => handler(request);
  // A new push certificate changes the topic of new profiles at once on this replica.
  const thenRefreshTopic =
    (handler: MountedRoute['handler']): MountedRoute['handler'] =>
    async (request, context) => {
      const response = await handler(request, context);
      if (response.status < 300)
        await topics.refresh().catch((e: unknown) => log.warn('topic refresh failed', { error: e }));
      return response;
    };
  const vault = createSecretVault({ secrets: storage, audit: storage, keyProvider });
  const operations = operationsHandlers({
    nanomdm: nanomdm.handler,
    internalKey,
    migration,
    actors,
    lifecycle: mdm.lifecycle,
    vault,
  });
  const handlers: Record<string, MountedRoute['handler']> = {
    'mdm.checkin': device(mdm.handler),
    'mdm.connect': device(mdm.handler),
    'scep.get': device(mdm.handler),
    'scep.post': device(mdm.handler),
    'mdm.enroll': device(mdm.handler),
    health: () => health(storage),
    metrics: () => ({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: metrics.registry.render(),
    }),
    ...admin,
    ...operations,
    'nanomdm.pushcert': thenRefreshTopic(operations['nanomdm.pushcert']),
  };
  for (const route of ADMIN_API_ROUTES) handlers[route.name] = (request) => adminApi.handler(request);
  handlers['api.putPushCertificate'] = thenRefreshTopic(handlers['api.putPushCertificate']!);
  handlers['api.getResults'] = withoutSecretPayloads(handlers['api.getResults']!);
  const routes: MountedRoute[] = ROUTE_TABLE.map((spec: RouteSpec) => {
    const handler = handlers[spec.name];
    if (!handler) throw new Error(`no handler for route ${spec.name}`);
    return { ...spec, handler };
  });
  inner = createApp({
    routes,
    access,
    activity: storage,
    log,
    requests: metrics.requests,
    durations: metrics.durations,
  });

  const lifecycle = mdm.lifecycle;
  const jobs: JobRunner = startLeasedJobs(
    storage,
    holder,
    [
      pushRetryJob(storage, (ids) => mdm.push(ids), config.pushRetryIntervalMs),
      ...(lifecycle
        ? [
            {
              name: 'mdmkit-server:identity-renewal',
              intervalMs: 3_600_000,
              run: async () => {
                const run = await lifecycle.renewal.runOnce();
                log.info('identity renewal', { run });
              },
            },
          ]
        : []),
    ],
    log,
    metrics.jobRuns,
  );
  if (webhooks) {
    const worker = webhooks;
    cleanups.push(() => worker.stop());
  }
  const inFlight = trackRequests(running.server as Server);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      log.info('shutting down', { inFlight: inFlight.count() });
      await jobs.stop();
      // Stop accepting; requests already in flight finish (up to the timeout), then every socket goes.
      running.server.close();
      await Promise.race([
        inFlight.drained(),
        new Promise((r) => setTimeout(r, config.shutdownTimeoutMs).unref()),
      ]);
      for (const c of cleanups.reverse())
        await c().catch((e: unknown) => log.error('close failed', { error: e }));
      log.info('stopped');
    })();
    return closing;
  };

  log.info('listening', {
    url: running.url,
    publicUrl,
    storage: config.storage.kind,
    tls: config.tls.kind,
    holder,
  });
  return { url: running.url, publicUrl, storage, mdm, metrics, generatedToken, close };
}

function enrollTokenCheck(expected: string): (request: HttpRequest) => boolean {
  const want = Buffer.from(expected);
  return (request) => {
    const given = Buffer.from(request.query.get('token') ?? '');
    // Constant time over the expected length, whatever the given one.
    const padded = Buffer.alloc(want.length);
    given.copy(padded);
    return given.length === want.length && timingSafeEqual(padded, want);
  };
}

async function health(storage: ServerStorage): Promise<HttpResponse> {
  const deadline = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 2_000).unref());
  try {
    const answer = await Promise.race([
      storage.getLease('mdmkit-server:health').then(() => 'ok' as const),
      deadline,
    ]);
    if (answer === 'ok') return json(200, { status: 'ok', storage: 'ok' });
    return json(503, { status: 'unavailable', storage: 'timeout' });
  } catch {
    return json(503, { status: 'unavailable', storage: 'error' });
  }
}

/** Counts requests from their headers to the end of their response, so shutdown can wait for them. */
function trackRequests(server: Server): { count(): number; drained(): Promise<void> } {
  let count = 0;
  let waiters: (() => void)[] = [];
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    count++;
    res.once('close', () => {
      if (--count === 0) {
        const w = waiters;
        waiters = [];
        for (const r of w) r();
      }
    });
  });
  return {
    count: () => count,
    drained: () => (count === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
