import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { ApnsError } from './errors';
import type { MdmPush, PushResult } from './types';

/**
 * One push on its way through pool, connection and retries. A job is on at most one stream at a
 * time, so the state of its current request lives here too: one object per push, no per-request
 * closures.
 */
export class Job {
  /** Requests sent that may have been processed by APNs. */
  attempts = 0;
  /** Re-sends of requests APNs provably never processed (refused, above GOAWAY's last stream). */
  unprocessed = 0;
  settled = false;
  /** Of the current request: HTTP status (0 until answered), apns-id, error body chunks. */
  status = 0;
  apnsId: string | undefined = undefined;
  chunks: Buffer[] | undefined = undefined;
  timedOut = false;
  /** `Date.now()` after which the current request times out. */
  deadline = 0;
  stream: ClientHttp2Stream | undefined = undefined;
  /** The connection carrying the current request (typed loosely to avoid an import cycle). */
  conn: unknown = undefined;

  constructor(
    readonly push: MdmPush,
    readonly headers: OutgoingHttpHeaders,
    /** JSON text of the payload; a string is written to the stream without a Buffer copy. */
    readonly body: string,
    readonly settle: (result: PushResult) => void,
  ) {}
}

/** What happened to one request on one connection. */
export type Outcome =
  | { kind: 'answer'; status: number; apnsId: string | undefined; body: string }
  /** Provably not processed by APNs: safe to send again at once. */
  | { kind: 'unprocessed' }
  /** No answer; APNs may or may not have processed it. */
  | { kind: 'failed'; error: ApnsError; reason: 'Timeout' | 'ConnectionFailed' };
