import type { KeyObject } from 'node:crypto';
import type { Certificate } from '@mdmkit/crypto';
import { TestkitError } from '../errors';
import { type HandledCommand, VirtualDevice } from '../virtual-device/device';
import type { EnrollmentProfileFacts } from '../virtual-device/enrollment-profile';
import type { DevicePlatform } from '../virtual-device/models';
import { pace } from './pace';
import { FleetStats, type FleetOperation } from './stats';

/** Options of {@link Fleet}. */
export interface FleetOptions {
  /**
   * A fresh enrollment profile for the next device (servers such as mdmkit's hand out a one-time SCEP
   * challenge per profile, so this is usually a GET of the enrollment URL).
   */
  profile?: () => Promise<Uint8Array>;
  /** Transport for every device request (e.g. to map the profile's public origin to a local server). */
  fetch?: typeof fetch;
  /** Platforms given to new devices in turn. Default macOS, iOS, iPadOS. */
  platforms?: readonly DevicePlatform[];
  /** Reuse each device's Idle signature while the body is unchanged. Default true. */
  reuseIdleSignature?: boolean;
  /**
   * Deadline of each device request, the answer's body included (ms): a server that hangs costs
   * failed operations, counted under their message, never a run that does not end. Default 30,000.
   */
  requestTimeoutMs?: number;
  /** Called with each device once it is enrolled (e.g. to register it with a mock APNs). */
  onEnrolled?: (device: VirtualDevice) => void;
}

/** Rate, length and parallelism of a paced phase. */
export interface PhaseOptions {
  /** Operations started per second. */
  rate: number;
  /** How long to keep starting operations (ms); or give `total`. */
  durationMs?: number;
  /** How many operations to start; or give `durationMs`. */
  total?: number;
  /** Operations in flight at most. Default 64. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Options of {@link Fleet.roundTrips}. */
export interface RoundTripOptions extends PhaseOptions {
  /**
   * Queues one command for each of these device ids on the server under test (through its own API).
   * Without it, a round trip is a poll that answers whatever the server had queued.
   */
  enqueue?: (udids: string[]) => Promise<void>;
}

const DEFAULT_PLATFORMS: readonly DevicePlatform[] = ['macOS', 'iOS', 'iPadOS'];
const DEFAULT_CONCURRENCY = 64;

/**
 * Many virtual devices in one process, each with its own SCEP identity (an RSA key: the SCEP servers
 * devices meet take RSA CSRs), enrolling, checking in and answering commands at given rates, with
 * latency percentiles and error counts in {@link Fleet.stats}. A device's Idle report is signed once
 * and its signature reused while the body is unchanged, as real devices' bodies are byte-identical
 * too; every other request is signed afresh.
 *
 * @example
 * ```ts
 * const fleet = new Fleet({ profile: () => getProfile(), fetch: localFetch });
 * await fleet.enroll(100, { rate: 50 });
 * await fleet.checkIns({ rate: 200, durationMs: 10_000 });
 * console.log(fleet.stats.summary());
 * ```
 */
export class Fleet {
  readonly devices: VirtualDevice[] = [];
  readonly stats = new FleetStats();
  private readonly busy = new Set<VirtualDevice>();
  private readonly waiters: (() => void)[] = [];
  private cursor = 0;
  private created = 0;

  constructor(private readonly options: FleetOptions = {}) {}

  /** Adds a device created elsewhere (e.g. {@link VirtualDevice.fromIdentity}). */
  add(device: VirtualDevice): void {
    this.devices.push(device);
  }

  /**
   * Adds a device whose identity was issued out of band and whose enrollment the server already holds
   * (benchmarks that seed storage instead of enrolling thousands through SCEP).
   *
   * @example
   * ```ts
   * fleet.adopt(facts, { certificate, privateKey }, 'UDID-1');
   * ```
   */
  adopt(
    facts: EnrollmentProfileFacts,
    identity: { certificate: Certificate; privateKey: KeyObject },
    udid: string,
  ): VirtualDevice {
    const device = VirtualDevice.fromIdentity(facts, identity, this.deviceOptions(udid));
    this.add(device);
    return device;
  }

