// "A reader following the audit log never misses an event": the scenario every SQL adapter runs
// against a second writer of its own dialect, written once.

/** The audit calls the scenario needs (structural, so this package does not depend on storage). */
export interface AuditLog {
  appendAuditEvent(e: {
    actor: string;
    action: 'secret.read';
    owner: string;
    kind: string;
    reason: string;
    at: Date;
  }): Promise<unknown>;
  listAuditEvents(o?: { after?: string }): Promise<{ items: { id: string; reason: string }[] }>;
}

/**
 * A slow writer (another process, through `slow`) takes an id and does not commit; the store appends
 * and a reader lists; then the slow writer commits and the reader continues with `after` its last id.
 * Returns every reason the reader saw, sorted: `['fast writer', 'slow writer']` when nothing was missed.
 * `slow.insert` must leave a row with reason 'slow writer' uncommitted.
 *
 * @example
 * ```ts
 * expect(await reasonsSeenByFollower(storage, { insert, commit })).toEqual(['fast writer', 'slow writer']);
 * ```
 */
export async function reasonsSeenByFollower(
  log: AuditLog,
  slow: { insert(): Promise<void>; commit(): Promise<void> },
): Promise<string[]> {
  await slow.insert();
  const appended = log.appendAuditEvent({
    actor: 'alice',
    action: 'secret.read',
    owner: 'UDID-1',
    kind: 'prk',
    reason: 'fast writer',
    at: new Date(),
  });
  await new Promise((r) => setTimeout(r, 300));
  const first = await log.listAuditEvents();
  const seen = first.items.map((e) => e.reason);
  const last = first.items.at(-1)?.id;
  await slow.commit();
  await appended;
  const rest = await log.listAuditEvents(last === undefined ? {} : { after: last });
  seen.push(...rest.items.map((e) => e.reason));
  return seen.sort();
}
