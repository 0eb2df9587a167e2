import type { OutgoingHttpHeaders } from 'node:http2';
import type { ApnsError } from './errors';
import type { MdmPush, PushResult } from './types';

/** One push on its way through pool, connection and retries. */
export interface Job {
  readonly push: MdmPush;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  /** Requests sent that may have been processed by APNs. */
  attempts: number;
  /** Re-sends of requests APNs provably never processed (refused, above GOAWAY's last stream). */
  unprocessed: number;
  settled: boolean;
  readonly settle: (result: PushResult) => void;
}

/** What happened to one request on one connection. */
export type Outcome =
  | { kind: 'answer'; status: number; apnsId: string | undefined; body: string }
  /** Provably not processed by APNs: safe to send again at once. */
  | { kind: 'unprocessed' }
  /** No answer; APNs may or may not have processed it. */
  | { kind: 'failed'; error: ApnsError; reason: 'Timeout' | 'ConnectionFailed' };
