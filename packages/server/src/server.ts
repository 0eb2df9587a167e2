import type { ApnsClientOptions } from '@mdmkit/apns';
import type { Certificate, KeyProvider } from '@mdmkit/crypto';
import {
  createRouter,
  type Handler,
  type HttpRequest,
  type HttpResponse,
  type Router,
  textResponse,
} from '@mdmkit/http';
import { type Command, encodeCommand } from '@mdmkit/protocol';
import {
  createScepPolicy,
  createScepServer,
  oneTimeChallenges,
  type ScepCa,
  type ScepPolicyOptions,
  type ScepServerEvent,
  scepHandler,
} from '@mdmkit/scep';
import type { EnrollmentId, MdmStorage, OutboxStore } from '@mdmkit/storage';
import {
  type AssociateOptions,
  associateCertificate,
  blockList,
  type ChainLink,
  composeChain,
  decodeMessage,
  extractIdentity,
  type MdmService,
  verifyIdentityChain,
} from './chain';
import { blockedEnrollments } from './blocking';
import { createCore } from './core';
import {
  buildIdentityProfile,
  type EnrollmentProfileConfig,
  enrollmentHandler,
  type IdentityProfileContext,
  mdmProfileIdentifier,
} from './enroll';
import { asServerError, ServerError } from './errors';
import { emitter, type MdmEventListener } from './events';
import { acceptRenewedIdentity, recordIdentityCertificates, verifyIdentityTrust } from './identity-trust';
import {
  createLifecycle,
  DEFAULT_RENEWAL_GRACE_MS,
  declarativeAnswer,
  hasLifecycleStores,
  type LifecycleOptions,
  type MdmLifecycle,
} from './lifecycle';
import { apnsPusher, type PushReport, type Pusher } from './push';

/** Options of {@link createMdmServer}. */
export interface MdmServerOptions {
  storage: MdmStorage & Partial<OutboxStore>;
  /** Opens the push certificate's key and seals bootstrap tokens. */
  keyProvider: KeyProvider;
  /** The public ServerURL (https). Its path is the path this server answers reports on. */
  serverUrl: string;
  /** The public CheckInURL, when check-ins go to another URL than reports. Default: the ServerURL. */
  checkInUrl?: string;
  /** The APNs topic (the push certificate's UID, `com.apple.mgmt.…`). */
  topic: string;
  /** The SCEP CA that issues device identities; it is also the first trust anchor for them. */
  scep: {
    ca: ScepCa;
    /** Local path of the SCEP endpoint. Default `/scep`. */
    path?: string;
    /** Public SCEP URL written into profiles. Default: the ServerURL's origin plus `path`. */
    url?: string;
    /** Policy details besides the challenge (always this server's one-time challenges). */
    policy?: Omit<ScepPolicyOptions, 'challenge'>;
    onEvent?: (event: ScepServerEvent) => void;
  };
  /** Further CAs whose certificates are accepted as device identities (explicit, never implied). */
  extraTrustedCas?: readonly Certificate[];
  /** Serve enrollment profiles; without it, no profile endpoint is mounted. */
  enrollment?: EnrollmentProfileConfig & {
    /** Local path. Default `/mdm/enroll`. */
    path?: string;
  };
  /** Sends pushes; default: `@mdmkit/apns` with the push certificate from storage. */
  pusher?: Pusher;
  /** Options of the default pusher's APNs clients (e.g. a mock APNs `origin` and `ca`). */
  apns?: Omit<ApnsClientOptions, 'credentials' | 'store'>;
  /** Enrollments blocked on purpose: the only devices ever answered 401. */
  isBlocked?: (deviceId: string) => boolean | Promise<boolean>;
  /** Rearranges the service chain: receives the default links, returns the ones to use. */
  links?: (defaults: ChainLink[]) => ChainLink[];
  /**
   * Strict mode: refuse re-enrollment (Authenticate with a new identity) of an enrollment that is
   * still enabled. Default false, NanoMDM's rule; see {@link AssociateOptions.refuseReenrollmentWhileEnabled}.
   */
  refuseReenrollmentWhileEnabled?: boolean;
  /** Accept macOS user channels. Default true. */
  userChannels?: boolean;
  /**
   * Store each check-in's and report's webhook event in the storage's outbox, in the same
   * transaction as the change it records; deliver them with `createWebhookWorker`. The storage must
   * implement `OutboxStore` (every mdmkit adapter does). Default false.
   */
  outbox?: boolean;
  onEvent?: MdmEventListener;
  now?: () => Date;
  /**
   * An enrollment's later life — DDM, identity renewal, migrated trust, stored blocks, removal — on
   * the storage's lifecycle stores (every mdmkit adapter has them). Default on when the storage has
   * them; `false` turns it off.
   */
  lifecycle?: LifecycleOptions | false;
}

/** Options of {@link MdmServer.enqueue}. */
export interface EnqueueOptions {
  /** Push the enrollments after enqueueing. Default true. */
  push?: boolean;
  /** Higher runs first. Default 0. */
  priority?: number;
  notBefore?: Date;
  expiresAt?: Date;
}