  private deviceOptions(udid?: string) {
    const platforms = this.options.platforms ?? DEFAULT_PLATFORMS;
    return {
      platform: platforms[this.created++ % platforms.length] as DevicePlatform,
      reuseIdleSignature: this.options.reuseIdleSignature ?? true,
      ...(udid !== undefined && { udid }),
      ...(this.options.fetch && { fetch: this.options.fetch }),
      ...(this.options.requestTimeoutMs !== undefined && { requestTimeoutMs: this.options.requestTimeoutMs }),
    };
  }

  /**
   * Enrolls `count` more devices (profile, SCEP, Authenticate, TokenUpdate) at up to `rate` per second.
   * A failed enrollment is counted under `enroll` errors and leaves no device behind.
   */
  async enroll(count: number, options: Omit<PhaseOptions, 'total' | 'durationMs'>): Promise<void> {
    const getProfile = this.options.profile;
    if (!getProfile) throw new TestkitError('INVALID_OPTIONS', 'enrolling needs a profile source');
    await this.phase('enroll', { ...options, total: count }, async () => {
      const device = await VirtualDevice.enroll(await getProfile(), this.deviceOptions());
      this.devices.push(device);
      this.options.onEnrolled?.(device);
    });
  }

  /** Idle check-ins (polls that answer any queued command) at `rate` per second, devices in turn. */
  async checkIns(options: PhaseOptions): Promise<void> {
    this.needDevices();
    await this.phase('idle', options, async () => {
      await this.withDevice((d) => d.poll());
    });
  }

  /**
   * Command round trips at `rate` per second: queue a command for a device, then that device polls,
   * answers and gets the server's next (empty) answer. A round trip in which the device received no
   * command is an error when `enqueue` is given.
   */
  async roundTrips(options: RoundTripOptions): Promise<void> {
    this.needDevices();
    const { enqueue } = options;
    await this.phase('roundTrip', options, async () => {
      await this.withDevice(async (d) => {
        if (enqueue) await enqueue([d.udid]);
        const handled = await d.poll();
        if (enqueue && handled.length === 0)
          throw new TestkitError('REQUEST_FAILED', 'the device was handed no command');
        return handled;
      });
    });
  }

  private needDevices(): void {
    if (this.devices.length === 0) throw new TestkitError('INVALID_OPTIONS', 'the fleet has no devices');
  }

  /**
   * Runs `fn` on the next device that has no operation of this fleet in flight (a device polls on one
   * connection at a time); when every device is busy, waits for one to be released.
   */
  private async withDevice(fn: (d: VirtualDevice) => Promise<HandledCommand[]>): Promise<void> {
    let device = this.nextFree();
    while (!device) {
      await new Promise<void>((r) => this.waiters.push(r));
      device = this.nextFree();
    }
    this.busy.add(device);
    try {
      for (const h of await fn(device)) this.stats.answered(h.status);
    } finally {
      this.busy.delete(device);
      this.waiters.shift()?.();
    }
  }

  private nextFree(): VirtualDevice | undefined {
    for (let tries = 0; tries < this.devices.length; tries++) {
      const d = this.devices[this.cursor++ % this.devices.length] as VirtualDevice;
      if (!this.busy.has(d)) return d;
    }
    return undefined;
  }

  private async phase(op: FleetOperation, options: PhaseOptions, fn: () => Promise<void>): Promise<void> {
    const started = performance.now();
    await pace(
      {
        rate: options.rate,
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        ...(options.total !== undefined && { total: options.total }),
        ...(options.durationMs !== undefined && { durationMs: options.durationMs }),
        ...(options.signal && { signal: options.signal }),
      },
      async () => {
        const t = performance.now();
        try {
          await fn();
          this.stats.succeeded(op, performance.now() - t);
        } catch (e) {
          this.stats.failed(op, e);
        }
      },
    );
    this.stats.ran(op, performance.now() - started);
  }
}
