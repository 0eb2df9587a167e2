import type { Certificate, Signer } from '@mdmkit/crypto';
import type { KeyObject } from 'node:crypto';
import type { HttpRequest, HttpResponse } from '@mdmkit/http';
import {
  buildEnrollmentProfile,
  type EnrollmentProfileOptions,
  encodeProfile,
  signProfile,
  type SubjectInput,
} from '@mdmkit/profiles';
import type { OneTimeChallenges } from '@mdmkit/scep';
import { ServerError } from './errors';
import type { MdmEventListener } from './events';

/** What is served to a device (or user) asking for the enrollment profile. */
export interface EnrollmentProfileConfig {
  /** Signs the profile, so the device shows it as verified. */
  signer: { certificate: Certificate; privateKey: KeyObject | Signer; chain?: readonly Certificate[] };
  /**
   * Decides who gets a profile (an enrollment token in the query, a session cookie, …). Return false
   * to answer 403. Without it anyone who can reach the URL gets one — each with its own one-time
   * SCEP challenge, so a copied profile enrolls at most one device.
   */
  authorize?: (request: HttpRequest) => boolean | Promise<boolean>;
  /** Subject of the identity certificate the device requests. Default `CN=mdmkit device`. */
  subject?: SubjectInput;
  /** Lifetime of each one-time challenge, in seconds. Default 3600. */
  challengeTtlSeconds?: number;
  /** Further options passed to `buildEnrollmentProfile` (display name, access rights, anchors, …). */
  profile?: Partial<Omit<EnrollmentProfileOptions, 'serverUrl' | 'checkInUrl' | 'topic' | 'scep' | 'acme'>>;
}

/** @internal */
export interface EnrollmentHandlerContext {
  config: EnrollmentProfileConfig;
  serverUrl: string;
  checkInUrl: string | undefined;
  scepUrl: string;
  topic: () => string;
  scepCa: () => Certificate;
  challenges: OneTimeChallenges;
  emit: MdmEventListener;
}

const PROFILE_CONTENT_TYPE = 'application/x-apple-aspen-config';

/** What an MDM profile with a SCEP identity is built from. @internal */
export interface IdentityProfileContext {
  serverUrl: string;
  checkInUrl: string | undefined;
  scepUrl: string;
  topic: () => string;
  scepCa: () => Certificate;
  profile?: EnrollmentProfileConfig['profile'];
  signer?: EnrollmentProfileConfig['signer'];
}

/**
 * The MDM profile (SCEP identity + MDM payload) this server hands out, signed when a signer is
 * configured. The enrollment profile and the identity-renewal profile are the same profile with
 * another challenge and subject, so a renewal replaces the installed MDM profile in place. @internal
 *
 * @example
 * ```ts
 * const bytes = await buildIdentityProfile(ctx, challenge, [['CN', 'mdmkit device']]);
 * ```
 */
export async function buildIdentityProfile(
  ctx: IdentityProfileContext,
  challenge: string,
  subject: SubjectInput,
): Promise<Uint8Array> {
  const profile = buildEnrollmentProfile({
    signMessage: true,
    checkOutWhenRemoved: true,
    ...ctx.profile,
    serverUrl: ctx.serverUrl,
    ...(ctx.checkInUrl !== undefined ? { checkInUrl: ctx.checkInUrl } : {}),
    topic: ctx.topic(),
    scep: {
      url: ctx.scepUrl,
      challenge,
      subject,
      // SHA-1, the fingerprint length every OS version that reads CAFingerprint takes.
      caFingerprint: Buffer.from(ctx.scepCa().fingerprintSha1, 'hex'),
    },
  });
  const encoded = encodeProfile(profile);
  if (!ctx.signer) return encoded;
  return signProfile(encoded, {
    certificate: ctx.signer.certificate,
    privateKey: ctx.signer.privateKey,
    ...(ctx.signer.chain ? { chain: ctx.signer.chain } : {}),
  });
}

/**
 * The PayloadIdentifier of the MDM profile this server hands out: what RemoveProfile names to
 * unenroll a device. @internal
 *
 * @example
 * ```ts
 * mdmProfileIdentifier(ctx); // 'com.example.mdm.enrollment'
 * ```
 */
export function mdmProfileIdentifier(ctx: IdentityProfileContext): string {
  return buildEnrollmentProfile({
    ...ctx.profile,
    serverUrl: ctx.serverUrl,
    topic: ctx.topic(),
    scep: { url: ctx.scepUrl, challenge: 'unused', subject: [['CN', 'unused']] },
  }).PayloadIdentifier as string;
}

/**
 * Serves a freshly built, signed enrollment profile with its own one-time challenge. @internal
 *
 * @example
 * ```ts
 * const serve = enrollmentHandler({ config: { signer }, serverUrl, checkInUrl: undefined, scepUrl, topic: () => topic, scepCa: () => ca, challenges, emit });
 * const response = await serve(request); // 200, application/x-apple-aspen-config
 * ```
 */
export function enrollmentHandler(
  ctx: EnrollmentHandlerContext,
): (request: HttpRequest) => Promise<HttpResponse> {
  return async (request) => {
    if (ctx.config.authorize && !(await ctx.config.authorize(request))) {
      throw new ServerError('ENROLLMENT_REFUSED', 'not authorized to enroll');
    }
    const challenge = await ctx.challenges.issue(ctx.config.challengeTtlSeconds ?? 3600);
    const signed = await buildIdentityProfile(
      { ...ctx, profile: ctx.config.profile, signer: ctx.config.signer },
      challenge,
      ctx.config.subject ?? [['CN', 'mdmkit device']],
    );
    ctx.emit({ type: 'enrollment-profile', challengeIssued: true });
    return { status: 200, headers: { 'content-type': PROFILE_CONTENT_TYPE }, body: signed };
  };
}