/** A running MDM service: handlers to mount, and the operations a host calls. */
export interface MdmServer {
  /** Every endpoint behind one router: check-in, server URL, SCEP and (when configured) enrollment. */
  readonly handler: Handler;
  /**
   * The router behind {@link MdmServer.handler}, to mount further routes on the same listener, e.g.
   * `createAdminApi(…).mount(mdm.router)` and `createNanoMdmApi(…).mount(mdm.router)`.
   */
  readonly router: Router;
  /** The check-in endpoint alone (PUT). */
  readonly checkin: Handler;
  /** The command/report endpoint alone (PUT). On one URL, it also takes check-ins. */
  readonly command: Handler;
  /** The SCEP endpoint alone. */
  readonly scep: Handler;
  /** The enrollment-profile endpoint alone, when configured. */
  readonly enroll: Handler | undefined;
  /** The service chain, for hosts that decode requests themselves. */
  readonly service: MdmService;
  /** Queues a command for enrollments and (by default) pushes them. */
  enqueue(
    command: Command<string, object>,
    enrollmentIds: readonly EnrollmentId[],
    options?: EnqueueOptions,
  ): Promise<{ commandUuid: string; push?: PushReport }>;
  /** Pushes enrollments (enabled ones with a token; others are skipped). */
  push(enrollmentIds: readonly EnrollmentId[]): Promise<PushReport>;
  /** DDM, identity renewal, migration, blocking and removal; absent when turned off. */
  readonly lifecycle: MdmLifecycle | undefined;
  /** Closes push connections (storage stays the host's to close). */
  close(): Promise<void>;
}

function pathOf(url: string, what: string): string {
  try {
    return new URL(url).pathname;
  } catch (e) {
    throw new ServerError('INVALID_OPTIONS', `${what} is not a URL`, { cause: e });
  }
}

/**
 * The MDM service core: check-in and command endpoints behind the service chain, SCEP beside them,
 * enrollment profiles with a one-time challenge each, and push after enqueue.
 *
 * Answers: 200 for what the device sent right; 400 for a body that is not a check-in or report;
 * 403 for an identity that is missing, does not verify, is not trusted or belongs to another
 * enrollment; 500 when storage fails (the device retries); 401 only for `isBlocked` enrollments.
 *
 * @example
 * ```ts
 * import { createMdmServer } from '@mdmkit/server';
 * import { createLocalCa } from '@mdmkit/scep';
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createStaticKeyProvider } from '@mdmkit/crypto';
 * const keyProvider = createStaticKeyProvider(new Uint8Array(32).fill(1));
 * const { ca } = await createLocalCa({ provider: keyProvider });
 * const mdm = createMdmServer({
 *   storage: new MemoryStorage(),
 *   keyProvider,
 *   serverUrl: 'https://mdm.example.com/mdm',
 *   topic: 'com.apple.mgmt.External.00000000-0000-0000-0000-000000000000',
 *   scep: { ca },
 * });
 * // mount mdm.handler with toNodeListener / toFetchHandler / serve from @mdmkit/http
 * await mdm.close();
 * ```
 */
