import type { Certificate } from '@mdmkit/crypto';
import {
  buildProfile,
  mcxFileVault2Payload,
  mcxPayload,
  newUuid,
  type ProfileDict,
  securityFDERecoveryKeyEscrowPayload,
  securityPkcs1Payload,
} from '@mdmkit/profiles';

/** Options of {@link fileVaultProfile}. */
export interface FileVaultProfileOptions {
  /** The profile's PayloadIdentifier, e.g. `com.example.filevault`. */
  identifier: string;
  /** The escrow certificate (from `EscrowKeyring.current()`); the Mac encrypts its recovery key to it. */
  escrowCertificate: Certificate;
  /** Text shown to the user about where the key is kept, e.g. your organisation's name. */
  location: string;
  /**
   * How many logins the user may skip before FileVault is turned on at login (0 = at the next one;
   * -1 = ask at logout only). Default 0.
   */
  maxBypassAttempts?: number;
  /** Add the setting that stops users from turning FileVault off. Default true. */
  preventDisable?: boolean;
  /** Show the new recovery key to the user. Default false (it is escrowed). */
  showRecoveryKey?: boolean;
  displayName?: string;
  organization?: string;
}

/**
 * The FileVault enforcement profile: the escrow certificate (`com.apple.security.pkcs1`), recovery-key
 * escrow (`com.apple.security.FDERecoveryKeyEscrow`, pointing at that certificate), FileVault
 * (`com.apple.MCX.FileVault2`, deferred to the user's login) and, unless turned off, `com.apple.MCX`
 * with `dontAllowFDEDisable`. Every payload is validated by `@mdmkit/profiles`' generated builders.
 *
 * @see https://developer.apple.com/documentation/devicemanagement/fderecoverykeyescrow
 * @see https://developer.apple.com/documentation/devicemanagement/filevault2
 * @example
 * ```ts
 * const profile = fileVaultProfile({ identifier: 'com.example.filevault', escrowCertificate: certificate, location: 'Example IT' });
 * const bytes = encodeProfile(profile); // then sign it and send InstallProfile
 * ```
 */
export function fileVaultProfile(options: FileVaultProfileOptions): ProfileDict {
  const certUuid = newUuid();
  const payloads = [
    securityPkcs1Payload(
      { PayloadContent: options.escrowCertificate.der, PayloadCertificateFileName: 'filevault-escrow.cer' },
      { uuid: certUuid, identifier: `${options.identifier}.escrow-certificate` },
    ),
    securityFDERecoveryKeyEscrowPayload({ Location: options.location, EncryptCertPayloadUUID: certUuid }),
    mcxFileVault2Payload({
      Enable: 'On',
      Defer: true,
      DeferForceAtUserLoginMaxBypassAttempts: options.maxBypassAttempts ?? 0,
      UseRecoveryKey: true,
      ShowRecoveryKey: options.showRecoveryKey ?? false,
    }),
    ...(options.preventDisable === false ? [] : [mcxPayload({ dontAllowFDEDisable: true })]),
  ];
  return buildProfile({
    identifier: options.identifier,
    payloads,
    displayName: options.displayName ?? 'FileVault',
    ...(options.organization !== undefined && { organization: options.organization }),
    scope: 'System',
  });
}
