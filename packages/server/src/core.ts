import { decodeReportDictFor, isKnownRequestType } from '@mdmkit/commands';
import { type KeyProvider, openSecret, sealSecret } from '@mdmkit/crypto';
import type { HttpResponse } from '@mdmkit/http';
import {
  type DecodedCheckin,
  type DecodedReport,
  getBootstrapTokenResponse,
  type ProtocolIssue,
  declineUserChannel,
  userAuthenticateChallenge,
} from '@mdmkit/protocol';
import { buildXmlBytes, type PlistDict } from '@mdmkit/plist';
import type { MdmStorage, OutboxEventInput, OutboxStore, QueuedCommand } from '@mdmkit/storage';
import type { MdmRequest, MdmService } from './chain';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';
import { newEventId, outboxEntry, type WebhookSender } from './webhooks/body';

/** The secret kind bootstrap tokens are sealed under (owner: the enrollment id). */
export const BOOTSTRAP_TOKEN_SECRET_KIND = 'bootstrap-token';

/** What the core needs from storage. */
export type CoreStorage = Pick<
  MdmStorage,
  | 'authenticate'
  | 'tokenUpdate'
  | 'userAuthenticate'
  | 'checkOut'
  | 'putBootstrapToken'
  | 'getBootstrapToken'
  | 'touchLastSeen'
  | 'recordResult'
  | 'nextCommand'
  | 'listHistory'
>;

/** Options of {@link createCore}. */
export interface CoreOptions {
  /**
   * With `outbox`, it must also implement `enqueueOutbox` (for messages that change nothing) and
   * `getEnrollment` (a TokenUpdate's webhook tells its count, as NanoMDM's does).
   */
  storage: CoreStorage & Partial<Pick<OutboxStore, 'enqueueOutbox'> & Pick<MdmStorage, 'getEnrollment'>>;
  /**
   * Write each check-in and report's webhook event to the storage's outbox, in the same transaction
   * as the change it records. Default false.
   */
  outbox?: boolean;
  /** Seals bootstrap tokens at rest. */
  keyProvider: KeyProvider;
  emit: MdmEventListener;
  /**
   * Accept user channels (macOS user enrollment of a logged-in user): UserAuthenticate is answered
   * with an empty DigestChallenge, which tells the device to go on without a password round.
   * `false` declines them with 410. Default true.
   */
  userChannels?: boolean;
  /**
   * Answers `DeclarativeManagement` check-ins (see `answerDeclarativeCheckin`). Without it they are
   * refused with 400, as any check-in this server does not serve.
   */
  declarative?: (
    checkin: Extract<DecodedCheckin, { messageType: 'DeclarativeManagement' }>,
  ) => Promise<HttpResponse>;
}

const OK: HttpResponse = { status: 200 };
const COMMAND_CONTENT_TYPE = 'application/xml; charset=utf-8';