export function createMdmServer(options: MdmServerOptions): MdmServer {
  const { storage } = options;
  if (!storage || !options.keyProvider || !options.scep?.ca) {
    throw new ServerError('INVALID_OPTIONS', 'storage, keyProvider and scep.ca are required');
  }
  const emit = emitter(options.onEvent);
  const now = options.now ?? (() => new Date());
  const serverPath = pathOf(options.serverUrl, 'serverUrl');
  const checkinPath =
    options.checkInUrl !== undefined ? pathOf(options.checkInUrl, 'checkInUrl') : serverPath;
  const scepPath = options.scep.path ?? '/scep';
  const scepUrl = options.scep.url ?? new URL(scepPath, options.serverUrl).href;
  const trusted = [options.scep.ca.certificate, ...(options.extraTrustedCas ?? [])];

  const challenges = oneTimeChallenges(storage);
  const scepServer = createScepServer({
    ca: options.scep.ca,
    store: storage,
    policy: createScepPolicy({ ...options.scep.policy, challenge: challenges.verify }),
    now,
    ...(options.scep.onEvent ? { onEvent: options.scep.onEvent } : {}),
  });
  const scep = scepHandler(scepServer);

  const lifecycleStore = options.lifecycle !== false && hasLifecycleStores(storage) ? storage : undefined;
  const graceMs =
    (options.lifecycle !== false ? options.lifecycle?.renewal?.graceMs : undefined) ??
    DEFAULT_RENEWAL_GRACE_MS;
  const defaults: ChainLink[] = [
    extractIdentity(),
    lifecycleStore
      ? verifyIdentityTrust({ trusted: () => trusted, store: lifecycleStore, now, onEvent: emit })
      : verifyIdentityChain({ trusted: () => trusted, now }),
    decodeMessage(),
    ...(options.isBlocked ? [blockList(options.isBlocked)] : []),
    ...(lifecycleStore
      ? [
          blockedEnrollments({ store: lifecycleStore, onEvent: emit, now }),
          acceptRenewedIdentity({
            store: lifecycleStore,
            keyProvider: options.keyProvider,
            graceMs,
            now,
            onEvent: emit,
          }),
        ]
      : []),
    associateCertificate({
      store: storage,
      onAssociated: emit,
      refuseReenrollmentWhileEnabled: options.refuseReenrollmentWhileEnabled === true,
    }),
    ...(lifecycleStore ? [recordIdentityCertificates({ store: lifecycleStore })] : []),
  ];
  const links = options.links ? options.links(defaults) : defaults;
  const core = createCore({
    storage,
    keyProvider: options.keyProvider,
    emit,
    ...(options.userChannels !== undefined ? { userChannels: options.userChannels } : {}),
    ...(options.outbox ? { outbox: true } : {}),
    ...(lifecycleStore ? { declarative: declarativeAnswer(lifecycleStore, emit) } : {}),
  });
  const service = composeChain(links, core);

  const answer = async (run: () => Promise<HttpResponse>): Promise<HttpResponse> => {
    try {
      return await run();
    } catch (e) {
      const error = asServerError(e);
      if (error.code === 'INTERNAL') emit({ type: 'error', error: e });
      else emit({ type: 'rejected', error });
      return textResponse(error.status, error.code === 'INTERNAL' ? 'internal error' : error.message);
    }
  };
  const endpoint =
    (which: 'checkin' | 'command' | 'both'): Handler =>
    (http: HttpRequest) =>
      answer(() => service({ http, endpoint: which }));

  const oneUrl = checkinPath === serverPath;
  const checkin = endpoint(oneUrl ? 'both' : 'checkin');
  const command = endpoint(oneUrl ? 'both' : 'command');

  let enroll: Handler | undefined;
  const router = createRouter();
  router.put(serverPath, (req) => command(req));
  if (!oneUrl) router.put(checkinPath, (req) => checkin(req));
  router.get(scepPath, (req) => scep(req));
  router.post(scepPath, (req) => scep(req));
  if (options.enrollment) {
    const serveProfile = enrollmentHandler({
      config: options.enrollment,
      serverUrl: options.serverUrl,
      checkInUrl: options.checkInUrl,
      scepUrl,
      topic: () => options.topic,
      scepCa: () => options.scep.ca.certificate,
      challenges,
      emit,
    });
    const handler: Handler = (req) => answer(() => serveProfile(req));
    enroll = handler;
    router.get(options.enrollment.path ?? '/mdm/enroll', (req) => handler(req));
  }

  let pusher = options.pusher;
  const pusherNow = (): Pusher => {
    pusher ??= apnsPusher({
      certificates: storage,
      keyProvider: options.keyProvider,
      ...(options.apns ? { client: options.apns } : {}),
    });
    return pusher;
  };

  async function push(ids: readonly EnrollmentId[]): Promise<PushReport> {
    if (ids.length === 0) return { delivered: [], failed: [] };
    const targets = await storage.getPushInfo([...ids]);
    if (targets.length === 0) return { delivered: [], failed: [] };
    const report = await pusherNow().push(targets);
    emit({
      type: 'pushed',
      enrollmentIds: targets.map((t) => t.id),
      delivered: report.delivered.length,
      failed: report.failed.length,
    });
    return report;
  }

  const profileContext: IdentityProfileContext = {
    serverUrl: options.serverUrl,
    checkInUrl: options.checkInUrl,
    scepUrl,
    topic: () => options.topic,
    scepCa: () => options.scep.ca.certificate,
    ...(options.enrollment?.profile ? { profile: options.enrollment.profile } : {}),
    ...(options.enrollment?.signer ? { signer: options.enrollment.signer } : {}),
  };

  async function enqueue(
    cmd: Command<string, object>,
    ids: readonly EnrollmentId[],
    opts: EnqueueOptions = {},
  ): Promise<{ commandUuid: string; push?: PushReport }> {
    const payload = encodeCommand(cmd);
    await storage.enqueueCommand(
      {
        uuid: cmd.CommandUUID,
        requestType: cmd.Command.RequestType,
        payload,
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
        ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
      },
      [...ids],
    );
    if (opts.push === false) return { commandUuid: cmd.CommandUUID };
    return { commandUuid: cmd.CommandUUID, push: await push(ids) };
  }

  const lifecycle = lifecycleStore
    ? createLifecycle({
        storage: lifecycleStore,
        options: options.lifecycle || {},
        keyProvider: options.keyProvider,
        emit,
        now,
        core,
        enqueue: (cmd, ids) => enqueue(cmd, ids),
        push,
        renewalProfile: async (cn) =>
          buildIdentityProfile(profileContext, await challenges.issue(), [['CN', cn]]),
        mdmProfileIdentifier: () => mdmProfileIdentifier(profileContext),
      })
    : undefined;

  return {
    handler: router.handle,
    router,
    checkin,
    command,
    scep,
    enroll,
    service,
    enqueue,
    push,
    lifecycle,
    async close() {
      await pusher?.close();
    },
  };
}
