import { type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { type Certificate, signCms } from '@mdmkit/crypto';
import { buildXml, type PlistDict, type PlistValue, parse } from '@mdmkit/plist';
import { ScepClient } from '@mdmkit/scep';
import { TestkitError } from '../errors';
import { declarationItemsOf, type HeldDeclaration, statusReport } from './declarative';
import { type EnrollmentProfileFacts, readEnrollmentProfile } from './enrollment-profile';
import { DEVICE_MODELS, type DevicePlatform } from './models';
import { answerCommand, type DeviceState, type InstalledProfile } from './responses';
import { DEFAULT_REQUEST_TIMEOUT_MS, fetchBounded, MAX_ANSWER_BYTES, withDeadline } from './transport';

/** Options of {@link VirtualDevice.enroll}. */
export interface VirtualDeviceOptions {
  /** Default `macOS`. */
  platform?: DevicePlatform;
  udid?: string;
  serialNumber?: string;
  deviceName?: string;
  /** Transport for every request (SCEP and MDM): e.g. to map the profile's https URLs to a local test server. */
  fetch?: typeof fetch;
  /**
   * Answer NotNow instead of running a command when this returns true (the device is busy, locked,
   * or in Setup Assistant). It is asked again on every delivery.
   */
  notNow?: (requestType: string, commandUuid: string) => boolean;
  /**
   * Sign each channel's Idle report once and send that signature again while the body is unchanged
   * (the body only holds the channel ids and `Status`). Load generators use it so that RSA signing is
   * not what limits them; every other request is signed afresh. Default false.
   */
  reuseIdleSignature?: boolean;
  /** FileVault state the device reports in DDM status (macOS). Default true. */
  fileVaultEnabled?: boolean;
  /** A downloaded OS update the device reports in DDM status. Default none. */
  pendingUpdate?: { osVersion: string; buildVersion: string };
  /**
   * Deadline of each request, the answer's body included (ms); a server that misses it fails that
   * request with `TestkitError` `REQUEST_FAILED`. Default 30,000.
   */
  requestTimeoutMs?: number;
}

/** What one DDM sync did. */
export interface DeclarativeSync {
  /** The DeclarationsToken the server sent. */
  declarationsToken: string;
  /** Declarations fetched in this sync (new or changed), as `kind/identifier`. */
  fetched: string[];
  /** Declarations dropped because the server no longer lists them, as `kind/identifier`. */
  removed: string[];
  /** The status report sent. */
  status: Record<string, unknown>;
}

/** One command the device received and how it answered. */
export interface HandledCommand {
  channel: 'device' | 'user';
  commandUuid: string;
  requestType: string;
  status: 'Acknowledged' | 'Error' | 'NotNow';
  /** How many pushes the device had received when the command arrived. */
  pushesSeen: number;
  at: Date;
}

/** What a raw request returned. */
export interface DeviceHttpResult {
  status: number;
  body: Uint8Array;
}

/** An MDM channel: the device's own, or a macOS user's. */
interface Channel {
  kind: 'device' | 'user';
  ids: Record<string, string>;
  pushToken: string;
  pushMagic: string;
}

const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

function serial(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(10), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * A virtual Apple device that enrolls and behaves like a real one: it reads an enrollment profile,
 * gets its identity with SCEP (RSA key), checks in with Authenticate and TokenUpdate, signs every
 * request with `Mdm-Signature`, polls the ServerURL and answers the common commands.
 *
 * @example
 * ```ts
 * import { VirtualDevice } from '@mdmkit/testkit/virtual-device';
 * const device = await VirtualDevice.enroll(profileBytes, { platform: 'iOS' });
 * const handled = await device.poll(); // runs every queued command
 * ```
 */
export class VirtualDevice {
  readonly platform: DevicePlatform;
  readonly udid: string;
  /** Every command handled so far, in order. */
  readonly handled: HandledCommand[] = [];
  /** Pushes received through {@link VirtualDevice.receivePush}. */
  pushesReceived = 0;
  /** False after {@link VirtualDevice.checkOut}, a removal of the MDM profile or a 401 answer. */
  enrolled = true;
  /** Set when the device unenrolled because the server answered 401. */
  unenrolledBy401 = false;
  /** Requests answered 401 (a device unenrolls at the first, so at most 1). */
  unauthorizedAnswers = 0;
  /** Identity renewals done (InstallProfile of the MDM profile with a new SCEP identity). */
  renewals = 0;
  /** DDM declarations held, by `kind/identifier`. */
  readonly declarations = new Map<string, HeldDeclaration>();
  private declarationsToken: string | undefined;
  private identity: { certificate: Certificate; privateKey: KeyObject };
  private readonly state: DeviceState;
  private readonly device: Channel;
  private readonly users = new Map<string, Channel>();
  private busy: Promise<unknown> = Promise.resolve();
  private readonly idleSignatures = new Map<Channel, { body: Uint8Array; signature: string }>();

  private constructor(
    private facts: EnrollmentProfileFacts,
    certificate: Certificate,
    privateKey: KeyObject,
    private readonly options: VirtualDeviceOptions,
    caCertificates: Certificate[],
  ) {
    this.identity = { certificate, privateKey };
    this.platform = options.platform ?? 'macOS';
    this.udid = options.udid ?? randomUUID().toUpperCase();
    const serialNumber = options.serialNumber ?? serial();
    this.device = {
      kind: 'device',
      ids: { UDID: this.udid },
      pushToken: randomBytes(32).toString('hex'),
      pushMagic: randomUUID().toUpperCase(),
    };
    this.state = {
      udid: this.udid,
      serialNumber,
      deviceName: options.deviceName ?? `Virtual ${DEVICE_MODELS[this.platform].modelName}`,
      model: DEVICE_MODELS[this.platform],
      identity: certificate,
      caCertificates,
      profiles: new Map(),
      userChannel: false,
    };
  }

  /**
   * Installs an enrollment profile the way a device does: SCEP enrollment with the profile's
   * challenge (checking the CA against the profile's CAFingerprint), then Authenticate and
   * TokenUpdate. Throws `TestkitError` `ENROLL_FAILED` when any step is refused.
   *
   * @example
   * ```ts
   * const device = await VirtualDevice.enroll(profileBytes, { fetch: localFetch });
   * ```
   */
  static async enroll(profile: Uint8Array, options: VirtualDeviceOptions = {}): Promise<VirtualDevice> {
    const facts = await readEnrollmentProfile(profile);
    const scepFetch = withDeadline(
      options.fetch ?? fetch,
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    );
    const client = new ScepClient({ url: facts.scep.url, fetch: scepFetch });
    let result: Awaited<ReturnType<ScepClient['enroll']>>;
    let cas: Certificate[];
    try {
      const ca = await client.getCaCertificates();
      const pin = facts.scep.caFingerprint;
      if (pin) {
        const hex = Buffer.from(pin).toString('hex');
        if (hex !== ca.ca.fingerprintSha1 && hex !== ca.ca.fingerprintSha256) {
          throw new TestkitError('ENROLL_FAILED', 'the SCEP CA does not match the profile CAFingerprint');
        }
      }
      cas = ca.certificates.filter((c) => c.isCA);
      const pinned = new ScepClient({
        url: facts.scep.url,
        caFingerprint: ca.ca.fingerprintSha256,
        fetch: scepFetch,
      });
      result = await pinned.enroll({
        subject: facts.scep.subject,
        keyBits: 2048,
        ...(facts.scep.challenge !== undefined ? { challenge: facts.scep.challenge } : {}),
      });
    } catch (e) {
      if (e instanceof TestkitError) throw e;
      throw new TestkitError('ENROLL_FAILED', 'SCEP enrollment failed', { cause: e });
    }
    const device = new VirtualDevice(facts, result.certificate, result.privateKey, options, cas);
    device.state.profiles.set(device.mdmProfileId, {
      PayloadIdentifier: device.mdmProfileId,
      PayloadUUID: randomUUID().toUpperCase(),
      PayloadVersion: 1,
      PayloadDisplayName: 'MDM enrollment',
      IsManaged: false,
      PayloadContent: [
        { PayloadType: 'com.apple.mdm', PayloadVersion: 1, PayloadIdentifier: `${device.mdmProfileId}.mdm` },
      ],
    });
    await device.authenticate();
    await device.tokenUpdate();
    return device;
  }

  /**
   * A device that already holds an identity the server knows (issued and stored out of band, e.g. when
   * a benchmark seeds storage instead of enrolling through SCEP). Sends nothing: call
   * {@link VirtualDevice.authenticate} and {@link VirtualDevice.tokenUpdate} if the server has not
   * recorded the enrollment yet.
   *
   * @example
   * ```ts
   * const device = VirtualDevice.fromIdentity(facts, { certificate, privateKey }, { udid });
   * await device.poll();
   * ```
   */
  static fromIdentity(
    facts: EnrollmentProfileFacts,
    identity: { certificate: Certificate; privateKey: KeyObject; caCertificates?: Certificate[] },
    options: VirtualDeviceOptions = {},
  ): VirtualDevice {
    return new VirtualDevice(
      facts,
      identity.certificate,
      identity.privateKey,
      options,
      identity.caCertificates ?? [],
    );
  }

  /** The identity certificate the device signs with (a renewal replaces it). */
  get certificate(): Certificate {
    return this.identity.certificate;
  }

  /** The PayloadIdentifier of the installed MDM profile. */
  get mdmProfileId(): string {
    return this.facts.identifier ?? 'mdm.enrollment';
  }

  /** The APNs device token (hex) the mock APNs delivers to. */
  get pushToken(): string {
    return this.device.pushToken;
  }

  /** The MDM topic from the enrollment profile. */
  get topic(): string {
    return this.facts.topic;
  }

  /** The identity's private key (for tests that sign requests by hand). */
  get identityKey(): KeyObject {
    return this.identity.privateKey;
  }

  /** Installed profiles as ProfileList would report them. */
  get profiles(): InstalledProfile[] {
    return [...this.state.profiles.values()];
  }

  /** Sends Authenticate (which starts the enrollment over on the server). */
  async authenticate(): Promise<void> {
    const m = this.state.model;
    await this.checkin({
      MessageType: 'Authenticate',
      UDID: this.udid,
      Topic: this.facts.topic,
      SerialNumber: this.state.serialNumber,
      DeviceName: this.state.deviceName,
      Model: m.model,
      ModelName: m.modelName,
      ProductName: m.productName,
      OSVersion: m.osVersion,
      BuildVersion: m.buildVersion,
    });
  }

  /** Sends the device channel's TokenUpdate. */
  async tokenUpdate(): Promise<void> {
    await this.checkin(this.tokenUpdateMessage(this.device));
  }

  private tokenUpdateMessage(channel: Channel): PlistDict {
    return {
      MessageType: 'TokenUpdate',
      ...channel.ids,
      Topic: this.facts.topic,
      Token: hexToBytes(channel.pushToken),
      PushMagic: channel.pushMagic,
      ...(channel.kind === 'device' && this.platform !== 'macOS'
        ? { UnlockToken: new Uint8Array(randomBytes(64)) }
        : {}),
    };
  }

  /** Sends CheckOut, as a device does when its MDM profile is removed. */
  async checkOut(): Promise<void> {
    await this.checkin({ MessageType: 'CheckOut', UDID: this.udid, Topic: this.facts.topic });
    this.enrolled = false;
  }

  /** Sends SetBootstrapToken (macOS). */
  async setBootstrapToken(token: Uint8Array): Promise<void> {
    await this.checkin({ MessageType: 'SetBootstrapToken', UDID: this.udid, BootstrapToken: token });
  }

  /** Sends GetBootstrapToken (macOS) and returns the token the server holds, if any. */
  async getBootstrapToken(): Promise<Uint8Array | undefined> {
    const body = await this.checkin({ MessageType: 'GetBootstrapToken', UDID: this.udid });
    if (body.length === 0) return undefined;
    const dict = parse(body) as PlistDict;
    return dict.BootstrapToken instanceof Uint8Array ? dict.BootstrapToken : undefined;
  }

  /**
   * Opens a user channel for a logged-in macOS user: UserAuthenticate, then the user's TokenUpdate.
   * Returns the user channel's push token.
   */
  async enrollUser(user: { userId: string; shortName: string; longName?: string }): Promise<string> {
    if (this.platform !== 'macOS')
      throw new TestkitError('INVALID_OPTIONS', 'user channels are a macOS feature');
    const channel: Channel = {
      kind: 'user',
      ids: {
        UDID: this.udid,
        UserID: user.userId,
        UserShortName: user.shortName,
        UserLongName: user.longName ?? user.shortName,
      },
      pushToken: randomBytes(32).toString('hex'),
      pushMagic: randomUUID().toUpperCase(),
    };
    await this.checkin({ MessageType: 'UserAuthenticate', ...channel.ids });
    await this.checkin(this.tokenUpdateMessage(channel));
    this.users.set(user.userId, channel);
    return channel.pushToken;
  }

  /**
   * What happens when APNs wakes the device: it polls. Pushes arriving while a poll runs queue
   * behind it, like the device's own single connection.
   */
  receivePush(): Promise<HandledCommand[]> {
    this.pushesReceived++;
    return this.poll();
  }

  /** Waits until every poll started so far has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const current = this.busy;
      await current.catch(() => {});
      if (current === this.busy) return;
    }
  }

  /**
   * Polls the ServerURL: an Idle report, then one report per command until the server answers
   * with an empty body. Returns the commands handled in this poll. `userId` polls that user channel.
   */
  poll(userId?: string): Promise<HandledCommand[]> {
    const channel = userId === undefined ? this.device : this.users.get(userId);
    if (!channel) return Promise.reject(new TestkitError('INVALID_OPTIONS', `no user channel ${userId}`));
    const run = this.busy.catch(() => {}).then(() => this.pollChannel(channel));
    this.busy = run;
    return run;
  }

  private async pollChannel(channel: Channel): Promise<HandledCommand[]> {
    const done: HandledCommand[] = [];
    let body = await this.report(channel, { Status: 'Idle' });
    const seen = new Set<string>();
    let sync = false;
    while (body.length > 0) {
      const command = parse(body) as PlistDict;
      const uuid = String(command.CommandUUID);
      const inner = (command.Command ?? {}) as PlistDict;
      const requestType = String(inner.RequestType);
      // A command handed out again in the same poll after NotNow would loop; a device stops asking.
      if (seen.has(uuid)) break;
      seen.add(uuid);
      const notNow = this.options.notNow?.(requestType, uuid) === true;
      if (!notNow && requestType === 'RemoveProfile' && inner.Identifier === this.mdmProfileId) {
        // Removing the MDM profile unenrolls: no answer goes back, the device checks out and stops.
        this.handled.push({
          channel: channel.kind,
          commandUuid: uuid,
          requestType,
          status: 'Acknowledged',
          pushesSeen: this.pushesReceived,
          at: new Date(),
        });
        this.state.profiles.delete(this.mdmProfileId);
        await this.checkOut();
        return done;
      }
      const answer = notNow ? { Status: 'NotNow' as const } : await this.answer(channel, requestType, inner);
      if (!notNow && requestType === 'DeclarativeManagement') sync = true;
      const entry: HandledCommand = {
        channel: channel.kind,
        commandUuid: uuid,
        requestType,
        status: answer.Status,
        pushesSeen: this.pushesReceived,
        at: new Date(),
      };
      this.handled.push(entry);
      done.push(entry);
      body = await this.report(channel, { ...answer, CommandUUID: uuid });
    }
    // The DeclarativeManagement command asks for a sync, which runs over the check-in URL after the poll.
    if (sync && channel.kind === 'device') await this.syncDeclarations();
    return done;
  }

  private async answer(channel: Channel, requestType: string, inner: PlistDict) {
    if (
      requestType === 'InstallProfile' &&
      inner.Payload instanceof Uint8Array &&
      channel.kind === 'device'
    ) {
      const renewed = await this.renewIdentity(inner.Payload);
      if (renewed) return { Status: 'Acknowledged' as const };
    }
    if (requestType === 'DeclarativeManagement') return { Status: 'Acknowledged' as const };
    return answerCommand({ ...this.state, userChannel: channel.kind === 'user' }, inner);
  }

  /**
   * An InstallProfile of this enrollment's MDM profile (same identifier and topic) with a SCEP
   * payload replaces the identity: the device enrolls with SCEP again and signs everything after it,
   * starting with this command's answer, with the new certificate. False for any other profile.
   */
  private async renewIdentity(profile: Uint8Array): Promise<boolean> {
    let facts: EnrollmentProfileFacts;
    try {
      facts = await readEnrollmentProfile(profile);
    } catch {
      return false;
    }
    if (facts.topic !== this.facts.topic || (facts.identifier ?? 'mdm.enrollment') !== this.mdmProfileId)
      return false;
    const client = new ScepClient({
      url: facts.scep.url,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const ca = await client.getCaCertificates();
    const pinned = new ScepClient({
      url: facts.scep.url,
      caFingerprint: ca.ca.fingerprintSha256,
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const result = await pinned.enroll({
      subject: facts.scep.subject,
      keyBits: 2048,
      ...(facts.scep.challenge !== undefined ? { challenge: facts.scep.challenge } : {}),
    });
    this.identity = { certificate: result.certificate, privateKey: result.privateKey };
    this.state.identity = result.certificate;
    this.facts = facts;
    this.idleSignatures.clear();
    this.renewals++;
    return true;
  }

  /**
   * A DDM sync over the check-in URL, as a device runs it: `tokens`; when the DeclarationsToken
   * changed, `declaration-items` and each new or changed declaration; then a full `status` report
   * (declaration states, software update, FileVault on macOS). Returns what it did.
   */
  async syncDeclarations(): Promise<DeclarativeSync> {
    const json = async (endpoint: string): Promise<unknown> => {
      const body = await this.checkin({
        MessageType: 'DeclarativeManagement',
        UDID: this.udid,
        Endpoint: endpoint,
      });
      return JSON.parse(new TextDecoder().decode(body));
    };
    const tokens = (await json('tokens')) as { SyncTokens?: { DeclarationsToken?: string } };
    const token = String(tokens.SyncTokens?.DeclarationsToken ?? '');
    const fetched: string[] = [];
    const removed: string[] = [];
    if (token !== this.declarationsToken) {
      const items = declarationItemsOf(await json('declaration-items'));
      const listed = new Set(items.map((i) => `${i.kind}/${i.identifier}`));
      for (const key of [...this.declarations.keys()]) {
        if (!listed.has(key)) {
          this.declarations.delete(key);
          removed.push(key);
        }
      }
      for (const item of items) {
        const key = `${item.kind}/${item.identifier}`;
        if (this.declarations.get(key)?.ServerToken === item.serverToken) continue;
        this.declarations.set(key, (await json(`declaration/${key}`)) as HeldDeclaration);
        fetched.push(key);
      }
      this.declarationsToken = token;
    }
    const status = statusReport([...this.declarations.values()], {
      model: this.state.model,
      fileVaultEnabled: this.options.fileVaultEnabled ?? true,
      ...(this.options.pendingUpdate ? { pendingUpdate: this.options.pendingUpdate } : {}),
    });
    await this.checkin({
      MessageType: 'DeclarativeManagement',
      UDID: this.udid,
      Endpoint: 'status',
      Data: new TextEncoder().encode(JSON.stringify(status)),
    });
    return { declarationsToken: token, fetched, removed, status };
  }

  /** What the device itself sends goes nowhere once it unenrolled; {@link VirtualDevice.send} still does. */
  private checkEnrolled(): void {
    if (!this.enrolled) throw new TestkitError('UNENROLLED', 'the device is not enrolled and sends nothing');
  }

  private async report(channel: Channel, fields: Record<string, unknown>): Promise<Uint8Array> {
    this.checkEnrolled();
    const result =
      this.options.reuseIdleSignature === true && fields.Status === 'Idle'
        ? await this.sendIdle(channel)
        : await this.send(this.facts.serverUrl, { ...channel.ids, ...fields }, { contentType: undefined });
    if (result.status !== 200) {
      throw new TestkitError('REQUEST_FAILED', `the server answered a report with ${result.status}`);
    }
    return result.body;
  }

  private async sendIdle(channel: Channel): Promise<DeviceHttpResult> {
    let idle = this.idleSignatures.get(channel);
    if (!idle) {
      const body = new TextEncoder().encode(buildXml({ ...channel.ids, Status: 'Idle' }));
      idle = { body, signature: await this.sign(body) };
      this.idleSignatures.set(channel, idle);
    }
    return this.send(this.facts.serverUrl, idle.body, { contentType: undefined, signature: idle.signature });
  }

  private async checkin(message: PlistDict): Promise<Uint8Array> {
    this.checkEnrolled();
    const result = await this.send(this.facts.checkInUrl, message, { contentType: CHECKIN_CONTENT_TYPE });
    if (result.status !== 200) {
      throw new TestkitError(
        'REQUEST_FAILED',
        `the server answered ${String(message.MessageType)} with ${result.status}`,
      );
    }
    return result.body;
  }

  /**
   * Sends one plist body, signed with `Mdm-Signature` by this device's identity or by `signWith`.
   * Tests use it to send what a real device never would (another UDID, a stale signature). A 401
   * answer to a request signed by the device's own identity unenrolls the device, as on real
   * hardware; this method itself keeps sending, so tests can probe an unenrolled identity.
   *
   * @example
   * ```ts
   * const { status } = await device.send(url, { MessageType: 'CheckOut', UDID: other.udid });
   * ```
   */
  async send(
    url: string,
    message: Record<string, unknown> | Uint8Array,
    options: {
      contentType?: string | undefined;
      signWith?: { certificate: Certificate; privateKey: KeyObject };
      /** Use this Mdm-Signature value as is (replays). */
      signature?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<DeviceHttpResult> {
    const body =
      message instanceof Uint8Array ? message : new TextEncoder().encode(buildXml(message as PlistValue));
    const signer = options.signWith ?? this.identity;
    const signature =
      options.signature ??
      Buffer.from(
        await signCms({
          content: body,
          certificate: signer.certificate,
          privateKey: signer.privateKey,
          detached: true,
        }),
      ).toString('base64');
    const headers: Record<string, string> = { 'mdm-signature': signature, ...options.headers };
    const contentType = 'contentType' in options ? options.contentType : CHECKIN_CONTENT_TYPE;
    if (contentType) headers['content-type'] = contentType;
    const answer = await fetchBounded(
      this.options.fetch ?? fetch,
      url,
      { method: 'PUT', headers, body },
      { timeoutMs: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, maxBytes: MAX_ANSWER_BYTES },
    );
    if (answer.status === 401 && options.signWith === undefined && options.signature === undefined) {
      // A 401 tells the device to unenroll: it removes its MDM profile and talks to the server no more.
      this.unauthorizedAnswers++;
      this.unenrolledBy401 = true;
      this.enrolled = false;
      this.state.profiles.delete(this.mdmProfileId);
    }
    return answer;
  }

  /** Signs a body like this device does, and returns the Mdm-Signature value. */
  async sign(body: Uint8Array): Promise<string> {
    const der = await signCms({
      content: body,
      certificate: this.identity.certificate,
      privateKey: this.identity.privateKey,
      detached: true,
    });
    return Buffer.from(der).toString('base64');
  }
}
