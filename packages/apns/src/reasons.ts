/**
 * Whether an APNs answer may succeed when sent again later: throttling and server-side failures are
 * transient; every other 4xx describes the token, topic, certificate or payload and is terminal.
 */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Reasons that mean the device token is no longer valid: stop pushing to it. */
export const UNREACHABLE_REASONS: ReadonlySet<string> = new Set([
  'BadDeviceToken',
  'Unregistered',
  'ExpiredToken',
  'DeviceTokenNotForTopic',
]);
