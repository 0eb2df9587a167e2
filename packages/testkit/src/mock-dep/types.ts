import type { OAuth1Credentials } from '@mdmkit/crypto';
import type { MockDepDevice, MockDepInventory } from './inventory';

/** Options of {@link startMockDep}. */
export interface MockDepOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** OAuth credentials the mock accepts. Default: random ones, read back from `MockDep.credentials`. */
  credentials?: Partial<OAuth1Credentials>;
  /** Devices present before the first fetch. Default 0. */
  devices?: number;
  /** Session lifetime. Default 5 minutes. */
  sessionTtlMs?: number;
  /** Cursor lifetime (Apple keeps them for 7 days). Default 7 days. */
  cursorTtlMs?: number;
  /** Allowed distance between the OAuth timestamp and the mock's clock. Default 600 s. */
  timestampSkewSeconds?: number;
  /** The mock's clock. Default Date.now. */
  now?: () => number;
  serverName?: string;
  orgName?: string;
}

/** A one-off wrong answer, for testing how a client copes. */
export type MockDepFault =
  /** An HTML error page with this status, as a proxy or load balancer sends. */
  | { kind: 'html'; status?: number }
  /** A 200 whose body stops half-way and the connection closes. */
  | { kind: 'truncate' }
  /** A 200 with this literal body (e.g. JSON missing fields). */
  | { kind: 'body'; body: string; status?: number }
  /** This status with Apple's error word as body. */
  | { kind: 'status'; status: number; body?: string }
  /** No answer at all: the connection stays open until the client gives up or the mock closes. */
  | { kind: 'hang' };

/** One request as the mock saw it. */
export interface MockDepRequestRecord {
  method: string;
  path: string;
  protocolVersion: string | undefined;
  status: number;
}

/** A running mock DEP service. */
export interface MockDep {
  /** Base URL, e.g. `http://127.0.0.1:52100`. */
  readonly url: string;
  readonly credentials: OAuth1Credentials;
  readonly inventory: MockDepInventory;
  /** The last 10 000 requests, oldest first. */
  readonly requests: MockDepRequestRecord[];
  /** Sessions handed out so far. */
  readonly sessionsIssued: number;
  /** When true every call answers 403 `T_C_NOT_SIGNED`, as when ABM has new terms to accept. */
  termsNotSigned: boolean;
  /** Adds (or replaces) a device, recorded as `added` (or `modified`) for sync. */
  addDevice(serial: string, fields?: Partial<MockDepDevice>): MockDepDevice;
  /** Changes a device, recorded as `modified`. */
  modifyDevice(serial: string, fields: Partial<MockDepDevice>): MockDepDevice;
  /** Removes a device, recorded as `deleted`. */
  deleteDevice(serial: string): void;
  /** Adds `count` generated devices without change entries (as if present before the first fetch). */
  seed(count: number): void;
  /** Answers the next `count` calls with `status` (429 by default) and `Retry-After: retryAfterSeconds`. */
  throttle(count: number, opts?: { status?: 429 | 503; retryAfterSeconds?: number }): void;
  /** Answers the next call to `path` (or any path) with a fault. */
  injectFault(fault: MockDepFault, opts?: { path?: string }): void;
  /** Makes every session handed out so far expired (next call gets 401). */
  expireSessions(): void;
  /** Makes every cursor handed out so far expired (next use gets 400 `EXPIRED_CURSOR`). */
  expireCursors(): void;
  close(): Promise<void>;
}
