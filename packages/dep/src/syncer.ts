// The per-token sync loop and the default-profile assigner, run under a storage lease.
import { randomUUID } from 'node:crypto';
import type { KeyProvider } from '@mdmkit/crypto';
import type { DepDeviceRecord, DepStore, DepTokenRecord, Lease, LeaseStore } from '@mdmkit/storage';
import { DepClient, type DepClientOptions, MAX_DEVICE_LIMIT } from './client';
import { type Clock, systemClock } from './clock';
import { toDeviceInput } from './devices';
import { DepError } from './errors';
import type { DeviceListResponse } from './schemas';
import { openDepToken } from './tokens';

/** A change the syncer stored, or an assignment it made. */
export type DepSyncEvent =
  | { type: 'added' | 'modified' | 'deleted'; tokenName: string; serialNumber: string }
  | { type: 'assigned'; tokenName: string; serialNumber: string; profileUuid: string; status: string };

/** What one run of {@link DepSyncer.syncToken} did. */
export interface DepSyncReport {
  tokenName: string;
  /** False when another replica holds the token's lease; nothing was done. */
  ran: boolean;
  pages: number;
  added: number;
  modified: number;
  deleted: number;
  assigned: number;
  /** True when Apple refused the cursor (invalid or expired) and the run started over with a fetch. */
  cursorReset: boolean;
  /**
   * True when the run stopped at `maxPagesPerRun` while the server still said `more_to_follow`; the
   * pages so far are stored and the next run carries on from the stored cursor.
   */
  morePending: boolean;
}

/** What one run of {@link DepSyncer.assignDefaultProfile} did. */
export interface DepAssignReport {
  /** False when another replica holds the token's lease; nothing was sent. */
  ran: boolean;
  /** Devices Apple answered `SUCCESS` for. */
  assigned: number;
}

/** Options of {@link DepSyncer}. */
export interface DepSyncerOptions {
  store: DepStore;
  leases: LeaseStore;
  /** Opens the sealed token credentials. */
  keyProvider: KeyProvider;
  /** This replica's lease holder id. Default a random UUID. */
  holder?: string;
  /** Time between two syncs of a token in the background loop. Default 30 minutes. */
  intervalMs?: number;
  /** Lease lifetime; renewed after every page. Default 120 000 ms. */
  leaseTtlMs?: number;
  /** Devices asked for per page (≤ 1000). Default 1000. */
  pageLimit?: number;
  /**
   * Most pages one run fetches before it ends (with `morePending`), so a server that never stops
   * answering `more_to_follow` cannot hold the lease and grow the store without end. Default 1000
   * (a million devices at the default page size).
   */
  maxPagesPerRun?: number;
  clock?: Clock;
  /** Extra client options (retry policy, timeouts, dispatcher). */
  client?: Omit<DepClientOptions, 'token' | 'baseUrl' | 'clock'>;
  /** Called for every stored change and assignment. A throwing listener is ignored. */
  onEvent?: (event: DepSyncEvent) => void;
  /**
   * Called when a background run fails (the loop carries on); `tokenName` is `*` when the token list
   * itself could not be read. A throwing listener is ignored.
   */
  onError?: (error: unknown, tokenName: string) => void;
}

/** The lease name that guards one token's sync. */
export const depLeaseName = (tokenName: string): string => `dep-sync:${tokenName}`;

/**
 * Syncs every stored ABM token: a full fetch until the cursor is exhausted, then syncs on an
 * interval; stores devices and the cursor page by page (atomically, fenced by the lease token);
 * starts over after an invalid or expired cursor; gives newly added devices the token's default
 * profile. Each token is synced under its own lease, so several replicas never sync one token at once.
 *
 * @example
 * ```ts
 * import { DepSyncer } from '@mdmkit/dep';
 * const syncer = new DepSyncer({ store: depStore, leases: storage, keyProvider, onEvent: (e) => console.log(e) });
 * const report = await syncer.syncToken('main'); // "sync now"
 * syncer.start(); // background loop for every token
 * await syncer.stop();
 * ```
 */
export class DepSyncer {
  readonly holder: string;
  readonly #o: DepSyncerOptions;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #ttl: number;
  readonly #limit: number;
  readonly #maxPages: number;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: DepSyncerOptions) {
    this.#o = options;
    this.holder = options.holder ?? randomUUID();
    this.#clock = options.clock ?? systemClock;
    this.#interval = options.intervalMs ?? 30 * 60_000;
    this.#ttl = options.leaseTtlMs ?? 120_000;
    this.#limit = options.pageLimit ?? MAX_DEVICE_LIMIT;
    if (!Number.isInteger(this.#limit) || this.#limit < 1 || this.#limit > MAX_DEVICE_LIMIT) {
      throw new DepError('INVALID_INPUT', `pageLimit must be 1 to ${MAX_DEVICE_LIMIT}`);
    }
    this.#maxPages = options.maxPagesPerRun ?? 1000;
    if (!Number.isSafeInteger(this.#maxPages) || this.#maxPages < 1) {
      throw new DepError('INVALID_INPUT', 'maxPagesPerRun must be a positive integer');
    }
  }

  /** Starts the background loop (idempotent): every token, then a pause of `intervalMs`. */
  start(): void {
    if (this.#loop) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = (async () => {
      while (!abort.signal.aborted) {
        try {
          await this.syncAll(abort.signal);
        } catch (e) {
          // The token list itself could not be read (storage down): report it and try next round,
          // never end the loop with a rejection nobody awaits.
          this.#report(e, '*');
        }
        await this.#clock.sleep(this.#interval, abort.signal);
      }
    })();
  }

