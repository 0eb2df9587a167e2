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
    const profile = buildEnrollmentProfile({
      signMessage: true,
      checkOutWhenRemoved: true,
      ...ctx.config.profile,
      serverUrl: ctx.serverUrl,
      ...(ctx.checkInUrl !== undefined ? { checkInUrl: ctx.checkInUrl } : {}),
      topic: ctx.topic(),
      scep: {
        url: ctx.scepUrl,
        challenge,
        subject: ctx.config.subject ?? [['CN', 'mdmkit device']],
        // SHA-1, the fingerprint length every OS version that reads CAFingerprint takes.
        caFingerprint: Buffer.from(ctx.scepCa().fingerprintSha1, 'hex'),
      },
    });
    const signed = await signProfile(encodeProfile(profile), {
      certificate: ctx.config.signer.certificate,
      privateKey: ctx.config.signer.privateKey,
      ...(ctx.config.signer.chain ? { chain: ctx.config.signer.chain } : {}),
    });
    ctx.emit({ type: 'enrollment-profile', challengeIssued: true });
    return { status: 200, headers: { 'content-type': PROFILE_CONTENT_TYPE }, body: signed };
  };
}
