/** APNs environment: `production` for App Store/enterprise-signed MDM certificates, `development` for sandbox. */
export type ApnsEnvironment = 'production' | 'development';

/** Host names of APNs' provider API. */
export const APNS_HOSTS: Readonly<Record<ApnsEnvironment, string>> = Object.freeze({
  production: 'api.push.apple.com',
  development: 'api.sandbox.push.apple.com',
});

/**
 * The origin to connect to. `alternatePort` selects port 2197, which APNs offers for networks that
 * block outbound 443.
 */
export function apnsOrigin(environment: ApnsEnvironment = 'production', alternatePort = false): string {
  return `https://${APNS_HOSTS[environment]}${alternatePort ? ':2197' : ''}`;
}