  /** Stops the loop after the page in flight. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Syncs every token once; failures go to `onError` and do not stop the others. */
  async syncAll(signal?: AbortSignal): Promise<DepSyncReport[]> {
    const reports: DepSyncReport[] = [];
    for (const t of await this.#o.store.listDepTokens()) {
      if (signal?.aborted) break;
      try {
        reports.push(await this.syncToken(t.name, signal));
      } catch (e) {
        this.#report(e, t.name);
      }
    }
    return reports;
  }

  /**
   * Syncs one token now (the "sync now" button), then assigns its default profile. Returns
   * `ran: false` at once when another replica holds the token's lease.
   *
   * @example
   * ```ts
   * const report = await syncer.syncToken('main');
   * if (!report.ran) console.log('another replica is syncing this token');
   * else console.log(`${report.added} new, ${report.assigned} given the default profile`);
   * ```
   */
  async syncToken(tokenName: string, signal?: AbortSignal): Promise<DepSyncReport> {
    const report: DepSyncReport = {
      tokenName,
      ran: false,
      pages: 0,
      added: 0,
      modified: 0,
      deleted: 0,
      assigned: 0,
      cursorReset: false,
      morePending: false,
    };
    await this.#leased(tokenName, async (client, record, fence, renew) => {
      report.ran = true;
      await this.#pull(client, tokenName, fence, report, renew, signal);
      if (record.defaultProfileUuid)
        await this.#assign(client, tokenName, record.defaultProfileUuid, fence, report, renew);
      await this.#o.store.updateDepTokenStatus(tokenName, {
        lastSyncAt: new Date(this.#clock.now()),
        termsNotSigned: undefined,
        lastError: undefined,
      });
    });
    return report;
  }

  /**
   * Gives the default profile to every device awaiting one (outside a sync, e.g. after the admin
   * changed the default), under the token's lease like a sync, so two replicas never assign at once.
   * `ran` is false when another replica holds the lease; `assigned` counts the devices Apple
   * answered `SUCCESS` for.
   *
   * @example
   * ```ts
   * await depStore.updateDepTokenStatus('main', { defaultProfileUuid: newProfileUuid });
   * const { ran, assigned } = await syncer.assignDefaultProfile('main');
   * if (!ran) console.log('another replica is working on this token; try again later');
   * ```
   */
  async assignDefaultProfile(tokenName: string): Promise<DepAssignReport> {
    const report: DepAssignReport = { ran: false, assigned: 0 };
    await this.#leased(tokenName, async (client, record, fence, renew) => {
      report.ran = true;
      if (record.defaultProfileUuid)
        await this.#assign(client, tokenName, record.defaultProfileUuid, fence, report, renew);
    });
    return report;
  }

  /**
   * Runs `work` holding the token's lease, with a client for the token; does nothing when another
   * replica holds it. A failure is recorded on the token and rethrown; the lease is always released.
   */
  async #leased(
    tokenName: string,
    work: (
      client: DepClient,
      record: DepTokenRecord,
      fence: number,
      renew: () => Promise<Lease>,
    ) => Promise<void>,
  ): Promise<void> {
    let lease = await this.#o.leases.acquireLease(
      depLeaseName(tokenName),
      this.holder,
      this.#ttl,
      new Date(this.#clock.now()),
    );
    if (!lease) return;
    let client: DepClient | undefined;
    try {
      const record = await this.#o.store.getDepToken(tokenName);
      if (!record) throw new DepError('INVALID_INPUT', `no DEP token ${JSON.stringify(tokenName)}`);
      client = await this.#client(record);
      const renew = async (): Promise<Lease> => {
        const next = await this.#o.leases.renewLease(lease!, this.#ttl, new Date(this.#clock.now()));
        if (!next) throw new DepError('LEASE_LOST', `lost the lease of ${tokenName} to another replica`);
        lease = next;
        return next;
      };
      await work(client, record, lease.token, renew);
    } catch (e) {
      await this.#recordFailure(tokenName, e);
      throw e;
    } finally {
      await client?.close();
      await this.#o.leases.releaseLease(lease).catch(() => false);
    }
  }

  async #client(record: DepTokenRecord): Promise<DepClient> {
    const token = await openDepToken(record, this.#o.keyProvider);
    return new DepClient({
      ...this.#o.client,
      token,
      clock: this.#clock,
      ...(record.baseUrl && { baseUrl: record.baseUrl }),
    });
  }

  async #pull(
    client: DepClient,
    tokenName: string,
    fence: number,
    report: DepSyncReport,
    renew: () => Promise<Lease>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { store } = this.#o;
    for (;;) {
      if (signal?.aborted) return;
      const saved = await store.getDepCursor(tokenName);
      const phase = saved?.phase ?? 'fetch';
      let page: DeviceListResponse;
      try {
        page =
          phase === 'sync' && saved
            ? await client.syncDevices({ cursor: saved.cursor, limit: this.#limit })
            : await client.fetchDevices({ ...(saved && { cursor: saved.cursor }), limit: this.#limit });
      } catch (e) {
        // Only a fetch cursor can run out; a sync answering EXHAUSTED_CURSOR would be asked again forever.
        if (e instanceof DepError && e.code === 'CURSOR_EXHAUSTED' && saved && phase === 'fetch') {
          // The fetch is complete: the same cursor now feeds sync.
          await store.applyDepPage({ tokenName, fence, cursor: saved.cursor, phase: 'sync', devices: [] });
          continue;
        }
        if (
          e instanceof DepError &&
          (e.code === 'CURSOR_INVALID' || e.code === 'CURSOR_EXPIRED') &&
          !report.cursorReset
        ) {
          report.cursorReset = true;
          await store.resetDepCursor(tokenName, fence);
          continue;
        }
        throw e;
      }
      if (page.more_to_follow && saved && page.cursor === saved.cursor) {
        // The next request would be this one again: a server that does not move its cursor forward
        // would keep the sync (and its lease) running forever.
        throw new DepError('INVALID_RESPONSE', 'more_to_follow with the cursor unchanged: no progress', {
          status: 200,
        });
      }
      const devices = page.devices.map((d) => toDeviceInput(d, phase));
      // After the last page of a fetch the cursor is the starting point of sync.
      const nextPhase = phase === 'fetch' && !page.more_to_follow ? 'sync' : phase;
      const result = await store.applyDepPage({
        tokenName,
        fence,
        cursor: page.cursor,
        phase: nextPhase,
        devices,
      });
      report.pages++;
      report.added += result.added.length;
      report.modified += result.modified.length;
      report.deleted += result.deleted.length;
      for (const type of ['added', 'modified', 'deleted'] as const) {
        for (const serialNumber of result[type]) this.#emit({ type, tokenName, serialNumber });
      }
      if (!page.more_to_follow) return;
      if (report.pages >= this.#maxPages) {
        report.morePending = true;
        return;
      }
      await renew();
    }
  }

  async #assign(
    client: DepClient,
    tokenName: string,
    profileUuid: string,
    fence: number,
    report: { assigned: number },
    renew: () => Promise<Lease>,
  ): Promise<void> {
    const { store } = this.#o;
    for (;;) {
      // A round of up to 1000 devices is one more call to Apple: keep the lease, or stop (LEASE_LOST).
      await renew();
      const waiting: DepDeviceRecord[] = await store.listDepDevicesAwaitingProfile(
        tokenName,
        MAX_DEVICE_LIMIT,
      );
      if (waiting.length === 0) return;
      let recorded = 0;
      const answer = await client.assignProfile(
        profileUuid,
        waiting.map((d) => d.serialNumber),
      );
      const at = new Date(this.#clock.now());
      for (const d of waiting) {
        const status = answer.devices[d.serialNumber];
        if (status === undefined || status === 'THROTTLED') continue;
        // Fenced: if another replica took the lease over while Apple answered, this is refused (FENCED).
        await store.recordDepAssignment(
          { tokenName, serialNumber: d.serialNumber, profileUuid, status, assignedAt: at },
          fence,
        );
        recorded++;
        if (status === 'SUCCESS') report.assigned++;
        this.#emit({ type: 'assigned', tokenName, serialNumber: d.serialNumber, profileUuid, status });
      }
      // A round that recorded nothing (every device throttled) ends here; the next sync retries.
      if (recorded === 0) return;
    }
  }

  async #recordFailure(tokenName: string, e: unknown): Promise<void> {
    const terms = e instanceof DepError && e.code === 'TERMS_NOT_SIGNED';
    const message = e instanceof DepError ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
    await this.#o.store
      .updateDepTokenStatus(tokenName, {
        lastError: message.slice(0, 500),
        ...(terms && { termsNotSigned: true }),
      })
      .catch(() => {});
  }

  #report(error: unknown, tokenName: string): void {
    try {
      this.#o.onError?.(error, tokenName);
    } catch {
      // A throwing error listener must not stop the loop either.
    }
  }

  #emit(event: DepSyncEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch {
      // A listener's failure must not stop the sync; the change is already stored.
    }
  }
}
