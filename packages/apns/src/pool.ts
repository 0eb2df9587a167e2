import { Connection, type ConnectionConfig, type ConnectionOwner } from './connection';
import { ApnsError } from './errors';
import type { Job, Outcome } from './job';

export interface PoolConfig extends ConnectionConfig {
  maxConnections: number;
}

export interface PoolOwner {
  onOutcome(job: Job, outcome: Outcome): void;
  onAnswer(job: Job, status: number, apnsId: string | undefined, body: string): void;
}

/**
 * The sessions for one certificate. Pushes go to the first session with a free stream slot; a further
 * session opens only when every open one is at the peer's MAX_CONCURRENT_STREAMS and work is waiting.
 */
export class SessionPool implements ConnectionOwner {
  private readonly conns: Connection[] = [];
  private queue: Job[] = [];
  private queueHead = 0;
  private connecting = 0;
  private closed = false;

  constructor(
    private readonly cfg: PoolConfig,
    private readonly owner: PoolOwner,
  ) {}

  get connectionCount(): number {
    return this.conns.length;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.conns) n += c.active;
    return n;
  }

  submit(job: Job): void {
    if (this.closed) {
      this.owner.onOutcome(job, {
        kind: 'failed',
        reason: 'ConnectionFailed',
        error: new ApnsError('CLOSED', 'the session pool was closed'),
      });
      return;
    }
    const conn = this.pick();
    if (conn) {
      conn.send(job);
      return;
    }
    this.queue.push(job);
    this.grow();
  }

  /** Takes the queued jobs away (used when the certificate changes). */
  takeQueued(): Job[] {
    const jobs = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    return jobs;
  }

  /** Closes every session after its active streams; queued jobs must have been taken first. */
  drain(): void {
    this.closed = true;
    for (const c of this.conns) c.drain();
  }

  destroy(): void {
    this.closed = true;
    for (const c of [...this.conns]) c.destroy();
  }

  onReady(conn: Connection): void {
    this.connecting--;
    this.dispatch(conn);
    this.grow();
  }

  onCapacity(conn: Connection): void {
    this.dispatch(conn);
  }

  onOutcome(conn: Connection, job: Job, outcome: Outcome): void {
    if (this.queued > 0 && conn.available) this.dispatch(conn);
    this.owner.onOutcome(job, outcome);
  }

  onAnswer(conn: Connection, job: Job, status: number, apnsId: string | undefined, body: string): void {
    if (this.queueHead < this.queue.length && conn.available) this.dispatch(conn);
    this.owner.onAnswer(job, status, apnsId, body);
  }

  onClosed(conn: Connection, wasReady: boolean, error: Error | undefined): void {
    const i = this.conns.indexOf(conn);
    if (i >= 0) this.conns.splice(i, 1);
    if (!wasReady) this.connecting--;
    if (this.queued === 0) return;
    if (!wasReady && !this.conns.some((c) => c.ready && !c.unusable)) {
      // The connection never came up and nothing else can carry the waiting pushes: hand them back
      // as failed attempts, so that backoff and the attempt limit apply instead of a reconnect loop.
      const err = error ?? new ApnsError('CONNECTION_FAILED', `cannot connect to ${this.cfg.origin}`);
      for (const job of this.takeQueued()) {
        // A failed connection attempt counts as an attempt of every push that waited for it.
        job.attempts++;
        this.owner.onOutcome(job, {
          kind: 'failed',
          reason: 'ConnectionFailed',
          error:
            err instanceof ApnsError ? err : new ApnsError('CONNECTION_FAILED', err.message, { cause: err }),
        });
      }
      return;
    }
    this.grow();
  }

  private pick(): Connection | undefined {
    for (const c of this.conns) if (c.available) return c;
    return undefined;
  }

  private dispatch(conn: Connection): void {
    while (this.queueHead < this.queue.length && conn.available) {
      const job = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Job;
      conn.send(job);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private grow(): void {
    if (this.closed || this.queued === 0 || this.connecting > 0) return;
    const usable = this.conns.filter((c) => !c.unusable).length;
    if (usable >= this.cfg.maxConnections) return;
    this.connecting++;
    const conn = new Connection(this.cfg, this);
    this.conns.push(conn);
  }
}
