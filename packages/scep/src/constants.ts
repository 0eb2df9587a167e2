/** SCEP signed-attribute OIDs (RFC 8894 section 3.2.1). */
export const ScepOid = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
  failInfoText: '1.3.6.1.5.5.7.24.1',
} as const;

/** pkiMessage types, by name, with their wire values (decimal numbers in a PrintableString). */
export const MessageType = {
  CertRep: 3,
  RenewalReq: 17,
  PKCSReq: 19,
  CertPoll: 20,
  GetCert: 21,
  GetCRL: 22,
} as const;
/** One of the {@link MessageType} names. */
export type MessageTypeName = keyof typeof MessageType;

/** pkiStatus values. */
export const PkiStatus = { SUCCESS: 0, FAILURE: 2, PENDING: 3 } as const;
/** One of the {@link PkiStatus} names. */
export type PkiStatusName = keyof typeof PkiStatus;

/** failInfo values. */
export const FailInfo = { badAlg: 0, badMessageCheck: 1, badRequest: 2, badTime: 3, badCertId: 4 } as const;
/** One of the {@link FailInfo} names. */
export type FailInfoName = keyof typeof FailInfo;

/** The capabilities a GetCACaps answer can list (RFC 8894 section 3.5.2). */
export type ScepCapability =
  | 'AES'
  | 'DES3'
  | 'GetNextCACert'
  | 'POSTPKIOperation'
  | 'Renewal'
  | 'SHA-1'
  | 'SHA-256'
  | 'SHA-512'
  | 'SCEPStandard'
  | 'Update';

/** What GetCACaps advertises unless configured otherwise. */
export const DEFAULT_CAPABILITIES: readonly ScepCapability[] = Object.freeze([
  'POSTPKIOperation',
  'SHA-256',
  'SHA-512',
  'AES',
  'DES3',
  'Renewal',
  'SCEPStandard',
]);

/** HTTP content types used by SCEP. */
export const ContentType = {
  caCert: 'application/x-x509-ca-cert',
  caRaCert: 'application/x-x509-ca-ra-cert',
  nextCaCert: 'application/x-x509-next-ca-cert',
  pkiMessage: 'application/x-pki-message',
  caps: 'text/plain',
} as const;

/** Reverse lookups from wire values to names. */
export const messageTypeName = (n: number): MessageTypeName | undefined =>
  (Object.keys(MessageType) as MessageTypeName[]).find((k) => MessageType[k] === n);
export const pkiStatusName = (n: number): PkiStatusName | undefined =>
  (Object.keys(PkiStatus) as PkiStatusName[]).find((k) => PkiStatus[k] === n);
export const failInfoName = (n: number): FailInfoName | undefined =>
  (Object.keys(FailInfo) as FailInfoName[]).find((k) => FailInfo[k] === n);