function commandAnswer(next: QueuedCommand | undefined): HttpResponse {
  return next ? { status: 200, headers: { 'content-type': COMMAND_CONTENT_TYPE }, body: next.payload } : OK;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The core of the service: what each check-in message and each report does to storage, and what the
 * device is told. It trusts the links before it (identity, chain, association) and writes only
 * after them.
 *
 * @example
 * ```ts
 * import { createCore } from '@mdmkit/server';
 * import { MemoryStorage } from '@mdmkit/storage';
 * import { createStaticKeyProvider } from '@mdmkit/crypto';
 * const core = createCore({
 *   storage: new MemoryStorage(),
 *   keyProvider: createStaticKeyProvider(new Uint8Array(32).fill(7)),
 *   emit: (event) => console.log(event.type),
 * });
 * ```
 */
export function createCore(options: CoreOptions): MdmService {
  const { storage, keyProvider, emit } = options;
  const userChannels = options.userChannels ?? true;
  const useOutbox = options.outbox === true;
  if (
    useOutbox &&
    (typeof storage.enqueueOutbox !== 'function' || typeof storage.getEnrollment !== 'function')
  ) {
    throw new ServerError(
      'INVALID_OPTIONS',
      'outbox: the storage does not implement OutboxStore and getEnrollment',
    );
  }

  /**
   * The webhook's copy of a message that carries a secret sealed at rest (a SetBootstrapToken's
   * token): the message without it, so the outbox never holds the secret in the clear. Undefined
   * for every other message, whose bytes go out exactly as sent.
   */
  function withoutSecrets(
    m: { kind: 'checkin'; messageType: string } | { kind: 'report' },
    dict: Record<string, unknown>,
  ): Uint8Array | undefined {
    if (m.kind !== 'checkin' || m.messageType !== 'SetBootstrapToken' || !('BootstrapToken' in dict)) {
      return undefined;
    }
    const { BootstrapToken: _sealed, ...rest } = dict;
    return buildXmlBytes(rest as PlistDict);
  }

  /** The event of one device message: its id, and its outbox row when the outbox is on. */
  function eventFor(
    req: MdmRequest,
    m:
      | { kind: 'checkin'; messageType: string; tokenUpdateTally?: number }
      | { kind: 'report'; status: string; commandUuid?: string },
    dict: Record<string, unknown>,
  ): { eventId: string; outbox: OutboxEventInput[] } {
    const eventId = newEventId();
    if (!useOutbox) return { eventId, outbox: [] };
    const sender: WebhookSender = {
      ...(typeof dict.UDID === 'string' ? { udid: dict.UDID } : {}),
      ...(typeof dict.EnrollmentID === 'string' ? { enrollmentId: dict.EnrollmentID } : {}),
    };
    const entry = outboxEntry(eventId, new Date(), {
      ...m,
      sender,
      raw: withoutSecrets(m, dict) ?? req.http.body,
      query: req.http.query,
    });
    return { eventId, outbox: [entry] };
  }
  /** Stores the events of a message that changes nothing in storage. */
  async function standalone(outbox: OutboxEventInput[]): Promise<void> {
    if (outbox.length > 0) await storage.enqueueOutbox?.(outbox);
  }

  async function checkin(req: MdmRequest, c: DecodedCheckin): Promise<HttpResponse> {
    const id = c.enrollment.id;
    const raw = req.http.body;
    // The count this TokenUpdate will make, read before the write that makes it: the webhook
    // body is stored with that write. Concurrent TokenUpdates of one enrollment may share a count.
    const tokenUpdateTally =
      useOutbox && c.messageType === 'TokenUpdate'
        ? ((await storage.getEnrollment?.(id))?.tokenUpdateTally ?? 0) + 1
        : undefined;
    const { eventId, outbox } = eventFor(
      req,
      {
        kind: 'checkin',
        messageType: c.messageType,
        ...(tokenUpdateTally !== undefined ? { tokenUpdateTally } : {}),
      },
      c.raw,
    );
    switch (c.messageType) {
      case 'Authenticate': {
        if (c.enrollment.userChannel) throw new ServerError('BAD_MESSAGE', 'Authenticate on a user channel');
        await storage.authenticate({
          id,
          topic: c.message.Topic,
          raw,
          outbox,
          ...(c.message.SerialNumber !== undefined ? { serialNumber: c.message.SerialNumber } : {}),
        });
        emit({
          type: 'authenticate',
          eventId,
          enrollmentId: id,
          raw: c.raw,
          ...(c.message.SerialNumber !== undefined ? { serialNumber: c.message.SerialNumber } : {}),
        });
        return OK;
      }
      case 'TokenUpdate': {
        const m = c.message;
        const tally = await storage.tokenUpdate({
          id,
          channel: c.enrollment.userChannel ? 'user' : 'device',
          deviceId: c.enrollment.deviceId,
          topic: m.Topic,
          pushToken: hex(m.Token),
          pushMagic: m.PushMagic,
          raw,
          outbox,
          ...(m.UnlockToken !== undefined ? { unlockToken: m.UnlockToken } : {}),
          ...(m.UserID !== undefined ? { userId: m.UserID } : {}),
          ...(m.UserShortName !== undefined ? { userShortName: m.UserShortName } : {}),
          ...(m.UserLongName !== undefined ? { userLongName: m.UserLongName } : {}),
        });
        emit({
          type: 'token-update',
          eventId,
          enrollmentId: id,
          deviceId: c.enrollment.deviceId,
          userChannel: c.enrollment.userChannel,
          first: tally === 1,
          tally,
        });
        return OK;
      }
      case 'UserAuthenticate': {
        if (!userChannels) return declineUserChannel();
        await storage.userAuthenticate({
          id,
          deviceId: c.enrollment.deviceId,
          raw,
          outbox,
          ...(c.message.UserID !== undefined ? { userId: c.message.UserID } : {}),
          ...(c.message.UserShortName !== undefined ? { userShortName: c.message.UserShortName } : {}),
          ...(c.message.UserLongName !== undefined ? { userLongName: c.message.UserLongName } : {}),
        });
        emit({ type: 'user-authenticate', eventId, enrollmentId: id, deviceId: c.enrollment.deviceId });
        return userAuthenticateChallenge('');
      }
      case 'CheckOut':
        await storage.checkOut(id, { outbox });
        emit({ type: 'check-out', eventId, enrollmentId: id });
        return OK;
      case 'SetBootstrapToken': {
        const token = c.message.BootstrapToken;
        if (token === undefined || token.length === 0) {
          await standalone(outbox);
          return OK;
        }
        const sealed = await sealSecret(token, {
          provider: keyProvider,
          owner: id,
          kind: BOOTSTRAP_TOKEN_SECRET_KIND,
        });
        await storage.putBootstrapToken(id, sealed);
        // Sealed tokens go through their own write; the event follows it (at worst a crash
        // between the two loses this event, never the token).
        await standalone(outbox);
        emit({ type: 'bootstrap-token-set', eventId, enrollmentId: id });
        return OK;
      }
      case 'GetBootstrapToken': {
        const sealed = await storage.getBootstrapToken(id);
        await standalone(outbox);
        emit({ type: 'bootstrap-token-get', eventId, enrollmentId: id, found: sealed !== undefined });
        if (!sealed) return getBootstrapTokenResponse({});
        const token = await openSecret(sealed, {
          provider: keyProvider,
          owner: id,
          kind: BOOTSTRAP_TOKEN_SECRET_KIND,
        });
        return getBootstrapTokenResponse({ BootstrapToken: token });
      }
      case 'DeclarativeManagement':
        if (!options.declarative)
          throw new ServerError('BAD_MESSAGE', 'DeclarativeManagement is not served here');
        return options.declarative(c);
      default:
        throw new ServerError('BAD_MESSAGE', `check-in ${c.messageType} is not served here`);
    }
  }

  /** A NotNow answers the command just handed out: the queue's head, or its head past NotNow'd ones. */
  async function headType(id: string, uuid: string): Promise<string | undefined> {
    for (const skipNotNow of [false, true]) {
      const head = await storage.nextCommand(id, { skipNotNow });
      if (head?.uuid === uuid) return head.requestType;
    }
    return undefined;
  }

  /** A final answer was just stored (or already was): the newest result of the enrollment. */
  async function storedType(id: string, uuid: string): Promise<string | undefined> {
    const newest = (await storage.listHistory(id, { limit: 1 })).items[0];
    return newest?.commandUuid === uuid ? newest.requestType : undefined;
  }

  async function report(req: MdmRequest, r: DecodedReport): Promise<HttpResponse> {
    const id = r.enrollment.id;
    const env = r.envelope;
    const uuid = env.Status !== 'Idle' ? env.CommandUUID : undefined;
    // The command type comes from indexed reads, never from the whole queue: a report costs the
    // same however long the enrollment's queue is.
    let requestType = uuid !== undefined && env.Status === 'NotNow' ? await headType(id, uuid) : undefined;
    const { eventId, outbox } = eventFor(
      req,
      {
        kind: 'report',
        status: env.Status,
        ...(env.CommandUUID !== undefined ? { commandUuid: env.CommandUUID } : {}),
      },
      r.payload,
    );
    const { outcome, next } = await storage.recordResult({
      enrollmentId: id,
      status: env.Status,
      payload: req.http.body,
      outbox,
      ...(uuid !== undefined ? { commandUuid: uuid } : {}),
    });
    if (uuid !== undefined && env.Status !== 'NotNow' && (outcome === 'stored' || outcome === 'duplicate')) {
      requestType = await storedType(id, uuid);
    }
    let issues: ProtocolIssue[] = r.issues;
    if (requestType !== undefined && env.Status !== 'NotNow' && isKnownRequestType(requestType)) {
      // Lenient on read: a response that does not match its schema is stored all the same, with
      // its issues told to the host, and the device still gets its next command.
      try {
        issues = decodeReportDictFor(requestType, r.payload).issues;
      } catch {
        // The envelope already decoded; the typed view adds nothing we must have.
      }
    }
    emit({
      type: 'report',
      eventId,
      enrollmentId: id,
      status: env.Status,
      outcome,
      issues,
      ...(env.CommandUUID !== undefined ? { commandUuid: env.CommandUUID } : {}),
      ...(requestType !== undefined ? { requestType } : {}),
      ...(next ? { nextCommandUuid: next.uuid } : {}),
    });
    return commandAnswer(next);
  }

  return async (req) => {
    const message = req.message;
    if (!message) throw new ServerError('BAD_MESSAGE', 'no decoded message');
    const answer =
      message.kind === 'checkin' ? await checkin(req, message.checkin) : await report(req, message.report);
    await storage.touchLastSeen(
      message.kind === 'checkin' ? message.checkin.enrollment.id : message.report.enrollment.id,
    );
    return answer;
  };
}
